/*
 * The deploy route README documents, rehearsed as written: its ```sh aws deploy and
 * ```sh aws diff blocks (tools/rehearsal/docs-route.ts) run by bash through the real
 * cdktf CLI, from the app folder of a scratch checkout, against moto, once per engine
 * (OpenTofu, and Terraform when built):
 *
 *   node tools/run-app.cjs tools/rehearsal/rehearse-docs-route.ts --environment staging \
 *     --scratch <dir> --report-dir .cache/rehearsal/staging
 *
 * Moto runs as the environment's own account and holds the network under the
 * environment file's own ids, and for an s3 backend its bucket and KMS key, so the
 * app's stacks deploy unedited. The S3 state and the remote-state reads reach moto
 * through HTTP_PROXY (the s3 backend addresses a bucket by host name, and nothing
 * resolves it here); everything else through AWS_ENDPOINT_URL.
 *
 * Per engine: the first deploy; a diff of every stack, each with no change; the
 * furthest lane rolled back to off in the checkout's file and the deploy block run
 * again, then the lane's switches and service read back from moto; every stack
 * diffed again; `cdktf destroy`. Exit codes: 0 every step passed, 1 otherwise, 2 usage.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import {
  alarmName,
  clusterName,
  laneParameterName,
  logGroupName,
  parseEnvironment,
  serviceName,
  STACK_ROLES,
  stackName,
  stacksPattern,
  type EnvironmentConfig,
} from '@queue-lanes/config';
import { NAME_PATTERN } from '@queue-lanes/config';
import { runTool } from '../cli';
import { scratchCheckout } from '../scratch-checkout';
import { diffFor, forEnvironment, planIsClean, routeBlocks, routeScript, type RouteBlocks } from './docs-route';
import { fakeAwsEnvironment, motoCommand, startMoto } from './moto';
import { TOOLCHAIN_ERROR, prepareToolchain, type Toolchain } from '../terraform/tofu';
import type { RehearsalNetwork } from './rehearsal';
import { rollbackLane, rolledBackEnvironment, type LaneInspection } from './checks/rollback';

const USAGE =
  'usage: node tools/run-app.cjs tools/rehearsal/rehearse-docs-route.ts --environment <name> --scratch <dir> --report-dir <dir>';
const STEP_TIMEOUT_SECONDS = 1200;
/** A host name only the proxy (moto) answers for: the s3 backend puts the bucket in front of it. */
const S3_HOST = 's3.rehearsal.test';

interface Step {
  readonly engine: string;
  readonly name: string;
  readonly ok: boolean;
  readonly seconds: number;
  readonly detail: string;
  /** The step's output, in the report folder's docs-route/. */
  readonly log?: string;
}

interface Engine {
  readonly name: 'OpenTofu' | 'Terraform';
  readonly binary: string;
  readonly version: string;
}

interface Route {
  readonly root: string;
  readonly env: EnvironmentConfig;
  readonly file: string;
  readonly blocks: RouteBlocks;
  readonly toolchainEnv: NodeJS.ProcessEnv;
  readonly scratch: string;
  readonly logs: string;
  readonly steps: Step[];
}

function main(argv: string[], root: string): number {
  const options = parseOptions(argv);
  if (!options) return 2;
  const route = prepareRoute(root, options);
  for (const engine of engines(prepareToolchainOnce(route))) {
    const skipped = notRehearsable(route, engine);
    if (skipped) route.steps.push({ engine: engine.name, name: 'not rehearsed', ok: true, seconds: 0, detail: skipped });
    else rehearseEngine(route, engine);
  }
  return report(route, options.reportDir);
}

function parseOptions(argv: string[]): { environment: string; scratch: string; reportDir: string } | undefined {
  try {
    const { values } = parseArgs({
      args: argv,
      options: { environment: { type: 'string' }, scratch: { type: 'string' }, 'report-dir': { type: 'string' } },
      strict: true,
    });
    if (values.environment && values.scratch && values['report-dir'] && NAME_PATTERN.test(values.environment)) {
      return { environment: values.environment, scratch: values.scratch, reportDir: values['report-dir'] };
    }
  } catch (error) {
    process.stderr.write(`rehearse-docs-route: ${(error as Error).message}\n`);
  }
  process.stderr.write(`${USAGE}\n`);
  return undefined;
}

function prepareRoute(root: string, options: { environment: string; scratch: string; reportDir: string }): Route {
  const file = `environments/${options.environment}.yaml`;
  const logs = join(options.reportDir, 'docs-route');
  rmSync(logs, { recursive: true, force: true });
  mkdirSync(logs, { recursive: true });
  return {
    root,
    env: parseEnvironment(readFileSync(join(root, file), 'utf8'), file),
    file,
    blocks: routeBlocks(root),
    toolchainEnv: {},
    scratch: options.scratch,
    logs,
    steps: [],
  };
}

function prepareToolchainOnce(route: Route): Toolchain {
  const { toolchain, env } = prepareToolchain(route.root);
  Object.assign(route.toolchainEnv, env);
  return toolchain;
}

/** OpenTofu always; Terraform when toolchain.sh built it (rehearse.sh builds both). */
function engines(toolchain: Toolchain): Engine[] {
  return [
    { name: 'OpenTofu' as const, binary: toolchain.tofu.path, version: toolchain.tofu.version },
    ...(toolchain.terraform?.built
      ? [{ name: 'Terraform' as const, binary: toolchain.terraform.path, version: toolchain.terraform.version }]
      : []),
  ];
}

/**
 * Why the route cannot run under `engine` here, if it cannot: the Terraform the toolchain
 * builds has no remote-state backends (they are modules of their own in Terraform's
 * repository, which the Go module proxy does not serve), so it runs local-state environments only.
 */
function notRehearsable(route: Route, engine: Engine): string | undefined {
  if (engine.name === 'Terraform' && route.env.state.backend !== 'local') {
    return `the Terraform built here has no ${route.env.state.backend} backend (the Go module proxy does not serve Terraform's backend modules); OpenTofu ran the route`;
  }
  return undefined;
}

/** The whole route under one engine, on its own moto and its own checkout. */
function rehearseEngine(route: Route, engine: Engine): void {
  const workspace = join(route.scratch, `docs-route-${engine.name.toLowerCase()}`);
  mkdirSync(workspace, { recursive: true });
  const moto = startMoto(route.root, join(workspace, 'moto.json'), route.env.allowedAccountIds[0]);
  try {
    const shellEnv = routeEnvironment(route, engine, moto.endpoint, moto.port);
    seedNetwork(route, moto.endpoint, shellEnv);
    const checkout = scratchCheckout(route.root, join(workspace, 'checkout'));
    const run = (name: string, script: string) => runStep(route, engine, checkout, shellEnv, name, script);
    if (!run('first deploy (README: sh aws deploy)', route.blocks.deploy.script).ok) return;
    diffEveryStack(route, run, 'diff every stack after the first deploy');
    rollBack(route, engine, checkout, run, moto.endpoint, shellEnv);
    diffEveryStack(route, run, 'diff every stack after the rollback');
    run('destroy', `cd apps/${route.env.environment}\nnpx cdktf destroy '${stacksPattern(route.env)}'`);
  } finally {
    moto.stop();
  }
}

function diffEveryStack(route: Route, run: (name: string, script: string) => Step, name: string): void {
  for (const role of STACK_ROLES) {
    const stack = stackName(route.env, role);
    const step = run(`${name}: ${stack} (README: sh aws diff)`, diffFor(route.blocks.diff.script, stack));
    if (step.ok && step.log && !planIsClean(readFileSync(step.log, 'utf8'))) {
      route.steps[route.steps.length - 1] = { ...step, ok: false, detail: `${step.detail}; the plan has changes` };
    }
  }
}

/** The furthest lane set back to off in the checkout's file, the deploy block run again, and moto read back. */
function rollBack(
  route: Route,
  engine: Engine,
  checkout: string,
  run: (name: string, script: string) => Step,
  endpoint: string,
  shellEnv: NodeJS.ProcessEnv,
): void {
  const lane = rollbackLane(route.env);
  if (!lane) {
    route.steps.push({ engine: engine.name, name: 'rollback', ok: true, seconds: 0, detail: 'no lane past off: nothing to roll back' });
    return;
  }
  const fileInCheckout = join(checkout, route.file);
  writeFileSync(fileInCheckout, rolledBackEnvironment(readFileSync(fileInCheckout, 'utf8'), lane.name));
  if (!run(`rollback: ${lane.name} ${lane.stage} → off, deployed (README: sh aws deploy)`, route.blocks.deploy.script).ok) return;
  const inspect = (parameter: string) => motoInspect(route, endpoint, shellEnv, lane.name, parameter);
  const stage = inspect(laneParameterName(route.env, lane.name, 'stage'));
  const hosts = inspect(laneParameterName(route.env, lane.name, 'host-consumer'));
  const found =
    typeof stage === 'string' || typeof hosts === 'string'
      ? `moto could not be read: ${String(typeof stage === 'string' ? stage : hosts)}`
      : `stage ${stage.parameter}, host-consumer ${hosts.parameter}, ${serviceName(route.env, lane.name)} at ${stage.service?.desiredCount} tasks, ${stage.logGroups.length} log group kept`;
  const ok =
    typeof stage !== 'string' &&
    typeof hosts !== 'string' &&
    stage.parameter === 'off' &&
    hosts.parameter === 'enabled' &&
    stage.service?.desiredCount === 0 &&
    stage.logGroups.length === 1;
  route.steps.push({ engine: engine.name, name: `rollback read back from moto: ${lane.name}`, ok, seconds: 0, detail: found });
}

function runStep(route: Route, engine: Engine, checkout: string, shellEnv: NodeJS.ProcessEnv, name: string, block: string): Step {
  const script = routeScript(forEnvironment(block, route.env));
  const started = Date.now();
  const result = spawnSync('bash', ['-c', script], {
    cwd: checkout,
    env: shellEnv,
    encoding: 'utf8',
    timeout: STEP_TIMEOUT_SECONDS * 1000,
    maxBuffer: 256 * 1024 * 1024,
  });
  const seconds = (Date.now() - started) / 1000;
  const logName = `${String(route.steps.length + 1).padStart(2, '0')}.log`;
  const log = join(route.logs, logName);
  const step: Step = {
    engine: engine.name,
    name,
    ok: result.status === 0,
    seconds,
    detail: result.status === 0 ? 'exit 0' : `exit ${result.status ?? result.signal}; see docs-route/${logName}`,
    log,
  };
  writeFileSync(log, `$ bash -c <<'EOF'\n${script}EOF\n${result.stdout}${result.stderr}`);
  route.steps.push(step);
  process.stdout.write(`rehearse-docs-route: ${engine.name}: ${name}: ${step.ok ? 'ok' : 'FAILED'} (${seconds.toFixed(1)}s)\n`);
  return step;
}

/** What the shell of each step gets: the engine and mirror, moto's endpoints, fake credentials, no telemetry. */
function routeEnvironment(route: Route, engine: Engine, endpoint: string, port: number): NodeJS.ProcessEnv {
  return {
    ...route.toolchainEnv,
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    TERRAFORM_BINARY_NAME: engine.binary,
    AWS_ENDPOINT_URL: endpoint,
    AWS_ENDPOINT_URL_S3: `http://${S3_HOST}`,
    HTTP_PROXY: `http://127.0.0.1:${port}`,
    NO_PROXY: '127.0.0.1,localhost',
    ...fakeAwsEnvironment(route.env.region),
    CHECKPOINT_DISABLE: '1',
    CI: '1',
  };
}

/** The VPC, subnets and security groups under the file's own ids; the state bucket and key an s3 backend names. */
function seedNetwork(route: Route, endpoint: string, shellEnv: NodeJS.ProcessEnv): void {
  const { env } = route;
  const state = env.state;
  const bucket = state.backend === 's3' ? state.bucket : `${clusterName(env)}-unused-state`;
  const keyAlias = state.backend === 's3' && state.kmsKeyId?.startsWith('alias/') ? state.kmsKeyId : 'alias/unused-state';
  const seeded = motoCommand<RehearsalNetwork>(route.root, { ...shellEnv, HTTP_PROXY: '' }, endpoint, env.region, 'seed', [
    ...['--bucket', bucket, '--state-key-alias', keyAlias, '--vpc-id', env.network.vpcId],
    ...env.network.privateSubnetIds.flatMap((id) => ['--subnet-id', id]),
    ...['--redis-security-group-id', env.network.redis.securityGroupId, '--aurora-security-group-id', env.network.aurora.securityGroupId],
  ]);
  if (typeof seeded === 'string') throw new Error(`seeding moto failed: ${seeded}`);
}

/** What moto holds of a lane, with `parameter` read. */
function motoInspect(
  route: Route,
  endpoint: string,
  shellEnv: NodeJS.ProcessEnv,
  lane: string,
  parameter: string,
): LaneInspection | string {
  const { env } = route;
  return motoCommand<LaneInspection>(route.root, { ...shellEnv, HTTP_PROXY: '' }, endpoint, env.region, 'inspect', [
    ...['--cluster', clusterName(env), '--service', serviceName(env, lane), '--alarm-prefix', alarmName(env, lane, '')],
    ...['--parameter', parameter, '--log-group', logGroupName(env, lane)],
  ]);
}

/** docs-route.md in the report folder, a line per step; the exit code. */
function report(route: Route, reportDir: string): number {
  const failed = route.steps.filter((s) => !s.ok);
  const lines = [
    `# README's deploy route, rehearsed: ${route.env.app} ${route.env.environment}`,
    '',
    `Result: **${failed.length === 0 && route.steps.length > 0 ? 'PASSED' : 'FAILED'}**. README's \`sh aws deploy\` and \`sh aws diff\` blocks, run by bash through the cdktf CLI from \`apps/${route.env.environment}\` of a scratch checkout, against moto as account ${route.env.allowedAccountIds[0]} with the file's own network ids; \`--auto-approve\` and \`--skip-provider-lock\` added by a shell function (the provider comes from the mirror).`,
    '',
    '| engine | step | result | seconds | detail |',
    '| --- | --- | --- | --- | --- |',
    ...route.steps.map((s) => `| ${s.engine} | ${s.name} | ${s.ok ? 'ok' : 'FAILED'} | ${s.seconds.toFixed(1)} | ${s.detail} |`),
    '',
  ];
  writeFileSync(join(reportDir, 'docs-route.md'), lines.join('\n'));
  process.stdout.write(
    `rehearse-docs-route: ${failed.length === 0 ? 'PASSED' : `FAILED (${failed.length} steps)`}; ${join(reportDir, 'docs-route.md')}\n`,
  );
  return failed.length === 0 && route.steps.length > 0 ? 0 : 1;
}

runTool('rehearse-docs-route', () => main(process.argv.slice(2), join(__dirname, '..', '..')), TOOLCHAIN_ERROR);
