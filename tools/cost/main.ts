/*
 * Cost report CLI: monthly cost of an environment's lanes at idle, baseline and
 * max, as Markdown on stdout and in apps/<env>/cdktf.out/cost.md.
 *
 *   node tools/run-app.cjs tools/cost/main.ts --environment production [--out <file>]
 *
 * Run from the workspace root (`nx run <env>:cost` does). Exit codes: 0 written,
 * 1 the environment file is invalid or its region has no prices, 2 usage error.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { ConfigError, loadEnvironment } from '@queue-lanes/config';
import { environmentArgs } from '../cli';
import { CostError, estimateCost } from './estimate';
import { renderReport } from './report';

const USAGE =
  'usage: node tools/run-app.cjs tools/cost/main.ts --environment <name> [--out <file>]\n' +
  '  --out defaults to apps/<name>/cdktf.out/cost.md';

function main(argv: string[], root: string): number {
  const args = environmentArgs('cost', USAGE, argv, ['out']);
  if (typeof args === 'number') return args;
  const name = args.environment;
  const values = args.options;

  let markdown: string;
  try {
    const file = `environments/${name}.yaml`;
    markdown = renderReport(estimateCost(loadEnvironment(join(root, file), file)));
  } catch (error) {
    if (error instanceof ConfigError || error instanceof CostError) {
      process.stderr.write(`${error.message}\n${name}: no cost report written\n`);
      return 1;
    }
    throw error;
  }
  const out = resolve(root, values.out ?? join('apps', name, 'cdktf.out', 'cost.md'));
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, markdown);
  process.stdout.write(markdown);
  const shown = relative(root, out);
  process.stderr.write(`cost: written to ${shown.startsWith('..') ? out : shown}\n`);
  return 0;
}

try {
  process.exitCode = main(process.argv.slice(2), process.cwd());
} catch (error) {
  process.stderr.write(`cost: unexpected error: ${(error as Error).message}\n`);
  process.exitCode = 2;
}
