/*
 * Runbook CLI: the environment's runbook as it is configured now, Markdown on stdout.
 *
 *   node tools/run-app.cjs tools/runbook/main.ts --environment production
 *
 * Run from the workspace root (`nx run <env>:runbook` does). Exit codes: 0 printed,
 * 1 the environment file is invalid, 2 usage error.
 */
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { ConfigError, loadEnvironment } from '@queue-lanes/config';
import { renderRunbook } from './runbook';

const USAGE = 'usage: node tools/run-app.cjs tools/runbook/main.ts --environment <name>';

function main(argv: string[], root: string): number {
  let values: { environment?: string; help?: boolean };
  try {
    ({ values } = parseArgs({
      args: argv,
      options: { environment: { type: 'string', short: 'e' }, help: { type: 'boolean', short: 'h' } },
      strict: true,
      allowPositionals: false,
    }));
  } catch (error) {
    process.stderr.write(`runbook: ${(error as Error).message}\n${USAGE}\n`);
    return 2;
  }
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const name = values.environment;
  if (!name || !/^[a-z]([a-z0-9-]*[a-z0-9])?$/.test(name)) {
    process.stderr.write(`runbook: ${name ? `"${name}" is not an environment name` : '--environment is required'}\n${USAGE}\n`);
    return 2;
  }
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

try {
  process.exitCode = main(process.argv.slice(2), process.cwd());
} catch (error) {
  process.stderr.write(`runbook: unexpected error: ${(error as Error).message}\n`);
  process.exitCode = 2;
}
