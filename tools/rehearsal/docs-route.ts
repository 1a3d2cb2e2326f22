import { clusterName, type EnvironmentConfig } from '@queue-lanes/config';
import { commandBlocks, documentationPages, type CommandBlock } from '../docs/commands';

/*
 * README's deploy route as the rehearsal runs it (tools/rehearsal/rehearse-docs-route.ts):
 * the ```sh aws deploy and ```sh aws diff blocks, the same text the docs test checks,
 * run by bash through the cdktf CLI. The blocks are written for production; for another
 * environment its app folder and stack names stand in for production's. Two flags are
 * added, by a shell function, not by editing the text: --auto-approve (nobody answers
 * cdktf's question) and --skip-provider-lock (the provider comes from the rehearsal's
 * mirror, which cdktf's lock step ignores), as README says to for a mirror.
 */

/** The environment README's blocks are written for. */
const DOCUMENTED = { app: 'propertyfeed', environment: 'production' } as const;

export interface RouteBlocks {
  readonly deploy: CommandBlock;
  readonly diff: CommandBlock;
}

/** README's deploy and diff blocks; throws when README lacks one (the docs test then fails too). */
export function routeBlocks(root: string): RouteBlocks {
  const blocks = documentationPages(root)
    .filter((page) => page.file === 'README.md')
    .flatMap(({ file, text }) => commandBlocks(file, text));
  const find = (step: string) => {
    const found = blocks.filter((b) => b.where === 'aws' && b.step === step);
    if (found.length !== 1)
      throw new Error(`README.md has ${found.length} \`\`\`sh aws ${step} blocks; the deploy route needs exactly one`);
    return found[0];
  };
  return { deploy: find('deploy'), diff: find('diff') };
}

/** A block's script for `env`: its app folder and stack names for production's. */
export function forEnvironment(script: string, env: Pick<EnvironmentConfig, 'app' | 'environment'>): string {
  return script
    .replaceAll(`apps/${DOCUMENTED.environment}`, `apps/${env.environment}`)
    .replaceAll(clusterName(DOCUMENTED), clusterName(env));
}

/** The diff block for one stack: the documented stack's name replaced by `stack`. */
export function diffFor(script: string, stack: string): string {
  const named = /npx cdktf diff (\S+)/.exec(script);
  if (!named) throw new Error(`the diff block runs no \`npx cdktf diff <stack>\`:\n${script}`);
  return script.replace(named[0], `npx cdktf diff ${stack}`);
}

/**
 * The script bash runs: the flags the route needs unattended and from a mirror, added by
 * an `npx` function, then the block as written.
 */
export function routeScript(block: string): string {
  return [
    'set -euo pipefail',
    'npx() {',
    '  if [[ "${1:-}" == cdktf && ( "${2:-}" == deploy || "${2:-}" == destroy ) ]]; then command npx "$@" --auto-approve --skip-provider-lock',
    '  elif [[ "${1:-}" == cdktf && "${2:-}" == diff ]]; then command npx "$@" --skip-provider-lock',
    '  else command npx "$@"; fi',
    '}',
    block,
    '',
  ].join('\n');
}

/** Whether a `cdktf diff` printed the engine's "No changes." for its stack. */
export function planIsClean(output: string): boolean {
  return /No changes\. Your infrastructure matches the configuration\./.test(output.replace(/\u001b\[[0-9;]*m/g, ''));
}
