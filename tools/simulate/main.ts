/*
 * `nx run <env>:simulate`: the environment's lanes, Redis and SQS, every stage taken as
 * scaled, through the standard workloads with the real backlog controller, beside
 * the perfect-foresight bound (libs/simulator). Prints a Markdown table, and writes
 * one SVG chart per workload and lane (backlog, desired, running) to
 * apps/<env>/cdktf.out/simulation/, or --charts <dir>.
 *
 *   node tools/run-app.cjs tools/simulate/main.ts <env> [--lane <lane>] [--workload <name>] [--wake] [--charts <dir>]
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { ConfigError, loadEnvironment } from '@queue-lanes/config';
import { renderChart, renderTable } from '@queue-lanes/simulator';
import { simulateEnvironment } from './environment';

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  const flag = (key: string) => {
    const at = rest.indexOf(key);
    return at === -1 ? undefined : rest[at + 1];
  };
  if (!name || name.startsWith('-')) {
    process.stderr.write(
      'usage: node tools/run-app.cjs tools/simulate/main.ts <env> [--lane <lane>] [--workload <name>] [--wake] [--charts <dir>]\n',
    );
    return 2;
  }
  try {
    const root = join(__dirname, '..', '..');
    const env = loadEnvironment(join(root, 'environments', `${name}.yaml`), `environments/${name}.yaml`);
    const results = await simulateEnvironment(env, { lane: flag('--lane'), workload: flag('--workload'), wake: rest.includes('--wake') });
    if (results.length === 0) throw new Error(`no workload "${flag('--workload')}"`);
    process.stdout.write(`${renderTable(results)}\n`);
    const charts = resolve(root, flag('--charts') ?? join('apps', name, 'cdktf.out', 'simulation'));
    mkdirSync(charts, { recursive: true });
    for (const result of results) {
      for (const lane of result.lanes) writeFileSync(join(charts, `${result.workload}-${lane.lane}.svg`), renderChart(result, lane.lane));
    }
    process.stderr.write(`simulate: charts in ${relative(root, charts) || '.'}\n`);
    return 0;
  } catch (error) {
    process.stderr.write(`simulate: ${error instanceof ConfigError ? error.message : (error as Error).message}\n`);
    return 1;
  }
}

void main(process.argv.slice(2)).then((code) => (process.exitCode = code));
