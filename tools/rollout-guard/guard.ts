/*
 * The rollout guard: compares environments/<env>.yaml at a base git ref with the
 * working tree and reports each lane's change, and each change outside the lanes, in
 * one line, failing when the change breaks the rollout policy (see compare.ts and
 * docs/operations.md).
 * Returns its output instead of printing it, so tests call it as a function.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { isMap, isScalar, LineCounter, parseDocument, type Node } from 'yaml';
import { ConfigError, NAME_PATTERN, formatProblem, parseEnvironment } from '@queue-lanes/config';
import { compareSides, sideFromConfig, sideFromInvalidText, type EnvironmentSide, type Violation } from './compare';
import { assertRepository, GitError, readAtCommit, resolveBase, type BaseRef } from './git';

export interface GuardOptions {
  /** The workspace root (holds environments/); git runs here. */
  readonly root: string;
  /** The environment's name: environments/<name>.yaml. */
  readonly environment: string;
  /** The base ref; defaults to env NX_BASE, then origin/main, then main. */
  readonly base?: string;
  /**
   * Environment for NX_BASE and for the git processes.
   * @default process.env
   */
  readonly env?: NodeJS.ProcessEnv;
}

/** 0: within the policy; 1: a rule is broken or the working-tree file is invalid; 2: usage or git error. */
export type GuardExitCode = 0 | 1 | 2;

export interface GuardResult {
  readonly exitCode: GuardExitCode;
  /**
   * The summary, one line per changed lane (or "no lane changes"), then one per changed
   * setting outside the lanes (redis.retryAfter, fleet.maxTasks, state.*): stdout, fit for a pull-request comment.
   */
  readonly summary: readonly string[];
  /** Where the comparison came from, warnings, violations and errors: stderr. */
  readonly messages: readonly string[];
  /** The violations found (also formatted in messages). */
  readonly violations: readonly Violation[];
  /** The base commit compared against, when one was resolved. */
  readonly base?: BaseRef;
}

export function runGuard(options: GuardOptions): GuardResult {
  const env = options.env ?? process.env;
  const name = options.environment;
  const file = `environments/${name}.yaml`;
  const fail = (exitCode: GuardExitCode, messages: string[], base?: BaseRef): GuardResult => ({
    exitCode,
    summary: [],
    messages,
    violations: [],
    base,
  });

  if (!NAME_PATTERN.test(name)) {
    return fail(2, [`"${name}" is not an environment name (lower-case letters, digits and dashes)`]);
  }
  const headFile = join(options.root, file);
  if (!existsSync(headFile)) {
    return fail(2, [`${file} not found in ${options.root}${known(options.root)}`]);
  }

  let base: BaseRef;
  let baseText: string | undefined;
  try {
    assertRepository(options.root, env);
    base = resolveBase(options.root, env, options.base);
    baseText = readAtCommit(options.root, env, base.sha, file);
  } catch (error) {
    if (error instanceof GitError) return fail(2, [`rollout guard: ${error.message}`]);
    throw error;
  }

  const baseName = `${base.ref}:${file}`;
  const messages = [`rollout guard: ${file}, working tree against ${base.ref} (${base.sha.slice(0, 12)})`];
  const headText = readFileSync(headFile, 'utf8');
  let head: EnvironmentSide;
  try {
    head = sideFromConfig(parseEnvironment(headText, file));
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    return fail(
      1,
      [...messages, ...error.message.split('\n'), `${name}: ${file} is invalid; fix it, then the rollout rules are checked`],
      base,
    );
  }

  let baseSide: EnvironmentSide | undefined;
  if (baseText === undefined) {
    messages.push(`${file} does not exist at ${base.ref}: every lane is new`);
  } else {
    try {
      baseSide = sideFromConfig(parseEnvironment(baseText, baseName));
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error;
      baseSide = sideFromInvalidText(baseText);
      messages.push(
        `warning: the base version ${baseName} is invalid; ${
          baseSide ? "only its lanes' stages are compared" : 'it cannot be read, so nothing is compared'
        }:`,
        ...error.message.split('\n').map((line) => `  ${line}`),
      );
      if (!baseSide) {
        return {
          exitCode: 0,
          summary: ['no comparison: the base version could not be read'],
          messages,
          violations: [],
          base,
        };
      }
    }
  }

  const comparison = compareSides(baseSide, head);
  const summary = [...(comparison.laneLines.length ? comparison.laneLines : ['no lane changes']), ...comparison.environmentLines];
  const locate = locator(headText);
  for (const v of comparison.violations) {
    const { line, column, path } = locate(v.path);
    messages.push(`${formatProblem({ file, line, column, path, message: v.message })} [${v.rule}]`);
  }
  if (comparison.violations.length > 0) {
    const n = comparison.violations.length;
    messages.push(`${name}: ${n} rollout rule${n === 1 ? '' : 's'} broken; see "Rollout guard" in docs/operations.md`);
  }
  return {
    exitCode: comparison.violations.length > 0 ? 1 : 0,
    summary,
    messages,
    violations: comparison.violations,
    base,
  };
}

function known(root: string): string {
  const dir = join(root, 'environments');
  if (!existsSync(dir)) return ' (run the guard from the workspace root)';
  const names = readdirSync(dir)
    .filter((f) => f.endsWith('.yaml'))
    .map((f) => f.slice(0, -'.yaml'.length))
    .sort();
  return names.length ? `; environments here: ${names.join(', ')}` : '';
}

/**
 * Finds a key path's line and column in the head file (a scalar's value, else
 * its key), falling back to the nearest ancestor written in the file: a stage
 * left at its default points at the lane, a removed lane at `lanes`.
 */
function locator(text: string): (path: readonly string[]) => { line?: number; column?: number; path: string } {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter });
  return (path) => {
    for (let i = path.length; i > 0; i--) {
      const parent = i === 1 ? doc.contents : doc.getIn(path.slice(0, i - 1), true);
      if (!isMap(parent)) continue;
      const pair = parent.items.find((p) => isScalar(p.key) && p.key.value === path[i - 1]);
      const node = (isScalar(pair?.value) ? pair.value : pair?.key) as Node | undefined;
      if (node?.range) {
        const { line, col } = lineCounter.linePos(node.range[0]);
        return { line, column: col, path: path.join('.') };
      }
    }
    return { path: path.join('.') };
  };
}
