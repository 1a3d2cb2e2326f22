/*
 * What the tools share on their command line: for the per-environment ones (cost,
 * runbook) `--environment <name>` and `--help`, a usage line on any mistake, exit code 2;
 * for every one, how its entry point ends on an error its main throws (runTool).
 */
import { parseArgs } from 'node:util';
import { NAME_PATTERN } from '@queue-lanes/config';

/**
 * The environment a tool was asked about, and its other string options; or the
 * exit code to return (0 after --help, 2 after a mistake), the message written.
 */
export function environmentArgs(
  tool: string,
  usage: string,
  argv: readonly string[],
  extra: readonly string[] = [],
): { environment: string; options: Record<string, string | undefined> } | number {
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({
      args: [...argv],
      options: {
        environment: { type: 'string', short: 'e' },
        help: { type: 'boolean', short: 'h' },
        ...Object.fromEntries(extra.map((name) => [name, { type: 'string' as const }])),
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (error) {
    process.stderr.write(`${tool}: ${(error as Error).message}\n${usage}\n`);
    return 2;
  }
  if (values.help) {
    process.stdout.write(`${usage}\n`);
    return 0;
  }
  const name = values.environment;
  if (typeof name !== 'string' || !NAME_PATTERN.test(name)) {
    process.stderr.write(
      `${tool}: ${typeof name === 'string' ? `"${name}" is not an environment name` : '--environment is required'}\n${usage}\n`,
    );
    return 2;
  }
  return { environment: name, options: Object.fromEntries(extra.map((key) => [key, values[key] as string | undefined])) };
}

/** How a tool ends when its main throws: which errors end in one line on stderr, and the exit code then. */
export interface ErrorExit {
  /** Whether the error ends in that line; any other is thrown on (a bug, with its stack trace). */
  readonly handles: (error: unknown) => boolean;
  /** Written between `<tool>: ` and the error's message. */
  readonly prefix: string;
  readonly exitCode: number;
}

/** Anything unexpected still ends with a message, not a stack trace, and exit code 2. */
export const UNEXPECTED_ERROR: ErrorExit = { handles: () => true, prefix: 'unexpected error: ', exitCode: 2 };

/**
 * A tool's entry point: runs its main (synchronous or not) and sets the process's
 * exit code to what main returns, or ends as `errorExit` says when main throws.
 */
export function runTool(tool: string, main: () => number | Promise<number>, errorExit: ErrorExit = UNEXPECTED_ERROR): void {
  const fail = (error: unknown) => {
    if (!errorExit.handles(error)) throw error;
    process.stderr.write(`${tool}: ${errorExit.prefix}${(error as Error).message}\n`);
    process.exitCode = errorExit.exitCode;
  };
  try {
    const code = main();
    if (typeof code === 'number') process.exitCode = code;
    else code.then((resolved) => (process.exitCode = resolved), fail);
  } catch (error) {
    fail(error);
  }
}
