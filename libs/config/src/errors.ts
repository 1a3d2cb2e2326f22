/** One thing wrong with an environment file, located for the person who fixes it. */
export interface Problem {
  /** The file as the user should see it, e.g. environments/production.yaml. */
  readonly file: string;
  /** 1-based line and column; absent when the problem is the file itself (missing, unreadable). */
  readonly line?: number;
  readonly column?: number;
  /** Dotted key path, e.g. lanes.image.tasks.max; empty for the whole file. */
  readonly path: string;
  /** What is wrong and what would be valid. */
  readonly message: string;
}

export function formatProblem(p: Problem): string {
  const where = p.line === undefined ? p.file : `${p.file}:${p.line}:${p.column ?? 1}`;
  return p.path ? `${where} ${p.path}: ${p.message}` : `${where} ${p.message}`;
}

/**
 * Thrown when an environment file cannot be used. It carries every problem
 * found, not just the first, so one synth run lists all that needs fixing.
 */
export class ConfigError extends Error {
  readonly problems: readonly Problem[];

  constructor(problems: readonly Problem[]) {
    super(problems.map(formatProblem).join('\n'));
    this.name = 'ConfigError';
    this.problems = problems;
  }
}

/** Dotted path as users write it: lanes.image.queues[0]. */
export function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const seg of path) {
    if (typeof seg === 'number') out += `[${seg}]`;
    else out += out ? `.${String(seg)}` : String(seg);
  }
  return out;
}

/**
 * A limit a construct finds that the schema cannot (a size AWS enforces on what
 * synth generates), raised with the key of the environment file that causes it,
 * so the app reports it at that key's file:line like any other problem.
 */
export class SettingError extends Error {
  readonly path: readonly (string | number)[];

  constructor(path: readonly (string | number)[], message: string) {
    super(`${formatPath(path)}: ${message}`);
    this.name = 'SettingError';
    this.path = path;
  }
}
