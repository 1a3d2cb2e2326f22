import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, rmSync, symlinkSync } from 'node:fs';
import { dirname, join } from 'node:path';

export interface ScratchCheckoutOptions {
  /** Environments left out (their file and app), for a test that creates one the working tree may already have. */
  readonly withoutEnvironments?: readonly string[];
}

/**
 * The working tree at `dir` as a clone would see it: tracked and new files, nothing
 * git ignores (outputs, state, caches), with node_modules and .venv linked, not
 * copied. For the tests that run the workspace's own commands somewhere else.
 */
export function scratchCheckout(root: string, dir: string, options: ScratchCheckoutOptions = {}): string {
  const files = execFileSync('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], { cwd: root, encoding: 'utf8' })
    .split('\0')
    .filter((f) => f && existsSync(join(root, f)));
  for (const file of files) {
    mkdirSync(dirname(join(dir, file)), { recursive: true });
    cpSync(join(root, file), join(dir, file));
  }
  for (const link of ['node_modules', '.venv']) if (existsSync(join(root, link))) symlinkSync(join(root, link), join(dir, link));
  for (const name of options.withoutEnvironments ?? []) {
    rmSync(join(dir, 'environments', `${name}.yaml`), { force: true });
    rmSync(join(dir, 'apps', name), { recursive: true, force: true });
  }
  return dir;
}
