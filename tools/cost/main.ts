/*
 * Cost report CLI: monthly cost of an environment's lanes at idle, baseline and
 * max, as Markdown on stdout and in apps/<env>/cdktf.out/cost.md.
 *
 *   node tools/run-app.cjs tools/cost/main.ts --environment production [--out <file>]
 *
 * Run from the workspace root (`nx run <env>:cost` does). Exit codes: 0 written,
 * 1 the environment file is invalid or its region has no prices, 2 usage error.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { ConfigError, STACK_ROLES, loadEnvironment, stackName, type EnvironmentConfig } from '@queue-lanes/config';
import { environmentArgs, runTool } from '../cli';
import { CostError, estimateCost, synthesizedAlarms } from './estimate';
import { renderReport } from './report';

const USAGE =
  'usage: node tools/run-app.cjs tools/cost/main.ts --environment <name> [--out <file>]\n' +
  '  --out defaults to apps/<name>/cdktf.out/cost.md';

/** Every stack's cdk.tf.json as synth wrote it under apps/<env>/cdktf.out. */
function readSynthesizedStacks(root: string, env: EnvironmentConfig): unknown[] {
  return STACK_ROLES.map((role) => {
    const file = join('apps', env.environment, 'cdktf.out', 'stacks', stackName(env, role), 'cdk.tf.json');
    if (!existsSync(join(root, file))) {
      throw new CostError(
        `${file} does not exist: the report counts the alarms synth creates, so synthesize first (npx nx run ${env.environment}:synth)`,
      );
    }
    return JSON.parse(readFileSync(join(root, file), 'utf8')) as unknown;
  });
}

function main(argv: string[], root: string): number {
  const args = environmentArgs('cost', USAGE, argv, ['out']);
  if (typeof args === 'number') return args;
  const name = args.environment;
  const values = args.options;

  let markdown: string;
  try {
    const file = `environments/${name}.yaml`;
    const env = loadEnvironment(join(root, file), file);
    markdown = renderReport(estimateCost(env, synthesizedAlarms(readSynthesizedStacks(root, env))));
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

runTool('cost', () => main(process.argv.slice(2), process.cwd()));
