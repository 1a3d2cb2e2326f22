/*
 * Runbook CLI: the environment's runbook as it is configured now, Markdown on stdout.
 *
 *   node tools/run-app.cjs tools/runbook/main.ts --environment production
 *
 * Run from the workspace root (`nx run <env>:runbook` does). Exit codes: 0 printed,
 * 1 the environment file is invalid, 2 usage error.
 */
import { join } from 'node:path';
import { ConfigError, loadEnvironment } from '@queue-lanes/config';
import { environmentArgs, runTool } from '../cli';
import { renderRunbook } from './runbook';

const USAGE = 'usage: node tools/run-app.cjs tools/runbook/main.ts --environment <name>';

function main(argv: string[], root: string): number {
  const args = environmentArgs('runbook', USAGE, argv);
  if (typeof args === 'number') return args;
  const name = args.environment;
  const file = `environments/${name}.yaml`;
  try {
    process.stdout.write(renderRunbook(loadEnvironment(join(root, file), file)));
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`${error.message}\n${name}: no runbook printed\n`);
      return 1;
    }
    throw error;
  }
  return 0;
}

runTool('runbook', () => main(process.argv.slice(2), process.cwd()));
