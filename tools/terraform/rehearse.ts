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
} from '@queue-lanes/config';
import { NAME_PATTERN } from '@queue-lanes/config';
import { actionsOf } from '@queue-lanes/iam-policy';
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
import { motoCommand } from './moto';
import { ToolchainError, cacheDir, cliConfig, formatDiagnostic, prepareToolchain, streamDiagnostics, tofu, type Toolchain } from './tofu';

const USAGE =
  'usage: node tools/run-app.cjs tools/terraform/rehearse.ts --environment <name> --moto <moto.json> --scratch <dir> --report-dir <dir>\n' +
  '  (run tools/terraform/rehearse.sh, which starts and stops moto)';

const APPLY_TIMEOUT = 1200;
const PLAN_TIMEOUT = 600;

function main(argv: string[], root: string): number {
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
  const started = Date.now();
  const logs = join(reportDir, 'logs');
  rmSync(logs, { recursive: true, force: true });
  mkdirSync(logs, { recursive: true });
  const say = (line: string) => process.stdout.write(`rehearse: ${line}\n`);

  const { toolchain, env } = prepareToolchain(root);
  const moto = JSON.parse(readFileSync(motoFile, 'utf8')) as MotoReady;
  const file = values.file ?? `environments/${environment}.yaml`;
  const original = readFileSync(join(root, file), 'utf8');
  const environmentConfig = parseEnvironment(original, file);
  const { region, app } = environmentConfig;
  const target: MotoTarget = {
    endpoint: moto.endpoint,
    region,
    accountId: moto.accountId,
    bucket: `${app}-${environment}-rehearsal-state`,
  };
  // Nothing in a tofu or AWS SDK process may find real credentials or a metadata service.
  const awsEnv: NodeJS.ProcessEnv = {
    ...env,
    AWS_ACCESS_KEY_ID: 'rehearsal',
    AWS_SECRET_ACCESS_KEY: 'rehearsal',
    AWS_REGION: region,
    AWS_EC2_METADATA_DISABLED: 'true',
    AWS_CONFIG_FILE: '/dev/null',
    AWS_SHARED_CREDENTIALS_FILE: '/dev/null',
  };
  delete awsEnv.AWS_PROFILE;
  delete awsEnv.AWS_SESSION_TOKEN;

  // 1. The network the environment file names, and the state bucket and its KMS key, in moto.
  const subnets = environmentConfig.network.privateSubnetIds.length;
  const seed = spawnSync(
    join(root, '.venv', 'bin', 'python'),
    [
      join(__dirname, 'moto_rehearsal.py'),
      'seed',
      '--endpoint',
      target.endpoint,
      '--region',
      region,
      '--bucket',
      target.bucket,
      '--state-key-alias',
      REHEARSAL_STATE_KEY,
      '--subnets',
      String(subnets),
      '--egress-security-groups',
      String(environmentConfig.network.httpsEgress?.securityGroupIds?.length ?? 0),
      '--egress-prefix-lists',
      String(environmentConfig.network.httpsEgress?.prefixListIds?.length ?? 0),
    ],
    { encoding: 'utf8', env: awsEnv },
  );
  if (seed.status !== 0) {
    process.stderr.write(`rehearse: creating the network in moto failed\n${seed.stderr}`);
    return 1;
  }
  const network = JSON.parse(seed.stdout) as RehearsalNetwork;
  say(
    `moto ${moto.motoVersion} at ${target.endpoint}: ${network.vpcId}, ${network.privateSubnetIds.join(', ')}, redis ${network.redisSecurityGroupId}, aurora ${network.auroraSecurityGroupId}, state s3://${target.bucket}`,
  );

  // 2. The rehearsal copy, synthesized into the scratch folder.
  const copy = rehearsalEnvironment(original, network, target);
  writeFileSync(join(reportDir, `${environment}.rehearsal.yaml`), copy);
  const outdir = join(scratch, 'cdktf.out');
  const rehearsed = parseEnvironment(copy, file);
  const cdktf = new App({ outdir, stackTraces: false });
  composeEnvironment(cdktf, rehearsed);
  cdktf.synth();
  const manifest = JSON.parse(readFileSync(join(outdir, 'manifest.json'), 'utf8')) as CdktfManifest;
  const order = applyOrder(manifest, STACK_ROLES);
  say(`stacks in apply order: ${order.join(', ')}`);

  const endpoints = providerEndpoints(toolchain, env, scratch);
  const runs: StackRun[] = [];
  const stacks = new Map<string, StackJson>();
  for (const name of order) {
    const source = join(outdir, 'stacks', name);
    const stack = JSON.parse(readFileSync(join(source, 'cdk.tf.json'), 'utf8')) as StackJson;
    stacks.set(name, stack);
    const dir = join(scratch, 'work', name);
    cpSync(source, dir, { recursive: true });
    const override = rehearsalOverride(name, stack, target, endpoints);
    writeFileSync(join(dir, 'rehearsal_override.tf.json'), `${JSON.stringify(override, null, 2)}\n`);
    const backend = Object.entries(stack.terraform?.backend ?? { local: {} })[0];
    runs.push({ name, dir, stateKey: stateKey(backend[0], backend[1], `${name}.tfstate`) });
  }

  const run = (
    stack: StackRun,
    step: string,
    args: string[],
    timeout: number,
    engine: 'tofu' | 'terraform' = 'tofu',
    extraEnv: NodeJS.ProcessEnv = {},
  ) => {
    const t0 = Date.now();
    // Terraform keeps its own .terraform folder: the state and lock file are what the engines share.
    const env = { ...awsEnv, ...extraEnv, ...(engine === 'terraform' ? { TF_DATA_DIR: join(stack.dir, '.terraform-hashicorp') } : {}) };
    const result = tofu(toolchain, env, stack.dir, args, { timeoutSeconds: timeout, engine });
    const seconds = (Date.now() - t0) / 1000;
    const json = args.includes('-json');
    const text = json ? humanLines(result.stdout) : result.stdout;
    writeFileSync(join(logs, `${stack.name}.${step}.log`), `$ ${engine} ${args.join(' ')}\n${text}${result.stderr}`);
    const errors = json
      ? streamDiagnostics(result.stdout)
          .filter((d) => d.severity === 'error')
          .map((d) => formatDiagnostic(stack.name, d))
      : errorLines(stack.name, result.stdout + result.stderr);
    if (result.timedOut) errors.push(`${stack.name}: ${engine} ${step} did not finish within ${timeout}s and was stopped`);
    if (result.status !== 0 && result.status !== 2 && errors.length === 0)
      errors.push(`${stack.name}: ${engine} ${step} exited ${result.status}; see logs/${stack.name}.${step}.log`);
    return { result, seconds, errors, stdout: result.stdout };
  };

  // 3. Apply in order; stop at the first failure (later stacks read earlier ones).
  // The secrets go through the upgrade an existing environment goes through: first
  // as the previous release wrote them (value, which the provider reads back into
  // state), then their real values put out of band, then this release's apply,
  // which must move them to write-only without writing the placeholder over them.
  const parametersRun = runs.find((r) => r.name === stackName(rehearsed, 'parameters'));
  const secretNames = secureParameterNames(stacks.get(parametersRun?.name ?? '') ?? {});
  const secretsCommand = (put: boolean) =>
    motoCommand(root, awsEnv, target.endpoint, target.region, 'secrets', [
      '--bucket',
      target.bucket,
      '--state-key',
      parametersRun?.stateKey ?? '',
      '--placeholder',
      SECRET_PLACEHOLDER,
      ...secretNames.flatMap((n) => ['--parameter', n]),
      ...(put ? ['--put'] : []),
    ]);
  let secretsPut: SecretsRead | LaneInspection | string | undefined;
  const applied: StackRun[] = [];
  const checks: CrossStackCheck[] = [];
  for (const stack of runs) {
    const init = run(stack, 'init', ['init', '-input=false', '-no-color'], PLAN_TIMEOUT);
    stack.init = { ok: init.result.status === 0, seconds: init.seconds, errors: init.errors };
    if (!stack.init.ok) break;
    let previous: ReturnType<typeof run> | undefined;
    if (stack === parametersRun && secretNames.length > 0) {
      const stackFile = join(stack.dir, 'cdk.tf.json');
      const current = readFileSync(stackFile, 'utf8');
      writeFileSync(stackFile, `${JSON.stringify(previousReleaseSecrets(JSON.parse(current) as StackJson), null, 2)}\n`);
      previous = run(
        stack,
        'apply-previous-release',
        ['apply', '-auto-approve', '-input=false', '-json', '-lock-timeout=60s'],
        APPLY_TIMEOUT,
      );
      writeFileSync(stackFile, current);
      if (previous.result.status === 0) secretsPut = secretsCommand(true);
    }
    const apply =
      previous && previous.result.status !== 0
        ? previous
        : run(stack, 'apply', ['apply', '-auto-approve', '-input=false', '-json', '-lock-timeout=60s'], APPLY_TIMEOUT);
    stack.apply = {
      ok: apply.result.status === 0 && !apply.result.timedOut,
      seconds: apply.seconds + (previous && previous !== apply ? previous.seconds : 0),
      errors: apply.errors,
      added: (summary(apply.stdout).add ?? 0) + (previous && previous !== apply ? (summary(previous.stdout).add ?? 0) : 0),
    };
    // Even a failed apply may have created resources: destroy covers it.
    applied.push(stack);
    say(`${stack.name}: apply ${stack.apply.ok ? 'ok' : 'FAILED'} (${stack.apply.added ?? 0} added, ${stack.apply.seconds.toFixed(1)}s)`);
    if (!stack.apply.ok) break;
    const outputs = tofu(toolchain, awsEnv, stack.dir, ['output', '-json']);
    stack.outputs = outputs.status === 0 ? (JSON.parse(outputs.stdout || '{}') as Record<string, { value: unknown }>) : {};
    checks.push(...crossStackChecks(stack, stacks.get(stack.name) ?? {}, runs, toolchain, awsEnv));
  }

  // 4. Plan again: the goal is no change at all (the secrets' real values included,
  // which Terraform must leave alone and never hold in state).
  const differences: Difference[] = [];
  const allApplied = applied.length === runs.length && applied.every((s) => s.apply?.ok);
  if (allApplied) {
    for (const stack of runs) {
      const plan = run(
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
      const show = tofu(toolchain, awsEnv, stack.dir, ['show', '-json', 'rehearsal.tfplan']);
      writeFileSync(join(logs, `${stack.name}.plan.json`), show.stdout);
      differences.push(...planDifferences(stack.name, JSON.parse(show.stdout)));
      say(`${stack.name}: plan again: ${plan.result.status === 0 ? 'no changes' : 'changes'}`);
    }
  }

  let secrets: ReportInput['secrets'];
  if (!allApplied) secrets = { skipped: 'Not rehearsed: not every stack applied.' };
  else if (secretNames.length === 0) secrets = { skipped: 'Not rehearsed: the environment has no parameters.secure.' };
  else if (secretsPut === undefined || typeof secretsPut === 'string')
    secrets = { failed: `Putting the secrets' values failed: ${secretsPut ?? 'not run'}` };
  else {
    const after = secretsCommand(false);
    secrets =
      typeof after === 'string' ? { failed: `Reading the secrets back failed: ${after}` } : { checks: secretChecks(after as SecretsRead) };
  }

  // 4b. The other engine: each state as OpenTofu wrote it (pulled from moto's S3 into
  // a local file beside a copy of the stack, the remote-state reads pointed at the
  // producers' copies), Terraform plans it and writes it back with a refresh-only
  // apply, and OpenTofu plans what Terraform wrote. Both must find nothing to do:
  // the provider address is the same under both (libs/stacks AWS_PROVIDER_SOURCE).
  let engines: ReportInput['engines'];
  const terraform = toolchain.terraform;
  if (!allApplied) engines = { skipped: 'Not rehearsed: not every stack applied.' };
  else if (!terraform?.built) engines = { skipped: 'Not rehearsed: Terraform is not built (bash tools/terraform/toolchain.sh terraform).' };
  else {
    const swaps: EngineSwap[] = [];
    const swapDir = (name: string) => join(scratch, 'engines', name);
    // Both engines install from registry.terraform.io only, as on a machine with
    // either engine and its own registry: a state that named the other engine's
    // registry would need that registry's provider, and init would fail.
    const singleRegistry = join(scratch, 'engines', 'single-registry.tfrc');
    mkdirSync(dirname(singleRegistry), { recursive: true });
    writeFileSync(singleRegistry, cliConfig({ mirror: toolchain.mirror, include: [`${AWS_PROVIDER_SOURCE.split('/')[0]}/*/*`] }));
    for (const stack of runs) {
      const dir = swapDir(stack.name);
      mkdirSync(dir, { recursive: true });
      for (const f of ['cdk.tf.json', 'rehearsal_override.tf.json']) cpSync(join(stack.dir, f), join(dir, f));
      const pulled = tofu(toolchain, awsEnv, stack.dir, ['state', 'pull']);
      writeFileSync(join(dir, 'terraform.tfstate'), pulled.stdout);
      const override = localStateOverride(stacks.get(stack.name) ?? {}, (key) => {
        const producer = runs.find((r) => r.stateKey === key);
        return producer ? join('..', producer.name, 'terraform.tfstate') : undefined;
      });
      writeFileSync(join(dir, 'zz_local_state_override.tf.json'), `${JSON.stringify(override, null, 2)}\n`);
      const here = { ...stack, dir };
      const exit = (step: string, args: string[], engine: 'tofu' | 'terraform') => {
        const r = run(here, step, args, PLAN_TIMEOUT, engine, { TF_CLI_CONFIG_FILE: singleRegistry });
        return { status: r.result.status, errors: r.errors };
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
      swaps.push({
        stack: stack.name,
        terraformPlan: tfPlan.status,
        terraformWrote: write.status === 0,
        tofuPlan: back.status,
        errors: [...(pulled.status === 0 ? [] : [`${stack.name}: tofu state pull exited ${pulled.status}`]), ...back.errors],
      });
      say(`${stack.name}: Terraform plans OpenTofu's state: exit ${tfPlan.status}; OpenTofu plans Terraform's: exit ${back.status}`);
    }
    engines = { terraform: terraform.version, swaps };
  }

  // 5. Roll the furthest lane back to off and apply that, stack by stack.
  const lane = rollbackLane(rehearsed);
  let rollback: ReportInput['rollback'];
  let inspectRolledBack: (() => LaneInspection | string) | undefined;
  let rolledBackState: LaneInspection | undefined;
  const logGroups = [...rehearsed.lanes.map((l) => logGroupName(rehearsed, l.name)), stoppedTasksLogGroupName(rehearsed)];
  if (!allApplied) rollback = { skipped: 'Not rehearsed: not every stack applied.' };
  else if (!lane) rollback = { skipped: 'Not rehearsed: every lane is already off.' };
  else {
    // A scaled lane runs what its scaler set, not what Terraform wrote: set that through ECS
    // first, so the rollback has to bring the service down to 0 itself.
    const startCount = lane.sizedBy === 'fixed' ? lane.tasks.baseline : Math.max(1, lane.tasks.max);
    const scaled =
      lane.sizedBy === 'fixed'
        ? undefined
        : motoCommand(root, awsEnv, target.endpoint, target.region, 'scale', [
            '--cluster',
            clusterName(rehearsed),
            '--service',
            serviceName(rehearsed, lane.name),
            '--count',
            String(startCount),
          ]);
    const rolled = rolledBackEnvironment(copy, lane.name);
    writeFileSync(join(reportDir, `${environment}.rollback.yaml`), rolled);
    const rolledOut = join(scratch, 'cdktf.rollback');
    const rolledApp = new App({ outdir: rolledOut, stackTraces: false });
    composeEnvironment(rolledApp, parseEnvironment(rolled, file));
    rolledApp.synth();
    const applies: RollbackRehearsal['applies'][number][] = [];
    for (const stack of runs) {
      const source = join(rolledOut, 'stacks', stack.name);
      cpSync(source, stack.dir, { recursive: true, force: true });
      const json = JSON.parse(readFileSync(join(source, 'cdk.tf.json'), 'utf8')) as StackJson;
      writeFileSync(
        join(stack.dir, 'rehearsal_override.tf.json'),
        `${JSON.stringify(rehearsalOverride(stack.name, json, target, endpoints), null, 2)}\n`,
      );
      const apply = run(stack, 'rollback-apply', ['apply', '-auto-approve', '-input=false', '-json', '-lock-timeout=60s'], APPLY_TIMEOUT);
      const counts = summary(apply.stdout);
      const ok = apply.result.status === 0 && !apply.result.timedOut;
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
    inspectRolledBack = () =>
      <LaneInspection | string>(
        motoCommand(root, awsEnv, target.endpoint, target.region, 'inspect', [
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
    const after = inspectRolledBack();
    if (typeof scaled === 'string')
      rollback = { failed: `Setting ${lane.name} to ${startCount} task(s) before the rollback failed: ${scaled}` };
    else if (typeof after === 'string') rollback = { failed: `Rolled back, but moto could not be read: ${after}` };
    else {
      rolledBackState = after;
      rollback = { lane: lane.name, from: lane.stage, startCount, applies, checks: rollbackChecks(logGroups, after) };
    }
  }

  // 6. Destroy in reverse order, whatever happened above.
  for (const stack of [...applied].reverse()) {
    const args = ['destroy', '-auto-approve', '-input=false', '-json', '-lock-timeout=60s'];
    let destroy = run(stack, 'destroy', args, APPLY_TIMEOUT);
    const errors = destroy.errors;
    if (destroy.result.status !== 0 && !destroy.result.timedOut) {
      // Destroy refreshes and plans first; a plan error (a moto round-trip the provider
      // refuses) must not leave resources behind. The first errors stay in the report.
      destroy = run(stack, 'destroy-without-refresh', [...args, '-refresh=false'], APPLY_TIMEOUT);
      errors.push(
        ...destroy.errors,
        `${stack.name}: destroy failed as above and was repeated with -refresh=false: ${destroy.result.status === 0 ? 'ok' : 'failed too'}`,
      );
    }
    stack.destroy = {
      ok: destroy.result.status === 0 && !destroy.result.timedOut,
      seconds: destroy.seconds,
      errors,
      removed: summary(destroy.stdout).remove,
    };
    say(
      `${stack.name}: destroy ${stack.destroy.ok ? 'ok' : 'FAILED'} (${stack.destroy.removed ?? 0} destroyed, ${stack.destroy.seconds.toFixed(1)}s)`,
    );
  }

  if ('checks' in rollback && inspectRolledBack && rolledBackState) {
    const after = inspectRolledBack();
    rollback =
      typeof after === 'string'
        ? { failed: `${rollback.lane} rolled back, but moto could not be read after destroy: ${after}` }
        : { ...rollback, checks: rollbackChecks(logGroups, rolledBackState, after) };
  }

  const callLog = join(scratch, 'calls.jsonl');
  const calls = existsSync(callLog)
    ? readFileSync(callLog, 'utf8')
        .split('\n')
        .filter(Boolean)
        .map((line) => JSON.parse(line) as RecordedCall)
    : [];
  const called = calledActions(calls, order);
  writeFileSync(join(reportDir, 'called-actions.json'), `${JSON.stringify(called, null, 2)}\n`);
  // What each stack's provider called, against the deploy policy synth wrote for it.
  const permissions: PermissionCheck[] = STACK_ROLES.map((role) => {
    const name = stackName(rehearsed, role);
    const granted = new Set(actionsOf(deployPolicy(rehearsed, role, stacks.get(name) ?? {})));
    const used = called[name] ?? [];
    const missing = used.filter((a) => !granted.has(a) && !Object.hasOwn(UNGRANTED_CALLS, a));
    return { stack: name, called: used.length, missing, unused: [...granted].filter((a) => !used.includes(a)).sort() };
  });

  const unsupportedLog = join(scratch, 'moto-unsupported.log');
  const unsupported = existsSync(unsupportedLog) ? [...new Set(readFileSync(unsupportedLog, 'utf8').split('\n').filter(Boolean))] : [];
  const report = renderReport({
    environment,
    engine: engineLine(toolchain),
    moto,
    target,
    network,
    runs,
    checks,
    differences,
    unsupported,
    rollback,
    secrets,
    engines,
    permissions,
    seconds: (Date.now() - started) / 1000,
  });
  writeFileSync(join(reportDir, 'report.md'), report.markdown);
  process.stdout.write(`\n${report.markdown}\n`);
  say(`report: ${join(reportDir, 'report.md')}; logs: ${logs}`);
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

try {
  process.exitCode = main(process.argv.slice(2), join(__dirname, '..', '..'));
} catch (error) {
  if (!(error instanceof ToolchainError)) throw error;
  process.stderr.write(`rehearse: ${error.message}\n`);
  process.exitCode = 1;
}
