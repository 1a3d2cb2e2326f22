/*
 * The deploy rehearsal itself; tools/terraform/rehearse.sh starts moto first and
 * stops it after, whatever happens here.
 *
 *   node tools/run-app.cjs tools/terraform/rehearse.ts --environment staging \
 *     --moto <moto.json> --scratch <dir> --report-dir .cache/rehearsal/staging
 *
 * 1. creates in moto the VPC, subnets and security groups the environment file
 *    points at, and the state bucket;
 * 2. synthesizes a rehearsal copy of environments/<env>.yaml (moto's ids and
 *    account, state in moto's S3) into the scratch folder;
 * 3. per stack, in dependency order: a scratch copy with rehearsal_override.tf.json,
 *    `tofu init`, `tofu apply`; then checks that every terraform_remote_state read
 *    resolves to the producing stack's output;
 * 4. `tofu plan -detailed-exitcode` on every stack and lists every attribute that
 *    would change, each with its explanation (moto-differences.ts MOTO_DIFFERENCES);
 * 5. rolls the furthest lane back to off (docs/operations.md, "Rolling a lane back"): the copy
 *    with that lane's stage set to off, applied to every stack in order, then checks
 *    in moto that its service is kept at 0 tasks, its alarms are quiet, its log
 *    group stays and the hosts' switch says enabled;
 * 6. `tofu destroy` in reverse order, then checks that the log groups survived it.
 * Exit codes: 0 applied, resolved, no unexplained difference, destroyed; 1 otherwise;
 * 2 usage error.
 */
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
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
  stoppedTasksLogGroupName,
  type EnvironmentConfig,
  type LaneConfig,
} from '@queue-lanes/config';
import { NAME_PATTERN } from '@queue-lanes/config';
import { actionsOf, allows } from '@queue-lanes/iam-policy';
import { SECRET_PLACEHOLDER } from '@queue-lanes/ssm-parameters';
import { AWS_PROVIDER_SOURCE, composeEnvironment, deployPolicy, UNGRANTED_CALLS } from '@queue-lanes/stacks';
import { App } from 'cdktf';
import {
  applyOrder,
  calledActions,
  cell,
  endpointNames,
  planDifferences,
  rehearsalEnvironment,
  rehearsalOverride,
  remoteStateReferences,
  rollbackChecks,
  rollbackLane,
  localStateOverride,
  previousReleaseSecrets,
  REHEARSAL_STATE_KEY,
  rolledBackEnvironment,
  secretChecks,
  secureParameterNames,
  stateKey,
  stateKeyUses,
  type CdktfManifest,
  type Difference,
  type LaneInspection,
  type RecordedCall,
  type MotoTarget,
  type RehearsalNetwork,
  type SecretsRead,
  type StackJson,
} from './rehearsal-setup-and-checks';
import {
  renderReport,
  type CrossStackCheck,
  type EngineSwap,
  type MotoReady,
  type PermissionCheck,
  type ReportInput,
  type RollbackRehearsal,
  type StackRun,
} from './rehearsal-report';
import { fakeAwsEnvironment, motoCommand } from './moto';
import { runTool } from '../cli';
import { TOOLCHAIN_ERROR, cacheDir, cliConfig, formatDiagnostic, prepareToolchain, streamDiagnostics, tofu, type Toolchain } from './tofu';

const USAGE =
  'usage: node tools/run-app.cjs tools/terraform/rehearse.ts --environment <name> --moto <moto.json> --scratch <dir> --report-dir <dir>\n' +
  '  (run tools/terraform/rehearse.sh, which starts and stops moto)';

const APPLY_TIMEOUT = 1200;
const PLAN_TIMEOUT = 600;

function main(argv: string[], root: string): number {
  const args = rehearsalArgs(argv);
  if (typeof args === 'number') return args;
  const started = Date.now();
  const r = prepareRehearsal(root, args);
  const network = seedNetwork(r);
  if (!network) return 1;
  const s = synthesizeCopy(r, network);
  const secrets = secretsToUpgrade(s);
  const { applied, checks, secretsPut } = applyStacks(r, s, secrets);
  const allApplied = applied.length === s.runs.length && applied.every((stack) => stack.apply?.ok);
  const differences = allApplied ? planAgain(r, s) : [];
  const secretsKept = secretsOutcome(r, secrets, allApplied, secretsPut);
  const engines = crossEngines(r, s, allApplied);
  const rolledBack = rollBack(r, s, allApplied);
  destroyStacks(r, applied);
  const rollback = rolledBack.afterDestroy();
  const permissions = permissionChecks(r, s);
  return writeReport(r, s, { network, checks, differences, rollback, secrets: secretsKept, engines, permissions, started });
}

/** What the command line asked for. */
interface RehearsalArgs {
  readonly environment: string;
  readonly motoFile: string;
  readonly scratch: string;
  readonly reportDir: string;
  readonly file?: string;
}

/** The command line's options, or the exit code after a usage error (its message written). */
function rehearsalArgs(argv: string[]): RehearsalArgs | number {
  let values: { environment?: string; moto?: string; scratch?: string; 'report-dir'?: string; file?: string };
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        environment: { type: 'string' },
        moto: { type: 'string' },
        scratch: { type: 'string' },
        'report-dir': { type: 'string' },
        // A file outside environments/ (tools/fixtures/every-option): rehearsed the same way.
        file: { type: 'string' },
      },
      strict: true,
    }));
  } catch (error) {
    process.stderr.write(`rehearse: ${(error as Error).message}\n${USAGE}\n`);
    return 2;
  }
  const { environment, moto: motoFile, scratch } = values;
  const reportDir = values['report-dir'];
  if (!environment || !motoFile || !scratch || !reportDir || !NAME_PATTERN.test(environment)) {
    process.stderr.write(`${USAGE}\n`);
    return 2;
  }
  return { environment, motoFile, scratch, reportDir, file: values.file };
}

/** What every step reads: the folders, the tools, the environment file and the moto server. */
interface Rehearsal {
  readonly root: string;
  readonly environment: string;
  /** The environment file, relative to the root. */
  readonly file: string;
  readonly scratch: string;
  readonly reportDir: string;
  /** Each tofu command's output, one file per stack and step. */
  readonly logs: string;
  readonly toolchain: Toolchain;
  /** The toolchain's environment, for tofu commands that reach no AWS API. */
  readonly env: NodeJS.ProcessEnv;
  /** The environment of every process that reaches moto. */
  readonly awsEnv: NodeJS.ProcessEnv;
  readonly moto: MotoReady;
  readonly target: MotoTarget;
  /** The environment file's text, and what it configures. */
  readonly original: string;
  readonly config: EnvironmentConfig;
}

/** Empties the logs folder, builds the toolchain and reads the moto server's answer and the environment file. */
function prepareRehearsal(root: string, args: RehearsalArgs): Rehearsal {
  const { environment, scratch, reportDir } = args;
  const logs = join(reportDir, 'logs');
  rmSync(logs, { recursive: true, force: true });
  mkdirSync(logs, { recursive: true });
  const { toolchain, env } = prepareToolchain(root);
  const moto = JSON.parse(readFileSync(args.motoFile, 'utf8')) as MotoReady;
  const file = args.file ?? `environments/${environment}.yaml`;
  const original = readFileSync(join(root, file), 'utf8');
  const config = parseEnvironment(original, file);
  const { region, app } = config;
  const target: MotoTarget = {
    endpoint: moto.endpoint,
    region,
    accountId: moto.accountId,
    bucket: `${app}-${environment}-rehearsal-state`,
  };
  const awsEnv = motoEnv(env, region);
  return { root, environment, file, scratch, reportDir, logs, toolchain, env, awsEnv, moto, target, original, config };
}

/** Nothing in a tofu or AWS SDK process may find real credentials or a metadata service. */
function motoEnv(env: NodeJS.ProcessEnv, region: string): NodeJS.ProcessEnv {
  const awsEnv: NodeJS.ProcessEnv = { ...env, ...fakeAwsEnvironment(region) };
  delete awsEnv.AWS_PROFILE;
  delete awsEnv.AWS_SESSION_TOKEN;
  return awsEnv;
}

function say(line: string): void {
  process.stdout.write(`rehearse: ${line}\n`);
}

/**
 * 1. The network the environment file names, and the state bucket and its KMS key, in moto;
 * undefined (the error written) when that fails.
 */
function seedNetwork(r: Rehearsal): RehearsalNetwork | undefined {
  const { target, config } = r;
  const subnets = config.network.privateSubnetIds.length;
  const seed = spawnSync(
    join(r.root, '.venv', 'bin', 'python'),
    [
      join(__dirname, 'moto_rehearsal.py'),
      'seed',
      '--endpoint',
      target.endpoint,
      '--region',
      target.region,
      '--bucket',
      target.bucket,
      '--state-key-alias',
      REHEARSAL_STATE_KEY,
      '--subnets',
      String(subnets),
      '--egress-security-groups',
      String(config.network.httpsEgress?.securityGroupIds?.length ?? 0),
      '--egress-prefix-lists',
      String(config.network.httpsEgress?.prefixListIds?.length ?? 0),
    ],
    { encoding: 'utf8', env: r.awsEnv },
  );
  if (seed.status !== 0) {
    process.stderr.write(`rehearse: creating the network in moto failed\n${seed.stderr}`);
    return undefined;
  }
  const network = JSON.parse(seed.stdout) as RehearsalNetwork;
  say(
    `moto ${r.moto.motoVersion} at ${target.endpoint}: ${network.vpcId}, ${network.privateSubnetIds.join(', ')}, redis ${network.redisSecurityGroupId}, aurora ${network.auroraSecurityGroupId}, state s3://${target.bucket}`,
  );
  return network;
}

/** The rehearsal copy, synthesized, and each stack's working folder in apply order. */
interface RehearsedStacks {
  /** The rehearsal copy's text, and what it configures. */
  readonly copy: string;
  readonly rehearsed: EnvironmentConfig;
  /** Stack names in apply order. */
  readonly order: readonly string[];
  /** Each stack's run, in apply order; the steps fill it in. */
  readonly runs: StackRun[];
  /** Each stack's synthesized JSON, by name. */
  readonly stacks: ReadonlyMap<string, StackJson>;
  /** The provider's endpoint names, every one pointed at moto. */
  readonly endpoints: readonly string[];
}

/** 2. The rehearsal copy, synthesized into the scratch folder; each stack copied to a folder of its own with its override. */
function synthesizeCopy(r: Rehearsal, network: RehearsalNetwork): RehearsedStacks {
  const copy = rehearsalEnvironment(r.original, network, r.target);
  writeFileSync(join(r.reportDir, `${r.environment}.rehearsal.yaml`), copy);
  const outdir = join(r.scratch, 'cdktf.out');
  const rehearsed = synthesize(copy, r.file, outdir);
  const manifest = JSON.parse(readFileSync(join(outdir, 'manifest.json'), 'utf8')) as CdktfManifest;
  const order = applyOrder(manifest, STACK_ROLES);
  say(`stacks in apply order: ${order.join(', ')}`);

  const endpoints = providerEndpoints(r.toolchain, r.env, r.scratch);
  const runs: StackRun[] = [];
  const stacks = new Map<string, StackJson>();
  for (const name of order) {
    const source = join(outdir, 'stacks', name);
    const dir = join(r.scratch, 'work', name);
    cpSync(source, dir, { recursive: true });
    const stack = writeOverride(r, name, source, dir, endpoints);
    stacks.set(name, stack);
    const backend = Object.entries(stack.terraform?.backend ?? { local: {} })[0];
    runs.push({ name, dir, stateKey: stateKey(backend[0], backend[1], `${name}.tfstate`) });
  }
  return { copy, rehearsed, order, runs, stacks, endpoints };
}

/** Synthesizes an environment file's text into `outdir`; what it configures. */
function synthesize(text: string, file: string, outdir: string): EnvironmentConfig {
  const config = parseEnvironment(text, file);
  const app = new App({ outdir, stackTraces: false });
  composeEnvironment(app, config);
  app.synth();
  return config;
}

/** Writes `dir`'s rehearsal_override.tf.json for the stack synthesized in `source`; that stack's JSON. */
function writeOverride(r: Rehearsal, name: string, source: string, dir: string, endpoints: readonly string[]): StackJson {
  const stack = JSON.parse(readFileSync(join(source, 'cdk.tf.json'), 'utf8')) as StackJson;
  writeFileSync(
    join(dir, 'rehearsal_override.tf.json'),
    `${JSON.stringify(rehearsalOverride(name, stack, r.target, endpoints), null, 2)}\n`,
  );
  return stack;
}

/** One tofu (or terraform) command of one stack: its result, time, errors (one line each) and output. */
interface StepResult {
  readonly result: ReturnType<typeof tofu>;
  readonly seconds: number;
  readonly errors: string[];
  readonly stdout: string;
}

/** Runs one command in a stack's folder against moto, its output logged to logs/<stack>.<step>.log. */
function runStep(
  r: Rehearsal,
  stack: Pick<StackRun, 'name' | 'dir'>,
  step: string,
  args: string[],
  timeout: number,
  engine: 'tofu' | 'terraform' = 'tofu',
  extraEnv: NodeJS.ProcessEnv = {},
): StepResult {
  const t0 = Date.now();
  // Terraform keeps its own .terraform folder: the state and lock file are what the engines share.
  const env = { ...r.awsEnv, ...extraEnv, ...(engine === 'terraform' ? { TF_DATA_DIR: join(stack.dir, '.terraform-hashicorp') } : {}) };
  const result = tofu(r.toolchain, env, stack.dir, args, { timeoutSeconds: timeout, engine });
  const seconds = (Date.now() - t0) / 1000;
  const json = args.includes('-json');
  const text = json ? humanLines(result.stdout) : result.stdout;
  writeFileSync(join(r.logs, `${stack.name}.${step}.log`), `$ ${engine} ${args.join(' ')}\n${text}${result.stderr}`);
  const errors = json
    ? streamDiagnostics(result.stdout)
        .filter((d) => d.severity === 'error')
        .map((d) => formatDiagnostic(stack.name, d))
    : errorLines(stack.name, result.stdout + result.stderr);
  if (result.timedOut) errors.push(`${stack.name}: ${engine} ${step} did not finish within ${timeout}s and was stopped`);
  if (result.status !== 0 && result.status !== 2 && errors.length === 0)
    errors.push(`${stack.name}: ${engine} ${step} exited ${result.status}; see logs/${stack.name}.${step}.log`);
  return { result, seconds, errors, stdout: result.stdout };
}

const APPLY = ['apply', '-auto-approve', '-input=false', '-json', '-lock-timeout=60s'];

/** Whether a command finished in time with exit 0. */
function succeeded(step: StepResult): boolean {
  return step.result.status === 0 && !step.result.timedOut;
}

/** The parameters stack and its SecureString parameters, whose upgrade to write-only the rehearsal goes through. */
interface SecretsUpgrade {
  readonly stack?: StackRun;
  readonly names: readonly string[];
}

function secretsToUpgrade(s: RehearsedStacks): SecretsUpgrade {
  const stack = s.runs.find((run) => run.name === stackName(s.rehearsed, 'parameters'));
  return { stack, names: secureParameterNames(s.stacks.get(stack?.name ?? '') ?? {}) };
}

/** What moto_rehearsal.py secrets answered, or why it failed. */
type SecretsPut = ReturnType<typeof motoCommand>;

/** Puts each secret's real value in moto's SSM out of band (`put`), or reads them back with what the state holds. */
function secretsCommand(r: Rehearsal, secrets: SecretsUpgrade, put: boolean): SecretsPut {
  const { target } = r;
  return motoCommand(r.root, r.awsEnv, target.endpoint, target.region, 'secrets', [
    '--bucket',
    target.bucket,
    '--state-key',
    secrets.stack?.stateKey ?? '',
    '--placeholder',
    SECRET_PLACEHOLDER,
    ...secrets.names.flatMap((n) => ['--parameter', n]),
    ...(put ? ['--put'] : []),
  ]);
}

/**
 * 3. Apply in order; stop at the first failure (later stacks read earlier ones).
 * The secrets go through the upgrade an existing environment goes through: first
 * as the previous release wrote them (value, which the provider reads back into
 * state), then their real values put out of band, then this release's apply,
 * which must move them to write-only without writing the placeholder over them.
 */
function applyStacks(
  r: Rehearsal,
  s: RehearsedStacks,
  secrets: SecretsUpgrade,
): { applied: StackRun[]; checks: CrossStackCheck[]; secretsPut?: SecretsPut } {
  let secretsPut: SecretsPut | undefined;
  const applied: StackRun[] = [];
  const checks: CrossStackCheck[] = [];
  for (const stack of s.runs) {
    const init = runStep(r, stack, 'init', ['init', '-input=false', '-no-color'], PLAN_TIMEOUT);
    stack.init = { ok: init.result.status === 0, seconds: init.seconds, errors: init.errors };
    if (!stack.init.ok) break;
    const previous = stack === secrets.stack && secrets.names.length > 0 ? applyPreviousRelease(r, stack) : undefined;
    if (previous && previous.result.status === 0) secretsPut = secretsCommand(r, secrets, true);
    applyStack(r, stack, previous);
    // Even a failed apply may have created resources: destroy covers it.
    applied.push(stack);
    if (!stack.apply?.ok) break;
    const outputs = tofu(r.toolchain, r.awsEnv, stack.dir, ['output', '-json']);
    stack.outputs = outputs.status === 0 ? (JSON.parse(outputs.stdout || '{}') as Record<string, { value: unknown }>) : {};
    checks.push(...crossStackChecks(stack, s.stacks.get(stack.name) ?? {}, s.runs, r.toolchain, r.awsEnv));
  }
  return { applied, checks, secretsPut };
}

/** Applies the stack with its secrets as the previous release wrote them, then puts this release's JSON back. */
function applyPreviousRelease(r: Rehearsal, stack: StackRun): StepResult {
  const stackFile = join(stack.dir, 'cdk.tf.json');
  const current = readFileSync(stackFile, 'utf8');
  writeFileSync(stackFile, `${JSON.stringify(previousReleaseSecrets(JSON.parse(current) as StackJson), null, 2)}\n`);
  const previous = runStep(r, stack, 'apply-previous-release', APPLY, APPLY_TIMEOUT);
  writeFileSync(stackFile, current);
  return previous;
}

/** Applies this release to one stack (unless the previous release's apply already failed) and records both. */
function applyStack(r: Rehearsal, stack: StackRun, previous: StepResult | undefined): void {
  const apply = previous && previous.result.status !== 0 ? previous : runStep(r, stack, 'apply', APPLY, APPLY_TIMEOUT);
  const earlier = previous && previous !== apply ? previous : undefined;
  stack.apply = {
    ok: succeeded(apply),
    seconds: apply.seconds + (earlier ? earlier.seconds : 0),
    errors: apply.errors,
    added: (summary(apply.stdout).add ?? 0) + (earlier ? (summary(earlier.stdout).add ?? 0) : 0),
  };
  say(`${stack.name}: apply ${stack.apply.ok ? 'ok' : 'FAILED'} (${stack.apply.added ?? 0} added, ${stack.apply.seconds.toFixed(1)}s)`);
}

/**
 * 4. Plan again: the goal is no change at all (the secrets' real values included,
 * which Terraform must leave alone and never hold in state).
 */
function planAgain(r: Rehearsal, s: RehearsedStacks): Difference[] {
  const differences: Difference[] = [];
  for (const stack of s.runs) {
    const plan = runStep(
      r,
      stack,
      'plan',
      ['plan', '-detailed-exitcode', '-input=false', '-no-color', '-lock-timeout=60s', '-out=rehearsal.tfplan'],
      PLAN_TIMEOUT,
    );
    stack.plan = {
      ok: plan.result.status === 0 || plan.result.status === 2,
      seconds: plan.seconds,
      errors: plan.errors,
      exitCode: plan.result.status,
    };
    if (!stack.plan.ok) continue;
    const show = tofu(r.toolchain, r.awsEnv, stack.dir, ['show', '-json', 'rehearsal.tfplan']);
    writeFileSync(join(r.logs, `${stack.name}.plan.json`), show.stdout);
    differences.push(...planDifferences(stack.name, JSON.parse(show.stdout)));
    say(`${stack.name}: plan again: ${plan.result.status === 0 ? 'no changes' : 'changes'}`);
  }
  return differences;
}

/** After the plan, each secret read back from moto against the value put, and the state searched for it. */
function secretsOutcome(
  r: Rehearsal,
  secrets: SecretsUpgrade,
  allApplied: boolean,
  secretsPut: SecretsPut | undefined,
): ReportInput['secrets'] {
  if (!allApplied) return { skipped: 'Not rehearsed: not every stack applied.' };
  if (secrets.names.length === 0) return { skipped: 'Not rehearsed: the environment has no parameters.secure.' };
  if (secretsPut === undefined || typeof secretsPut === 'string')
    return { failed: `Putting the secrets' values failed: ${secretsPut ?? 'not run'}` };
  const after = secretsCommand(r, secrets, false);
  return typeof after === 'string'
    ? { failed: `Reading the secrets back failed: ${after}` }
    : { checks: secretChecks(after as SecretsRead) };
}

/**
 * 4b. The other engine: each state as OpenTofu wrote it (pulled from moto's S3 into
 * a local file beside a copy of the stack, the remote-state reads pointed at the
 * producers' copies), Terraform plans it and writes it back with a refresh-only
 * apply, and OpenTofu plans what Terraform wrote. Both must find nothing to do:
 * the provider address is the same under both (libs/stacks AWS_PROVIDER_SOURCE).
 */
function crossEngines(r: Rehearsal, s: RehearsedStacks, allApplied: boolean): ReportInput['engines'] {
  const terraform = r.toolchain.terraform;
  if (!allApplied) return { skipped: 'Not rehearsed: not every stack applied.' };
  if (!terraform?.built) return { skipped: 'Not rehearsed: Terraform is not built (bash tools/terraform/toolchain.sh terraform).' };
  // Both engines install from registry.terraform.io only, as on a machine with
  // either engine and its own registry: a state that named the other engine's
  // registry would need that registry's provider, and init would fail.
  const singleRegistry = join(r.scratch, 'engines', 'single-registry.tfrc');
  mkdirSync(dirname(singleRegistry), { recursive: true });
  writeFileSync(singleRegistry, cliConfig({ mirror: r.toolchain.mirror, include: [`${AWS_PROVIDER_SOURCE.split('/')[0]}/*/*`] }));
  return { terraform: terraform.version, swaps: s.runs.map((stack) => swapEngines(r, s, stack, singleRegistry)) };
}

/** One stack's state through Terraform and back, in a copy of its folder under engines/. */
function swapEngines(r: Rehearsal, s: RehearsedStacks, stack: StackRun, singleRegistry: string): EngineSwap {
  const dir = join(r.scratch, 'engines', stack.name);
  mkdirSync(dir, { recursive: true });
  for (const f of ['cdk.tf.json', 'rehearsal_override.tf.json']) cpSync(join(stack.dir, f), join(dir, f));
  const pulled = tofu(r.toolchain, r.awsEnv, stack.dir, ['state', 'pull']);
  writeFileSync(join(dir, 'terraform.tfstate'), pulled.stdout);
  const override = localStateOverride(s.stacks.get(stack.name) ?? {}, (key) => {
    const producer = s.runs.find((run) => run.stateKey === key);
    return producer ? join('..', producer.name, 'terraform.tfstate') : undefined;
  });
  writeFileSync(join(dir, 'zz_local_state_override.tf.json'), `${JSON.stringify(override, null, 2)}\n`);
  const here = { ...stack, dir };
  const exit = (step: string, args: string[], engine: 'tofu' | 'terraform') => {
    const result = runStep(r, here, step, args, PLAN_TIMEOUT, engine, { TF_CLI_CONFIG_FILE: singleRegistry });
    return { status: result.result.status, errors: result.errors };
  };
  const plan = ['plan', '-detailed-exitcode', '-input=false', '-no-color'];
  const tfInit = exit('terraform-init', ['init', '-input=false', '-no-color'], 'terraform');
  const tfPlan = tfInit.status === 0 && pulled.status === 0 ? exit('terraform-plan', plan, 'terraform') : tfInit;
  const write =
    tfPlan.status === 0
      ? exit('terraform-refresh', ['apply', '-refresh-only', '-auto-approve', '-input=false', '-no-color'], 'terraform')
      : tfPlan;
  const tofuInit = write.status === 0 ? exit('tofu-init-after-terraform', ['init', '-input=false', '-no-color'], 'tofu') : write;
  const back = tofuInit.status === 0 ? exit('tofu-plan-after-terraform', plan, 'tofu') : tofuInit;
  say(`${stack.name}: Terraform plans OpenTofu's state: exit ${tfPlan.status}; OpenTofu plans Terraform's: exit ${back.status}`);
  return {
    stack: stack.name,
    terraformPlan: tfPlan.status,
    terraformWrote: write.status === 0,
    tofuPlan: back.status,
    errors: [...(pulled.status === 0 ? [] : [`${stack.name}: tofu state pull exited ${pulled.status}`]), ...back.errors],
  };
}

/** The rollback step's outcome, and how to complete it once every stack is destroyed. */
interface RolledBack {
  /** The rollback as reported: with the checks after destroy added when the rollback itself passed them to moto. */
  afterDestroy(): ReportInput['rollback'];
}

/** 5. Roll the furthest lane back to off and apply that, stack by stack, then look in moto at what it left. */
function rollBack(r: Rehearsal, s: RehearsedStacks, allApplied: boolean): RolledBack {
  const lane = rollbackLane(s.rehearsed);
  if (!allApplied) return settled({ skipped: 'Not rehearsed: not every stack applied.' });
  if (!lane) return settled({ skipped: 'Not rehearsed: every lane is already off.' });
  const { rehearsed } = s;
  const logGroups = [...rehearsed.lanes.map((l) => logGroupName(rehearsed, l.name)), stoppedTasksLogGroupName(rehearsed)];
  // A scaled lane runs what its scaler set, not what Terraform wrote: set that through ECS
  // first, so the rollback has to bring the service down to 0 itself.
  const startCount = lane.sizedBy === 'fixed' ? lane.tasks.baseline : Math.max(1, lane.tasks.max);
  const scaled = lane.sizedBy === 'fixed' ? undefined : scaleLane(r, s, lane, startCount);
  const applies = applyRolledBack(r, s, lane);
  const inspect = () => inspectLane(r, s, lane, logGroups);
  const after = inspect();
  if (typeof scaled === 'string')
    return settled({ failed: `Setting ${lane.name} to ${startCount} task(s) before the rollback failed: ${scaled}` });
  if (typeof after === 'string') return settled({ failed: `Rolled back, but moto could not be read: ${after}` });
  const rollback: RollbackRehearsal = { lane: lane.name, from: lane.stage, startCount, applies, checks: rollbackChecks(logGroups, after) };
  return {
    afterDestroy: () => {
      const destroyed = inspect();
      return typeof destroyed === 'string'
        ? { failed: `${rollback.lane} rolled back, but moto could not be read after destroy: ${destroyed}` }
        : { ...rollback, checks: rollbackChecks(logGroups, after, destroyed) };
    },
  };
}

/** A rollback outcome that destroying the stacks does not change. */
function settled(rollback: ReportInput['rollback']): RolledBack {
  return { afterDestroy: () => rollback };
}

/** Sets a lane's service to `count` tasks through ECS, as its scaler would. */
function scaleLane(r: Rehearsal, s: RehearsedStacks, lane: LaneConfig, count: number): ReturnType<typeof motoCommand> {
  return motoCommand(r.root, r.awsEnv, r.target.endpoint, r.target.region, 'scale', [
    '--cluster',
    clusterName(s.rehearsed),
    '--service',
    serviceName(s.rehearsed, lane.name),
    '--count',
    String(count),
  ]);
}

/** The rehearsal copy with the lane at off, synthesized and applied to each stack in order; stops at the first failure. */
function applyRolledBack(r: Rehearsal, s: RehearsedStacks, lane: LaneConfig): RollbackRehearsal['applies'][number][] {
  const rolled = rolledBackEnvironment(s.copy, lane.name);
  writeFileSync(join(r.reportDir, `${r.environment}.rollback.yaml`), rolled);
  const rolledOut = join(r.scratch, 'cdktf.rollback');
  synthesize(rolled, r.file, rolledOut);
  const applies: RollbackRehearsal['applies'][number][] = [];
  for (const stack of s.runs) {
    const source = join(rolledOut, 'stacks', stack.name);
    cpSync(source, stack.dir, { recursive: true, force: true });
    writeOverride(r, stack.name, source, stack.dir, s.endpoints);
    const apply = runStep(r, stack, 'rollback-apply', APPLY, APPLY_TIMEOUT);
    const counts = summary(apply.stdout);
    const ok = succeeded(apply);
    applies.push({
      stack: stack.name,
      ok,
      seconds: apply.seconds,
      errors: apply.errors,
      added: counts.add,
      changed: counts.change,
      removed: counts.remove,
    });
    say(
      `${stack.name}: rollback of ${lane.name} to off: apply ${ok ? 'ok' : 'FAILED'} (${counts.add ?? 0} added, ${counts.change ?? 0} changed, ${counts.remove ?? 0} destroyed)`,
    );
    if (!ok) break;
  }
  return applies;
}

/** What moto holds of the lane: its service, alarms, host-consumer switch and which of `logGroups` exist. */
function inspectLane(r: Rehearsal, s: RehearsedStacks, lane: LaneConfig, logGroups: readonly string[]): LaneInspection | string {
  const { rehearsed } = s;
  return <LaneInspection | string>(
    motoCommand(r.root, r.awsEnv, r.target.endpoint, r.target.region, 'inspect', [
      '--cluster',
      clusterName(rehearsed),
      '--service',
      serviceName(rehearsed, lane.name),
      '--alarm-prefix',
      alarmName(rehearsed, lane.name, ''),
      '--parameter',
      laneParameterName(rehearsed, lane.name, 'host-consumer'),
      ...logGroups.flatMap((g) => ['--log-group', g]),
    ])
  );
}

/** 6. Destroy in reverse order, whatever happened above. */
function destroyStacks(r: Rehearsal, applied: readonly StackRun[]): void {
  for (const stack of [...applied].reverse()) destroyStack(r, stack);
}

function destroyStack(r: Rehearsal, stack: StackRun): void {
  const args = ['destroy', '-auto-approve', '-input=false', '-json', '-lock-timeout=60s'];
  let destroy = runStep(r, stack, 'destroy', args, APPLY_TIMEOUT);
  const errors = destroy.errors;
  if (destroy.result.status !== 0 && !destroy.result.timedOut) {
    // Destroy refreshes and plans first; a plan error (a moto round-trip the provider
    // refuses) must not leave resources behind. The first errors stay in the report.
    destroy = runStep(r, stack, 'destroy-without-refresh', [...args, '-refresh=false'], APPLY_TIMEOUT);
    errors.push(
      ...destroy.errors,
      `${stack.name}: destroy failed as above and was repeated with -refresh=false: ${destroy.result.status === 0 ? 'ok' : 'failed too'}`,
    );
  }
  stack.destroy = { ok: succeeded(destroy), seconds: destroy.seconds, errors, removed: summary(destroy.stdout).remove };
  say(
    `${stack.name}: destroy ${stack.destroy.ok ? 'ok' : 'FAILED'} (${stack.destroy.removed ?? 0} destroyed, ${stack.destroy.seconds.toFixed(1)}s)`,
  );
}

/**
 * What each stack's provider called (moto's call log, also written to called-actions.json), against the deploy policy
 * synth wrote for it; and the state key's uses S3 made for its state backend, judged as IAM would, by key ARN and aliases.
 */
function permissionChecks(r: Rehearsal, s: RehearsedStacks): PermissionCheck[] {
  const calls = readJsonLines<RecordedCall>(join(r.scratch, 'calls.jsonl'));
  const called = calledActions(calls, s.order);
  const keyUses = stateKeyUses(calls, s.order);
  writeFileSync(join(r.reportDir, 'called-actions.json'), `${JSON.stringify(called, null, 2)}\n`);
  writeFileSync(join(r.reportDir, 'state-key-uses.json'), `${JSON.stringify(keyUses, null, 2)}\n`);
  return STACK_ROLES.map((role) => {
    const name = stackName(s.rehearsed, role);
    const policy = deployPolicy(s.rehearsed, role, s.stacks.get(name) ?? {});
    const granted = new Set(actionsOf(policy));
    const used = called[name] ?? [];
    const uses = keyUses[name] ?? [];
    const missing = [
      ...used.filter((a) => !granted.has(a) && !Object.hasOwn(UNGRANTED_CALLS, a)),
      ...uses.filter((use) => !allows(policy, use)).map((use) => `${use.action} on ${use.resource} (S3, for the state)`),
      // The rehearsal's state is always encrypted with its key: a stack with no use recorded was not judged.
      ...(uses.length === 0 ? ['no use of the state key was recorded'] : []),
    ];
    const unused = [...granted].filter((a) => !used.includes(a) && !uses.some((use) => use.action === a)).sort();
    return { stack: name, called: used.length, stateKeyUses: uses.map((use) => use.action), missing, unused };
  });
}

/** Each line of a JSON Lines file; none when the file does not exist. */
function readJsonLines<T>(path: string): T[] {
  if (!existsSync(path)) return [];
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as T);
}

/** Writes the report (report.md, and on stdout); the exit code its verdict gives. */
function writeReport(
  r: Rehearsal,
  s: RehearsedStacks,
  outcome: Pick<ReportInput, 'network' | 'checks' | 'differences' | 'rollback' | 'secrets' | 'engines' | 'permissions'> & {
    started: number;
  },
): number {
  const { started, ...steps } = outcome;
  const unsupportedLog = join(r.scratch, 'moto-unsupported.log');
  const unsupported = existsSync(unsupportedLog) ? [...new Set(readFileSync(unsupportedLog, 'utf8').split('\n').filter(Boolean))] : [];
  const report = renderReport({
    environment: r.environment,
    engine: engineLine(r.toolchain),
    moto: r.moto,
    target: r.target,
    runs: s.runs,
    ...steps,
    unsupported,
    seconds: (Date.now() - started) / 1000,
  });
  writeFileSync(join(r.reportDir, 'report.md'), report.markdown);
  process.stdout.write(`\n${report.markdown}\n`);
  say(`report: ${join(r.reportDir, 'report.md')}; logs: ${r.logs}`);
  return report.ok ? 0 : 1;
}

/** "OpenTofu v1.12.6, hashicorp/aws 6.25.0 (…stand-in…)" for the report. */
function engineLine(toolchain: Toolchain): string {
  const stand =
    toolchain.aws.builtVersion && toolchain.aws.builtVersion !== toolchain.aws.version
      ? ` (the mirror's stand-in: ${toolchain.aws.module}, provider ${toolchain.aws.builtVersion})`
      : '';
  return `OpenTofu ${toolchain.tofu.version}, hashicorp/aws ${toolchain.aws.version}${stand}`;
}

/** The provider's endpoint names, from its schema (cached per provider build). */
function providerEndpoints(toolchain: Toolchain, env: NodeJS.ProcessEnv, scratch: string): string[] {
  const cached = join(cacheDir(), 'tofu', `aws-endpoints-${basename(toolchain.aws.path)}.json`);
  if (existsSync(cached)) return JSON.parse(readFileSync(cached, 'utf8')) as string[];
  const dir = join(scratch, 'schema');
  mkdirSync(dir, { recursive: true });
  writeFileSync(
    join(dir, 'main.tf.json'),
    JSON.stringify({ terraform: { required_providers: { aws: { source: AWS_PROVIDER_SOURCE, version: toolchain.aws.version } } } }),
  );
  const init = tofu(toolchain, env, dir, ['init', '-backend=false', '-input=false', '-no-color']);
  if (init.status !== 0) throw new Error(`tofu init for the provider schema failed:\n${init.stdout}${init.stderr}`);
  const schema = tofu(toolchain, env, dir, ['providers', 'schema', '-json']);
  if (schema.status !== 0) throw new Error(`tofu providers schema failed:\n${schema.stderr}`);
  const names = endpointNames(JSON.parse(schema.stdout));
  writeFileSync(cached, JSON.stringify(names));
  return names;
}

/** Checks every remote-state read of `stack` against the producing stack's outputs. */
function crossStackChecks(
  stack: StackRun,
  json: StackJson,
  runs: readonly StackRun[],
  toolchain: Toolchain,
  env: NodeJS.ProcessEnv,
): CrossStackCheck[] {
  const references = remoteStateReferences(json);
  if (references.length === 0) return [];
  const show = tofu(toolchain, env, stack.dir, ['show', '-json']);
  const resources = ((JSON.parse(show.stdout || '{}') as StateJson).values?.root_module?.resources ?? []).filter(
    (r) => r.mode === 'data' && r.type === 'terraform_remote_state',
  );
  return references.map((ref) => {
    const block = json.data?.terraform_remote_state?.[ref.data] ?? {};
    const config = (block.config ?? {}) as Record<string, unknown>;
    const key = stateKey(String(block.backend ?? 'local'), config, `${ref.data}.tfstate`);
    const producer = runs.find((r) => r.stateKey === key);
    const read = resources.find((r) => r.name === ref.data)?.values?.outputs as Record<string, unknown> | undefined;
    const value = read?.[ref.output];
    const expected = producer?.outputs?.[ref.output]?.value;
    let note: string;
    let resolved = false;
    if (!producer) note = `no stack of this rehearsal writes state key ${key}`;
    else if (value === undefined || value === null) note = `not in ${producer.name}'s state`;
    else if (JSON.stringify(value) !== JSON.stringify(expected))
      note = `reads ${cell(value, 60)}, ${producer.name} has ${cell(expected, 60)}`;
    else {
      resolved = true;
      note = cell(value, 80);
    }
    return { consumer: stack.name, data: ref.data, output: ref.output, producer: producer?.name, resolved, note };
  });
}

interface StateJson {
  readonly values?: {
    readonly root_module?: {
      readonly resources?: readonly { mode: string; type: string; name: string; values?: Record<string, unknown> }[];
    };
  };
}

/** The human `@message` lines of a `-json` UI stream. */
function humanLines(stdout: string): string {
  return stdout
    .split('\n')
    .map((line) => {
      try {
        const message = JSON.parse(line) as { '@message'?: string; diagnostic?: { detail?: string } };
        return [message['@message'], message.diagnostic?.detail].filter(Boolean).join('\n  ');
      } catch {
        return line;
      }
    })
    .filter(Boolean)
    .join('\n')
    .concat('\n');
}

/** `Error: …` blocks of tofu's human output, one line each. */
function errorLines(stack: string, text: string): string[] {
  return text
    .split(/\n(?=│? ?Error: |╷)/)
    .filter((block) => /Error: /.test(block))
    .map((block) => `${stack}: ${block.replace(/[╷│╵]/g, '').replace(/\s+/g, ' ').trim()}`);
}

/** The change_summary of a `-json` apply or destroy. */
function summary(stdout: string): { add?: number; change?: number; remove?: number } {
  for (const line of stdout.split('\n').reverse()) {
    try {
      const message = JSON.parse(line) as { type?: string; changes?: { add: number; change: number; remove: number } };
      if (message.type === 'change_summary' && message.changes) return message.changes;
    } catch {
      // not JSON
    }
  }
  return {};
}

runTool('rehearse', () => main(process.argv.slice(2), join(__dirname, '..', '..')), TOOLCHAIN_ERROR);
