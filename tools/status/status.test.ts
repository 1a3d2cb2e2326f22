import { PutMetricAlarmCommand, PutMetricDataCommand } from '@aws-sdk/client-cloudwatch';
import { CreateClusterCommand, CreateServiceCommand, RegisterTaskDefinitionCommand } from '@aws-sdk/client-ecs';
import { PutParameterCommand } from '@aws-sdk/client-ssm';
import { DEFAULT_NAMESPACE, DIMENSION, LOG_METRIC, METRIC } from '@queue-lanes/contract';
import {
  alarmName,
  clusterName,
  controllerLogGroupName,
  laneParameterName,
  logGroupName,
  logMetricNamespace,
  serviceName,
  type EnvironmentConfig,
} from '@queue-lanes/config';
import { sampleEnvironment } from '@queue-lanes/config/testing';
import { loadNamedEnvironment } from '@queue-lanes/stacks';
import { spawnSync } from 'node:child_process';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { CloudWatchLogsClient, CreateLogGroupCommand, CreateLogStreamCommand, PutLogEventsCommand } from '@aws-sdk/client-cloudwatch-logs';
import { TEST_CREDENTIALS, motoClients } from '../../libs/backlog-controller/src/testing/aws';
import { startMoto, type RunningMoto } from '../../libs/backlog-controller/src/testing/servers';
import { judge, readStatus, renderStatus, sparkline, type StatusClients } from './status';

/*
 * `status` against moto, for each environment: ECS services, metrics and alarms put there
 * by the test as the stacks and the controller would, one verdict per lane.
 */

const root = join(__dirname, '..', '..');
let moto: RunningMoto;

beforeAll(async () => {
  moto = await startMoto();
});
afterAll(async () => moto?.stop());

async function seed(env: EnvironmentConfig, endpoint: string, now: Date): Promise<StatusClients> {
  // CloudWatch through its Query protocol, the one moto here speaks (libs/backlog-controller/src/testing/aws.ts).
  const { ecs, cloudwatch, ssm } = motoClients(endpoint);
  const logs = new CloudWatchLogsClient({ endpoint, region: env.region, credentials: TEST_CREDENTIALS });
  await ecs.send(new CreateClusterCommand({ clusterName: clusterName(env) }));
  const { taskDefinition } = await ecs.send(
    new RegisterTaskDefinitionCommand({ family: 'x', containerDefinitions: [{ name: 'worker', image: 'app', memory: 512 }] }),
  );
  for (const lane of env.lanes) {
    await ecs.send(
      new CreateServiceCommand({
        cluster: clusterName(env),
        serviceName: serviceName(env, lane.name),
        taskDefinition: taskDefinition!.taskDefinitionArn,
        desiredCount: 1,
      }),
    );
    await ssm.send(
      new PutParameterCommand({
        Name: laneParameterName(env, lane.name, 'host-consumer'),
        Value: 'enabled',
        Type: 'String',
        Overwrite: true,
      }),
    );
  }
  const at = (minutesAgo: number) => new Date(now.getTime() - minutesAgo * 60_000);
  const put = (namespace: string, name: string, value: number, lane?: string, minutesAgo = 1) =>
    cloudwatch.send(
      new PutMetricDataCommand({
        Namespace: namespace,
        MetricData: [
          {
            MetricName: name,
            Value: value,
            Timestamp: at(minutesAgo),
            ...(lane
              ? {
                  Dimensions: [
                    { Name: DIMENSION.environment, Value: env.environment },
                    { Name: DIMENSION.lane, Value: lane },
                  ],
                }
              : {}),
          },
        ],
      }),
    );
  const [first, second, third] = env.lanes.map((l) => l.name);
  // first: healthy, a backlog that rose and fell; second: failing in a loop; third: not draining.
  for (const [minutesAgo, value] of [
    [60, 0],
    [40, 30],
    [20, 12],
    [1, 0],
  ])
    await put(DEFAULT_NAMESPACE, METRIC.backlog, value, first, minutesAgo);
  await put(logMetricNamespace(DEFAULT_NAMESPACE, env, first), LOG_METRIC.finishedJobs, 40);
  await put(logMetricNamespace(DEFAULT_NAMESPACE, env, second), LOG_METRIC.failedJobs, 9);
  await put(logMetricNamespace(DEFAULT_NAMESPACE, env, second), LOG_METRIC.finishedJobs, 10);
  await put(DEFAULT_NAMESPACE, METRIC.backlog, 50, third);
  await put(DEFAULT_NAMESPACE, METRIC.oldestRunnableAgeSeconds, 5000, third);
  await cloudwatch.send(
    new PutMetricAlarmCommand({
      AlarmName: alarmName(env, second, 'failed-jobs'),
      MetricName: LOG_METRIC.failedJobs,
      Namespace: logMetricNamespace(DEFAULT_NAMESPACE, env, second),
      Statistic: 'Sum',
      Period: 60,
      EvaluationPeriods: 1,
      Threshold: 5,
      ComparisonOperator: 'GreaterThanThreshold',
    }),
  );
  // The controller's tick log line (its TickReport as JSON), as the Lambda writes it.
  const group = controllerLogGroupName(env);
  await logs.send(new CreateLogGroupCommand({ logGroupName: group }));
  await logs.send(new CreateLogStreamCommand({ logGroupName: group, logStreamName: 'tick' }));
  const tick = {
    mode: 'schedule',
    at: at(1).toISOString(),
    lanes: [{ lane: third, reason: 'hold-saturated', desired: 1 }],
    changes: [],
    errors: [],
  };
  await logs.send(
    new PutLogEventsCommand({
      logGroupName: group,
      logStreamName: 'tick',
      logEvents: [{ timestamp: at(1).getTime(), message: JSON.stringify(tick) }],
    }),
  );
  return { ecs, cloudwatch, ssm, logs };
}

describe.each(['staging', 'production'])('status of %s', (name) => {
  const env = loadNamedEnvironment(root, name);

  it('reads ECS, CloudWatch and SSM once and gives each lane its verdict', async () => {
    const now = new Date();
    const clients = await seed(env, moto.endpoint, now);
    const status = await readStatus(env, clients, env.lanes, now);
    expect(status.unread).toEqual([]);
    const [first, second, third] = status.lanes;
    expect(first).toMatchObject({ verdict: 'healthy', desired: 1, hostConsumer: 'enabled', finished: 40 });
    expect(first.backlog).toEqual([0, 30, 12, 0]);
    expect(second).toMatchObject({
      verdict: 'failing in a loop',
      why: '9 of 10 attempts failed in the last 5 minutes',
      next: 'runbook: "A lane failing in a loop"',
    });
    expect(third).toMatchObject({ verdict: 'not draining', oldestRunnableSeconds: 5000, decision: 'hold-saturated, desired 1' });
    expect(renderStatus(status)).toContain(`${third.lane}: NOT DRAINING — 50 jobs waiting`);
  });

  it('puts connection errors first: a lane logging them has a connectivity verdict, whatever its backlog', async () => {
    const now = new Date();
    const { cloudwatch } = motoClients(moto.endpoint);
    const lane = env.lanes[2].name;
    await cloudwatch.send(
      new PutMetricDataCommand({
        Namespace: logMetricNamespace(DEFAULT_NAMESPACE, env, lane),
        MetricData: [{ MetricName: LOG_METRIC.redisErrors, Value: 4, Timestamp: new Date(now.getTime() - 60_000) }],
      }),
    );
    const { ecs, ssm } = motoClients(moto.endpoint);
    const logs = new CloudWatchLogsClient({ endpoint: moto.endpoint, region: env.region, credentials: TEST_CREDENTIALS });
    const status = await readStatus(env, { ecs, cloudwatch, ssm, logs }, env.lanes, now);
    expect(status.lanes[2]).toMatchObject({ verdict: 'connectivity', why: '4 Redis and 0 Aurora connection errors in the last 5 minutes' });
  });
});

describe('right-sizing from the job lines', () => {
  const env = loadNamedEnvironment(root, 'staging');

  /** Job lines as the worker entry point writes them (libs/worker-service/src/worker.php), into the lane's log group. */
  async function putJobLines(lane: string, figures: readonly (readonly [number, number])[], now: Date): Promise<void> {
    const logs = new CloudWatchLogsClient({ endpoint: moto.endpoint, region: env.region, credentials: TEST_CREDENTIALS });
    const group = logGroupName(env, lane);
    await logs.send(new CreateLogGroupCommand({ logGroupName: group })).catch(() => undefined);
    await logs.send(new CreateLogStreamCommand({ logGroupName: group, logStreamName: `${lane}/worker-1/1` }));
    const line = ([runtimeSeconds, peakMemoryMiB]: readonly [number, number]) =>
      JSON.stringify({
        queueLanes: 'job',
        lane,
        queue: lane,
        connection: 'redis',
        job: 'App\\Jobs\\X',
        outcome: 'finished',
        error: false,
        runtimeSeconds,
        peakMemoryMiB,
      });
    const messages = [...figures.map(line), '[2026-12-06 00:00:00][abc] Processed:  App\\Jobs\\X', '{"queueLanes":"other"}'];
    await logs.send(
      new PutLogEventsCommand({
        logGroupName: group,
        logStreamName: `${lane}/worker-1/1`,
        logEvents: messages.map((message, i) => ({ timestamp: now.getTime() - 30 * 60_000 + i, message })),
      }),
    );
  }

  it('shows runtime and peak memory against job.timeout, job.memory and memory_limit, naming the limits too close or far above', async () => {
    const now = new Date();
    // bulk: 40 attempts of 1..40 s, the top fifth at 420 MiB; image: 25 two-second jobs of 40 MiB; sync: none.
    await putJobLines(
      'bulk',
      Array.from({ length: 40 }, (_, i) => [i + 1, i >= 32 ? 420 : 300] as const),
      now,
    );
    await putJobLines(
      'image',
      Array.from({ length: 25 }, () => [2, 40] as const),
      now,
    );
    const logs = new CloudWatchLogsClient({ endpoint: moto.endpoint, region: env.region, credentials: TEST_CREDENTIALS });
    const status = await readStatus(env, { ...motoClients(moto.endpoint), logs }, env.lanes, now);
    expect(status.unread).toEqual([]);
    const byName = new Map(status.lanes.map((l) => [l.lane, l]));
    const bulk = env.lanes.find((l) => l.name === 'bulk')!;
    // moto applies no JSON filter pattern (it matches every event): the console line and the other JSON are dropped by status itself.
    expect(byName.get('bulk')!.sizing).toEqual({
      attempts: 40,
      runtime: { p50: 20, p95: 38, max: 40 },
      memory: { p50: 300, p95: 420, max: 420 },
      limits: { timeout: 110, memory: 512, memoryLimit: bulk.groups[0].phpMemoryLimit },
      findings: ['bulk: p95 job memory 420 MiB of 512 (job.memory)'],
    });
    expect(byName.get('image')!.sizing!.findings).toEqual([
      'image: job.timeout 90 s is 45× the longest job (2 s)',
      'image: job.memory 512 MiB is 13× the largest job (40 MiB)',
    ]);
    expect(byName.get('sync')!.sizing).toBeNull();
    const screen = renderStatus(status);
    expect(screen).toContain(
      `  jobs (60 min, 40 attempts): runtime p50 20 s, p95 38 s, max 40 s of job.timeout 110 s; peak memory p95 420 MiB, max 420 MiB of job.memory 512 MiB and memory_limit ${bulk.groups[0].phpMemoryLimit} MiB\n  sizing: bulk: p95 job memory 420 MiB of 512 (job.memory)`,
    );
    expect(screen).toContain('  jobs (60 min): no attempt ended');
  });
});

describe('status of SQS lanes', () => {
  // The one controller publishes an SQS lane's Backlog as it does a Redis lane's, so status reads both alike.
  const env = sampleEnvironment(
    ['feeds', 'exports', 'imports']
      .map((lane) => `  ${lane}:\n    broker: sqs\n    queues: [sqsfeeds-staging-${lane}]\n    stage: owned\n    tasks: { min: 0, max: 2 }`)
      .join('\n'),
    // An app of its own: the staging file's tests have made propertyfeed's log groups in this moto.
    { app: 'app: sqsfeeds', redis: 'redis: { tls: true }', parameters: 'parameters: { plain: {}, secure: [] }' },
  );

  it('gives each its verdict from what the controller measured', async () => {
    const now = new Date();
    const status = await readStatus(env, await seed(env, moto.endpoint, now), env.lanes, now);
    expect(status.unread).toEqual([]);
    expect(status.lanes.map((l) => [l.lane, l.verdict])).toEqual([
      ['feeds', 'healthy'],
      ['exports', 'failing in a loop'],
      ['imports', 'not draining'],
    ]);
    expect(status.lanes[0].backlog).toEqual([0, 30, 12, 0]);
  });
});

describe('a lane whose service does not reach its count', () => {
  it('has no steady state: tasks that stop as they start, or a rollout ECS gave up on', () => {
    const lane = loadNamedEnvironment(root, 'staging').lanes[0];
    const quiet = { backlog: [], oldest: [], finished: [], failed: [], redis: [], aurora: [], alarms: [] };
    expect(judge(lane, { ...quiet, counts: { desired: 2, running: 0, pending: 0 } })).toMatchObject({
      verdict: 'no steady state',
      why: '0 of 2 tasks running, 0 pending',
      next: 'runbook: "Logs and stop reasons"',
    });
    expect(judge(lane, { ...quiet, counts: { desired: 1, running: 1, pending: 0, rollout: 'FAILED' } }).verdict).toBe('no steady state');
    expect(judge(lane, { ...quiet, counts: { desired: 2, running: 1, pending: 1 } }).verdict).toBe('healthy');
  });
});

describe('status, when a read fails', () => {
  const env = loadNamedEnvironment(root, 'staging');

  it('says which read failed, in the order the reads are listed however they answer, and prints no figure it did not read', async () => {
    // ECS answers last (a slow refusal), the rest at once: it is still listed first.
    const slow = createServer((_, res) =>
      setTimeout(
        () =>
          res
            .writeHead(403, { 'content-type': 'application/x-amz-json-1.1' })
            .end('{"__type":"AccessDeniedException","message":"slow no"}'),
        300,
      ),
    );
    await new Promise<void>((done) => slow.listen(0, '127.0.0.1', done));
    const refused = motoClients(moto.endpoint, ['GetMetricDataCommand', 'DescribeAlarmsCommand', 'GetParametersCommand']);
    const clients: StatusClients = {
      ...refused,
      ecs: motoClients(`http://127.0.0.1:${(slow.address() as AddressInfo).port}`).ecs,
      logs: new CloudWatchLogsClient({ endpoint: 'http://127.0.0.1:9', region: env.region, credentials: TEST_CREDENTIALS, maxAttempts: 1 }),
    };
    const status = await readStatus(env, clients).finally(() => slow.close());
    expect(status.unread.map((u) => u.split(':')[0])).toEqual([
      'ECS DescribeServices',
      'CloudWatch GetMetricData',
      'CloudWatch DescribeAlarms',
      'SSM GetParameters',
      'CloudWatch Logs FilterLogEvents',
      'CloudWatch Logs job lines',
    ]);
    expect(status.unread[0]).toBe('ECS DescribeServices: AccessDeniedException: slow no');
    expect(status.credentials).toBeUndefined();
    expect(status.lanes.map((l) => l.verdict)).toEqual(env.lanes.map(() => 'unread'));
    expect(status.lanes[0].why).toMatch(/^could not read /);
    // Nothing read, nothing counted: no key in --json, "unread" on the screen, never a 0.
    expect(status.fleet).toEqual({ max: env.fleet.maxTasks });
    expect(status.controller).toEqual({});
    for (const key of ['backlog', 'finished', 'failed', 'redisErrors', 'auroraErrors', 'alarms', 'desired', 'hostConsumer'])
      expect(status.lanes[0]).not.toHaveProperty(key);
    const screen = renderStatus(status);
    expect(screen.split('\n')[0]).toBe(
      `${clusterName(env)}: fleet unread (at most ${env.fleet.maxTasks} tasks); controller last tick unknown, errors unread`,
    );
    expect(screen).toContain(
      [
        `  ${env.lanes[0].stage}, count set by ${env.lanes[0].sizedBy}; service unread; host consumers unread`,
        '  backlog unread  oldest runnable unread',
        '  3 h: finished, failed and connection errors unread; alarms in ALARM: unread',
        '  job runtime and memory unread',
      ].join('\n'),
    );
    expect(screen).not.toMatch(/\b0 (of|errors|finished|failed)\b|ALARM: none/);
  }, 30_000);

  it('shows what the reads that answered gave, and only that', async () => {
    const now = new Date();
    // An app of its own, so its services and alarms are this test's alone in moto.
    const partial = { ...env, app: 'partial' };
    const seeded = await seed(partial, moto.endpoint, now);
    const clients = { ...seeded, cloudwatch: motoClients(moto.endpoint, ['GetMetricDataCommand']).cloudwatch };
    const status = await readStatus(partial, clients, partial.lanes, now);
    expect(status.unread).toEqual(['CloudWatch GetMetricData: Error: GetMetricDataCommand refused by the test']);
    expect(status.fleet.running).toEqual(expect.any(Number));
    expect(status.controller.errors).toBeUndefined();
    expect(status.lanes[1]).toMatchObject({
      desired: 1,
      hostConsumer: 'enabled',
      alarms: [alarmName(partial, env.lanes[1].name, 'failed-jobs')],
    });
    expect(status.lanes[1].finished).toBeUndefined();
    const screen = renderStatus(status);
    expect(screen).toContain(`fleet ${status.fleet.running} of ${env.fleet.maxTasks} tasks running`);
    expect(screen).toContain('finished, failed and connection errors unread');
  });

  it('says in one line, without credentials, why nothing was read and how to sign in', () => {
    // The SDK's own credential chain with nowhere to find any: no variables, no files, no instance role.
    const bare = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('AWS_')));
    const run = spawnSync(process.execPath, ['tools/run-app.cjs', 'tools/status/main.ts', '--environment', 'staging'], {
      cwd: root,
      encoding: 'utf8',
      env: {
        ...bare,
        HOME: '/nonexistent',
        AWS_CONFIG_FILE: '/nonexistent/config',
        AWS_SHARED_CREDENTIALS_FILE: '/nonexistent/credentials',
        AWS_EC2_METADATA_DISABLED: 'true',
        AWS_ENDPOINT_URL: 'http://127.0.0.1:9',
      },
    });
    expect(run.status).toBe(1);
    expect(run.stdout).toBe(
      `${clusterName(env)}: no AWS credentials: the AWS SDK found none (environment, shared config, SSO profile or role), so nothing was read; sign in to account 111111111111 (aws sso login --profile <profile>, then export AWS_PROFILE=<profile>; or export AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY) and run status again\n`,
    );
  }, 60_000);
});

describe('sparkline', () => {
  it('scales a series to its own maximum', () => {
    expect(sparkline([0, 30, 12, 0])).toBe('▁█▄▁');
    expect(sparkline([0, 0])).toBe('▁▁');
  });
});
