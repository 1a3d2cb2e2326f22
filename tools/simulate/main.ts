/*
 * `nx run <env>:simulate`: the environment's Redis lanes, every stage taken as
 * scaled, through the standard workloads with the real backlog controller, beside
 * the perfect-foresight bound (libs/simulator). Prints a Markdown table.
 *
 *   node tools/run-app.cjs tools/simulate/main.ts <env> [--lane <lane>] [--workload <name>] [--wake]
 */
import { join } from 'node:path';
import { ConfigError, loadEnvironment } from '@queue-lanes/config';
import { renderTable } from '@queue-lanes/simulator';
import { simulateEnvironment } from './environment';

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  const flag = (key: string) => {
    const at = rest.indexOf(key);
    return at === -1 ? undefined : rest[at + 1];
  };
  if (!name || name.startsWith('-')) {
    process.stderr.write('usage: node tools/run-app.cjs tools/simulate/main.ts <env> [--lane <lane>] [--workload <name>] [--wake]\n');
    return 2;
  }
  try {
    const root = join(__dirname, '..', '..');
    const env = loadEnvironment(join(root, 'environments', `${name}.yaml`), `environments/${name}.yaml`);
    const results = await simulateEnvironment(env, { lane: flag('--lane'), workload: flag('--workload'), wake: rest.includes('--wake') });
    if (results.length === 0) throw new Error(`no workload "${flag('--workload')}"`);
    process.stdout.write(`${renderTable(results)}\n`);
    return 0;
  } catch (error) {
    process.stderr.write(`simulate: ${error instanceof ConfigError ? error.message : (error as Error).message}\n`);
    return 1;
  }
}

void main(process.argv.slice(2)).then((code) => (process.exitCode = code));
