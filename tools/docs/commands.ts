/*
 * The shell commands of README.md and docs/*.md, as the docs test reads them.
 * A block's fence says where it runs:
 *   ```sh        offline, here, in seconds: the docs test runs it as written
 *   ```sh aws    needs AWS credentials (or Terraform Cloud): checked, not run
 *   ```sh host   on a web host or in the Laravel application: checked, not run
 *   ```sh slow   offline, but minutes long or timed (the test command, the
 *                rehearsal, benchmarks): checked, not run by the docs test
 * A third word names a block a tool runs as written: ```sh aws deploy and
 * ```sh aws diff are README's deploy route, which the rehearsal runs through the
 * cdktf CLI against moto (tools/rehearsal/docs-route.ts).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

export const WHERE = ['here', 'aws', 'host', 'slow'] as const;
export type Where = (typeof WHERE)[number];

export interface CommandBlock {
  /** README.md or docs/<page>.md */
  readonly file: string;
  /** 1-based line of the opening fence. */
  readonly line: number;
  readonly where: Where | string;
  /** The fence's third word, when a tool runs the block (`deploy`, `diff`). */
  readonly step?: string;
  readonly script: string;
}

/** Every sh/bash block of a Markdown text, indentation (list items) removed. */
export function commandBlocks(file: string, text: string): CommandBlock[] {
  const lines = text.split('\n');
  const blocks: CommandBlock[] = [];
  for (let i = 0; i < lines.length; i++) {
    const open = /^(\s*)```(\S*)\s*(\S*)\s*(\S*)\s*$/.exec(lines[i]);
    if (!open) continue;
    const [, indent, language, where, step] = open;
    let end = i + 1;
    while (end < lines.length && !/^\s*```\s*$/.test(lines[end])) end++;
    if (language === 'sh' || language === 'bash') {
      const script = lines
        .slice(i + 1, end)
        .map((l) => (l.startsWith(indent) ? l.slice(indent.length) : l))
        .join('\n');
      blocks.push({ file, line: i + 1, where: where || 'here', ...(step ? { step } : {}), script });
    }
    i = end;
  }
  return blocks;
}

/** The Markdown pages a user reads: README.md and docs/*.md. */
export function documentationPages(root: string): { file: string; text: string }[] {
  const docs = readdirSync(join(root, 'docs'))
    .filter((f) => f.endsWith('.md'))
    .sort()
    .map((f) => `docs/${f}`);
  return ['README.md', ...docs].map((file) => ({ file, text: readFileSync(join(root, file), 'utf8') }));
}

/** Each command of a script, comments and line continuations folded, one string each. */
export function commandsOf(script: string): string[] {
  return script
    .replace(/\\\n\s*/g, ' ')
    .split('\n')
    .map((line) => line.replace(/(^|\s)#.*$/, '').trim())
    .filter(Boolean)
    .flatMap((line) => line.split(/\s*(?:&&|;|\|\||\|)\s*/))
    .map((command) => command.replace(/^\(+|\)+$/g, '').trim())
    .filter(Boolean);
}
