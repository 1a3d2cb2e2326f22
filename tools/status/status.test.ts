import { PutMetricAlarmCommand, PutMetricDataCommand } from '@aws-sdk/client-cloudwatch';
import { CreateClusterCommand, CreateServiceCommand, RegisterTaskDefinitionCommand } from '@aws-sdk/client-ecs';
import { PutParameterCommand } from '@aws-sdk/client-ssm';
import { DEFAULT_NAMESPACE, DIMENSION, LOG_METRIC, METRIC } from '@queue-lanes/contract';
import {
  alarmName,
  clusterName,
  controllerLogGroupName,
  laneParameterName,
  logMetricNamespace,
  serviceName,
  type EnvironmentConfig,
} from '@queue-lanes/config';
import { sampleEnvironment } from '@queue-lanes/config/testing';
import { loadNamedEnvironment } from '@queue-lanes/stacks';
import { join } from 'node:path';
import { CloudWatchLogsClient, CreateLogGroupCommand, CreateLogStreamCommand, PutLogEventsCommand } from '@aws-sdk/client-cloudwatch-logs';
import { TEST_CREDENTIALS, motoClients } from '../../libs/backlog-controller/src/testing/aws';
import { startMoto, type RunningMoto } from '../../libs/backlog-controller/src/testing/servers';
import { awsClients, judge, readStatus, renderStatus, sparkline, type StatusClients } from './status';

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
  it('says which read failed and reports the rest', async () => {
    const env = loadNamedEnvironment(root, 'staging');
    const clients = awsClients(env.region, 'http://127.0.0.1:9');
    const status = await readStatus(env, clients);
    expect(status.unread.map((u) => u.split(':')[0]).sort()).toEqual([
      'CloudWatch DescribeAlarms',
      'CloudWatch GetMetricData',
      'CloudWatch Logs FilterLogEvents',
      'ECS DescribeServices',
      'SSM GetParameters',
    ]);
    expect(status.lanes.map((l) => l.verdict)).toEqual(env.lanes.map(() => 'unread'));
    expect(status.lanes[0].why).toMatch(/^could not read /);
  }, 60_000);
});

describe('sparkline', () => {
  it('scales a series to its own maximum', () => {
    expect(sparkline([0, 30, 12, 0])).toBe('▁█▄▁');
    expect(sparkline([0, 0])).toBe('▁▁');
  });
});
