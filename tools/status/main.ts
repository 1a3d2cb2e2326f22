/*
 * The daily checks in one command, from AWS APIs only:
 *
 *   node tools/run-app.cjs tools/status/main.ts --environment production [--lane image] [--json]
 *
 * (`npx nx run production:status`, with the operator's AWS credentials for the
 * environment's account and region). Exit codes: 0 every lane healthy, 1 a lane is not
 * (or a read failed), 2 usage error or the environment file is invalid.
 */
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { ConfigError, NAME_PATTERN, loadEnvironment } from '@queue-lanes/config';
import { runTool } from '../cli';
import { awsClients, readStatus, renderStatus } from './status';

const USAGE = 'usage: node tools/run-app.cjs tools/status/main.ts --environment <name> [--lane <lane>] [--json]';

async function main(argv: string[], root: string): Promise<number> {
  let values: { environment?: string; lane?: string; json?: boolean };
  try {
    ({ values } = parseArgs({
      args: argv,
      options: { environment: { type: 'string' }, lane: { type: 'string' }, json: { type: 'boolean' } },
      strict: true,
    }));
  } catch (error) {
    process.stderr.write(`status: ${(error as Error).message}\n${USAGE}\n`);
    return 2;
  }
  if (!values.environment || !NAME_PATTERN.test(values.environment)) {
    process.stderr.write(`${USAGE}\n`);
    return 2;
  }
  const file = `environments/${values.environment}.yaml`;
  let env;
  try {
    env = loadEnvironment(join(root, file), file);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    process.stderr.write(`${error.message}\n`);
    return 2;
  }
  const lanes = values.lane ? env.lanes.filter((l) => l.name === values.lane) : env.lanes;
  if (lanes.length === 0) {
    process.stderr.write(`status: ${file} has no lane ${values.lane}; lanes: ${env.lanes.map((l) => l.name).join(', ')}\n`);
    return 2;
  }
  const status = await readStatus(env, awsClients(env.region, process.env.AWS_ENDPOINT_URL), lanes);
  process.stdout.write(values.json ? `${JSON.stringify(status, null, 2)}\n` : renderStatus(status));
  return status.unread.length === 0 && status.lanes.every((l) => l.verdict === 'healthy') ? 0 : 1;
}

runTool('status', () => main(process.argv.slice(2), process.cwd()));
