/*
 * The few git reads the rollout guard needs: which commit is the base, and an
 * environment file's text at that commit. Every failure is a GitError with a
 * message for the person running the guard (exit code 2), never a stack trace.
 */
import { spawnSync } from 'node:child_process';

export class GitError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'GitError';
  }
}

/** Where the base ref came from, for messages. */
export type BaseSource = '--base' | 'NX_BASE' | 'default';

export interface BaseRef {
  /** As given (or chosen): origin/main, main, a SHA. */
  readonly ref: string;
  readonly sha: string;
  readonly source: BaseSource;
}

interface GitRun {
  readonly status: number;
  readonly stdout: string;
  readonly stderr: string;
}

function git(cwd: string, env: NodeJS.ProcessEnv, args: readonly string[]): GitRun {
  const run = spawnSync('git', args, { cwd, env, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  if (run.error) {
    const code = (run.error as NodeJS.ErrnoException).code;
    throw new GitError(code === 'ENOENT' ? 'git is not installed or not on PATH' : `git ${args[0]} failed: ${run.error.message}`);
  }
  return { status: run.status ?? 1, stdout: run.stdout, stderr: run.stderr.trim() };
}

/** Fails unless `cwd` is inside a git work tree. */
export function assertRepository(cwd: string, env: NodeJS.ProcessEnv): void {
  const run = git(cwd, env, ['rev-parse', '--is-inside-work-tree']);
  if (run.status !== 0 || run.stdout.trim() !== 'true') {
    throw new GitError(`${cwd} is not inside a git work tree${run.stderr ? ` (${firstLine(run.stderr)})` : ''}`);
  }
}

function commitOf(cwd: string, env: NodeJS.ProcessEnv, ref: string): string | undefined {
  // A ref starting with "-" would be read as an option.
  if (ref.startsWith('-')) return undefined;
  const run = git(cwd, env, ['rev-parse', '--verify', '--quiet', `${ref}^{commit}`]);
  return run.status === 0 ? run.stdout.trim() : undefined;
}

/**
 * The base commit: `--base`, else NX_BASE, else origin/main, falling back to main.
 */
export function resolveBase(cwd: string, env: NodeJS.ProcessEnv, explicit?: string): BaseRef {
  const given = explicit ?? (env.NX_BASE || undefined);
  if (given !== undefined) {
    const source: BaseSource = explicit !== undefined ? '--base' : 'NX_BASE';
    const sha = commitOf(cwd, env, given);
    if (!sha) {
      const from = source === '--base' ? '' : ' (from NX_BASE)';
      throw new GitError(`base ref "${given}"${from} is not a commit in this repository${shallowHint(cwd, env)}`);
    }
    return { ref: given, sha, source };
  }
  for (const ref of ['origin/main', 'main']) {
    const sha = commitOf(cwd, env, ref);
    if (sha) return { ref, sha, source: 'default' };
  }
  throw new GitError(
    `no base ref: neither origin/main nor main exists in this repository; pass --base <ref> or set NX_BASE${shallowHint(cwd, env)}`,
  );
}

function shallowHint(cwd: string, env: NodeJS.ProcessEnv): string {
  const run = git(cwd, env, ['rev-parse', '--is-shallow-repository']);
  return run.stdout.trim() === 'true' ? '; this is a shallow clone, so fetch the history first (actions/checkout with fetch-depth: 0)' : '';
}

/**
 * The text of `path` (relative to `cwd`) at commit `sha`, or undefined when the
 * file does not exist there.
 */
export function readAtCommit(cwd: string, env: NodeJS.ProcessEnv, sha: string, path: string): string | undefined {
  const spec = `${sha}:./${path}`;
  if (git(cwd, env, ['cat-file', '-e', spec]).status !== 0) return undefined;
  const run = git(cwd, env, ['show', spec]);
  if (run.status !== 0) throw new GitError(`git show ${spec} failed: ${firstLine(run.stderr)}`);
  return run.stdout;
}

function firstLine(text: string): string {
  return text.split('\n')[0];
}
