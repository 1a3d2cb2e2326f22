import { BROKERS, type EnvironmentConfig, type LaneConfig } from '@queue-lanes/config';
import { sampleEnvironment } from '@queue-lanes/config/testing';
import type { CloudwatchMetricAlarmMetricQuery } from '@cdktf/provider-aws/lib/cloudwatch-metric-alarm';
import { BROKER_MODULES, brokerOf, type AlarmSpec, type QueueSignalContext } from './index';
import { sqsSettings } from './sqs';

const KEY = 'arn:aws:kms:eu-west-2:111111111111:key/1234abcd-12ab-34cd-56ef-1234567890ab';

const env = sampleEnvironment(
  [
    '  sync:',
    '    queues: [default-high, notifications]',
    '    stage: scaling',
    '    tasks: { min: 0, max: 2 }',
    '  feeds:',
    '    broker: sqs',
    '    queues: [propertyfeed-staging-feeds]',
    '    stage: scaling',
    '    tasks: { min: 0, max: 2 }',
    '    sqs: { maxReceiveCount: 3 }',
  ].join('\n'),
);

/** The alarm's metric queries (an alarm a broker describes never takes a token for them). */
function queries(alarm: AlarmSpec): CloudwatchMetricAlarmMetricQuery[] {
  return alarm.config.metricQuery as CloudwatchMetricAlarmMetricQuery[];
}

function lane(name: string): LaneConfig {
  return env.lanes.find((l) => l.name === name)!;
}

function context(
  subject: LaneConfig,
  overrides: Partial<QueueSignalContext> = {},
  environment: EnvironmentConfig = env,
): QueueSignalContext {
  return {
    env: environment,
    lane: subject,
    thresholds: { backlog: 20, backlogMinutes: 5, oldestJobSeconds: 600, oldestJobMinutes: 3 },
    namespace: 'QueueLanes',
    dashboardName: 'propertyfeed-staging-queue-lanes',
    logGroupName: `/ecs/propertyfeed-staging/${subject.name}`,
    controllerFunctionName: 'propertyfeed-staging-backlog-controller',
    controllerMeasured: subject.broker === 'redis',
    ...overrides,
  };
}

describe('the broker table', () => {
  it('has a module for every broker the schema accepts, each under its own name', () => {
    expect(Object.keys(BROKER_MODULES).sort()).toEqual([...BROKERS].sort());
    for (const broker of BROKERS) expect(BROKER_MODULES[broker].broker).toBe(broker);
    expect(brokerOf(lane('feeds'))).toBe(BROKER_MODULES.sqs);
  });
});

describe('redis', () => {
  it('needs no task-role grant: the network admits the workers to Redis', () => {
    expect(brokerOf(lane('sync')).taskStatements(env, lane('sync'), KEY)).toEqual([]);
  });

  it('alarms on what the controller publishes, and only when it measures the lane', () => {
    const measured = brokerOf(lane('sync')).queueSignals(context(lane('sync')));
    expect(measured.measured).toBe(true);
    expect(measured.queueAlarms.map((a) => [a.kind, a.config.metricName])).toEqual([
      ['backlog', 'Backlog'],
      ['oldest-job', 'OldestRunnableAgeSeconds'],
      ['key-prefix', 'KeysUnderOtherPrefix'],
    ]);
    expect(measured.queueAlarms[0].config.dimensions).toEqual({ Environment: 'staging', Lane: 'sync' });
    expect(measured.queueAlarms[1].config.alarmDescription).toContain('in default-high, notifications');

    const unmeasured = brokerOf(lane('sync')).queueSignals(context(lane('sync'), { controllerMeasured: false }));
    expect(unmeasured).toMatchObject({ measured: false, queueAlarms: [], failureAlarms: [] });
    expect(unmeasured.dashboard.backlog).toEqual(measured.dashboard.backlog);
  });

  it('watches reservations nobody retries when retry_after is null', () => {
    const never = sampleEnvironment(
      `  sync:
    queues: [default-high]
    stage: scaling
    tasks: { min: 0, max: 2 }`,
      {
        redis: 'redis: { host: queues.cache.internal, keyPrefix: propertyfeed_database_, retryAfter: null }',
      },
    );
    const signals = brokerOf(never.lanes[0]).queueSignals(context(never.lanes[0], {}, never));
    expect(signals.queueAlarms.map((a) => a.kind)).toEqual(['backlog', 'oldest-job', 'key-prefix', 'stuck-jobs']);
  });
});

describe('reading the queues by hand', () => {
  it("redis: redis-cli on the connection as rq, then the lengths of Laravel's keys of every queue", () => {
    const inspection = BROKER_MODULES.redis.queueInspection(env, '--region eu-west-2')!;
    expect(inspection.setup).toEqual(['rq() { redis-cli -h queues.cache.internal -p 6379 --tls "$@"; }']);
    expect(inspection.laneLines(lane('sync'))).toEqual([
      "rq LLEN 'propertyfeed_database_queues:default-high'; rq ZCARD 'propertyfeed_database_queues:default-high:reserved'; rq ZCARD 'propertyfeed_database_queues:default-high:delayed'",
      "rq LLEN 'propertyfeed_database_queues:notifications'; rq ZCARD 'propertyfeed_database_queues:notifications:reserved'; rq ZCARD 'propertyfeed_database_queues:notifications:delayed'",
    ]);
  });

  it('redis: nothing to run where the file does not say where Redis is', () => {
    const nowhere = sampleEnvironment(
      `  sync:
    queues: [sync]
    stage: off`,
      { redis: '' },
    );
    expect(BROKER_MODULES.redis.queueInspection(nowhere, '--region eu-west-2')).toBeUndefined();
  });

  it("sqs: the queue's attributes, found by its name", () => {
    const inspection = BROKER_MODULES.sqs.queueInspection(env, '--region eu-west-2')!;
    expect(inspection.setup).toEqual([]);
    expect(inspection.laneLines(lane('feeds')).join('\n')).toContain('--queue-name propertyfeed-staging-feeds');
  });
});

describe('sqs', () => {
  it('grants the lane its own queue and the key only through SQS', () => {
    const statements = brokerOf(lane('feeds')).taskStatements(env, lane('feeds'), KEY);
    expect(statements).toEqual([
      expect.objectContaining({ Sid: 'ConsumeLaneQueue', Resource: ['arn:aws:sqs:eu-west-2:111111111111:propertyfeed-staging-feeds'] }),
      expect.objectContaining({
        Sid: 'UseLaneQueueKey',
        Resource: KEY,
        Condition: { StringEquals: { 'kms:ViaService': 'sqs.eu-west-2.amazonaws.com' } },
      }),
    ]);
  });

  it('sums visible and in-flight messages over every queue, and watches the dead-letter queue', () => {
    const signals = brokerOf(lane('feeds')).queueSignals(context(lane('feeds'), { queueNames: ['a', 'b'], deadLetterQueueName: 'a-dlq' }));
    expect(signals.measured).toBe(true);
    const [backlog, oldest] = signals.queueAlarms;
    expect(queries(backlog)[0]).toMatchObject({ expression: 'visible0 + inflight0 + visible1 + inflight1' });
    expect(queries(oldest)[0]).toMatchObject({ expression: 'MAX([age0, age1])' });
    expect(signals.failureAlarms.map((a) => [a.kind, a.config.dimensions])).toEqual([['dead-letters', { QueueName: 'a-dlq' }]]);
    expect(signals.failureAlarms[0].config.alarmDescription).toContain('received 3 times');
  });

  it('names its queues by the naming module when the caller does not', () => {
    const [backlog, oldest] = brokerOf(lane('feeds')).queueSignals(context(lane('feeds'))).queueAlarms;
    expect(queries(backlog)[1]).toMatchObject({ metric: { dimensions: { QueueName: 'propertyfeed-staging-feeds' } } });
    expect(oldest.config).toMatchObject({
      metricName: 'ApproximateAgeOfOldestMessage',
      dimensions: { QueueName: 'propertyfeed-staging-feeds' },
    });
  });

  it('refuses a lane of another broker where SQS settings are needed', () => {
    expect(() => sqsSettings(lane('sync'))).toThrow('lane "sync" uses broker redis, not sqs');
    expect(sqsSettings(lane('feeds')).maxReceiveCount).toBe(3);
  });
});
