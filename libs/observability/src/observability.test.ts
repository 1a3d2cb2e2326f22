// Types of the matchers tools/jest-setup.ts installs (Testing.setupJest()).
import type {} from 'cdktf/lib/testing/adapters/jest';
import { containerMemoryLimit, phpMemoryLimit, type AlarmSubscription } from '@queue-lanes/config';
import { sampleEnvironment } from '@queue-lanes/config/testing';
import { CloudwatchDashboard } from '@cdktf/provider-aws/lib/cloudwatch-dashboard';
import { CloudwatchEventRule } from '@cdktf/provider-aws/lib/cloudwatch-event-rule';
import { CloudwatchEventTarget } from '@cdktf/provider-aws/lib/cloudwatch-event-target';
import { CloudwatchLogGroup } from '@cdktf/provider-aws/lib/cloudwatch-log-group';
import { CloudwatchLogMetricFilter } from '@cdktf/provider-aws/lib/cloudwatch-log-metric-filter';
import { CloudwatchMetricAlarm } from '@cdktf/provider-aws/lib/cloudwatch-metric-alarm';
import { KmsKey } from '@cdktf/provider-aws/lib/kms-key';
import { LambdaPermission } from '@cdktf/provider-aws/lib/lambda-permission';
import { SnsTopic } from '@cdktf/provider-aws/lib/sns-topic';
import { SnsTopicSubscription } from '@cdktf/provider-aws/lib/sns-topic-subscription';
import { Testing } from 'cdktf';
import {
  AURORA_ERROR_PATTERN,
  FAILED_JOB_PATTERN,
  FINISHED_JOB_PATTERN,
  Observability,
  REDIS_ERROR_PATTERN,
  laneAlarmThresholds,
  laneProcesses,
  observabilityProps,
  type AlarmThresholds,
  type DashboardBody,
  type ObservabilityProps,
  type ObservedLane,
  type Widget,
} from './index';
import type { MetricLine } from '@queue-lanes/brokers';

const ACCOUNT = '111111111111';
const KEY = `arn:aws:kms:eu-west-2:${ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab`;
const CONTROLLER = 'propertyfeed-staging-backlog-controller';

/*
 * The construct is built from small props; the one environment file below (LANES)
 * is for the adapter, observabilityProps, whose test says it gives the same stack.
 */

/** libs/config's default thresholds, for a lane sized for a backlog of 100. */
const THRESHOLDS: AlarmThresholds = {
  backlog: 100,
  backlogMinutes: 15,
  oldestJobSeconds: 900,
  restarts: 3,
  restartWindowMinutes: 15,
  connectionErrors: 3,
  failedJobsPerMinute: 5,
};
/** PHP's memory_limit of `processes` workers in libs/config's default task (1024 MiB), MiB. */
const phpLimit = (processes: number) => phpMemoryLimit(containerMemoryLimit(1024, processes), false);

/** A lane as the observability reads it: a Redis lane at stage scaling on a queue of its name, unless `over` says otherwise. */
function lane(name: string, over: Partial<ObservedLane> = {}): ObservedLane {
  const queues = over.queues ?? [name];
  return {
    name,
    broker: 'redis',
    stage: 'scaling',
    sizedBy: 'controller',
    controllerMeasured: true,
    queues,
    grouped: false,
    groups: [{ name: 'worker', queues, processes: 1, phpMemoryLimit: phpLimit(1) }],
    tasks: { baseline: 1, min: 0, max: 2 },
    job: { timeout: 60, memory: 128 },
    longestJobTimeout: 60,
    thresholds: THRESHOLDS,
    ...over,
  };
}

/** What makes a lane one at stage off. */
const OFF = { stage: 'off', sizedBy: 'off', controllerMeasured: false } as const;

const PROPS: ObservabilityProps = {
  app: 'propertyfeed',
  environment: 'staging',
  region: 'eu-west-2',
  lanes: [
    lane('sync'),
    lane('image', {
      queues: ['image', 'thumbnails'],
      stage: 'baseline',
      sizedBy: 'fixed',
      tasks: { baseline: 1, min: 0, max: 1 },
      job: { timeout: 110, memory: 128 },
      longestJobTimeout: 110,
      thresholds: { ...THRESHOLDS, backlog: 20, oldestJobSeconds: 1100 },
    }),
    lane('feeds', {
      broker: 'sqs',
      queues: ['propertyfeed-staging-feeds'],
      stage: 'owned',
      tasks: { baseline: 1, min: 1, max: 3 },
      sqs: { visibilityTimeout: 300, maxReceiveCount: 4, messageRetentionSeconds: 345600 },
      thresholds: { ...THRESHOLDS, backlog: 150 },
    }),
    lane('quiet', { ...OFF, tasks: { baseline: 1, min: 0, max: 1 }, thresholds: { ...THRESHOLDS, backlog: 50 } }),
  ],
  logRetentionInDays: 400,
  redisKeyPrefix: 'propertyfeed_database_',
  redisRetryAfter: 180,
  accountIds: [ACCOUNT],
  kmsKeyArn: KEY,
  controllerFunctionName: CONTROLLER,
};

const LANES = [
  '  sync:',
  '    queues: [sync]',
  '    stage: scaling',
  '    tasks: { min: 0, max: 2 }',
  '  image:',
  '    queues: [image, thumbnails]',
  '    stage: baseline',
  '    tasks: { baseline: 1, max: 1 }',
  '    backlogPerTask: 20',
  '    job: { timeout: 110 }',
  '  feeds:',
  '    broker: sqs',
  '    queues: [propertyfeed-staging-feeds]',
  '    stage: owned',
  '    tasks: { min: 1, max: 3 }',
  '    sqs: { maxReceiveCount: 4 }',
  '  quiet:',
  '    queues: [quiet]',
  '    stage: off',
].join('\n');

const ENV = sampleEnvironment(LANES);

type Resource = Record<string, unknown>;
type Json = { resource: Record<string, Record<string, Resource>> };

function synth(props: ObservabilityProps = PROPS, extra: Partial<ObservabilityProps> = {}): string {
  return Testing.synthScope((scope) => {
    new Observability(scope, 'observability', { ...props, ...extra });
  });
}

function resources(json: string, type: string): Record<string, Resource> {
  return (JSON.parse(json) as Json).resource[type] ?? {};
}

/** The Terraform reference to the only resource of a type, e.g. `${aws_sns_topic.x.arn}`. */
function ref(json: string, type: string, attribute: string): string {
  const ids = Object.keys(resources(json, type));
  expect(ids).toHaveLength(1);
  return `\${${type}.${ids[0]}.${attribute}}`;
}

function alarmsOf(json: string): Resource[] {
  return Object.values(resources(json, 'aws_cloudwatch_metric_alarm'));
}

function alarm(json: string, name: string): Resource {
  const found = alarmsOf(json).filter((a) => a.alarm_name === name);
  expect(found).toHaveLength(1);
  return found[0];
}

function filter(json: string, name: string): Resource {
  const found = Object.values(resources(json, 'aws_cloudwatch_log_metric_filter')).filter((f) => f.name === name);
  expect(found).toHaveLength(1);
  return found[0];
}

function dashboard(json: string): DashboardBody {
  const [board] = Object.values(resources(json, 'aws_cloudwatch_dashboard'));
  return JSON.parse(board.dashboard_body as string) as DashboardBody;
}

/** The metric widget with this title. */
function graph(body: DashboardBody, title: string): Extract<Widget, { type: 'metric' }> {
  const found = body.widgets.filter((w) => w.type === 'metric' && w.properties.title === title);
  expect(found).toHaveLength(1);
  return found[0] as Extract<Widget, { type: 'metric' }>;
}

/** A metric line without its rendering options: namespace, name, dimension pairs. */
function ids(lines: readonly MetricLine[]): string[][] {
  return lines.map((line) => line.filter((part): part is string => typeof part === 'string'));
}

const JSON_STACK = synth();

describe('the dashboard', () => {
  const body = dashboard(JSON_STACK);
  const titles = body.widgets.filter((w) => w.type === 'metric').map((w) => (w.properties as { title: string }).title);

  it('is named per environment', () => {
    expect(JSON_STACK).toHaveResourceWithProperties(CloudwatchDashboard, { dashboard_name: 'propertyfeed-staging-queue-lanes' });
  });

  it('has a row per lane, in lane order, a lane at off included and marked so', () => {
    const headers = body.widgets
      .filter((w) => w.type === 'text' && w.properties.markdown.startsWith('## '))
      .map((w) => (w.properties as { markdown: string }).markdown);
    expect(headers.map((h) => h.split(' ')[1])).toEqual(['sync', 'image', 'feeds', 'quiet', 'backlog']);
    expect(headers[3]).toContain('stage off (0 tasks, alarms quiet)');
    for (const lane of ['sync', 'image', 'feeds', 'quiet']) {
      expect(titles.filter((t) => t.startsWith(`${lane}:`))).toHaveLength(8);
    }
  });

  it("puts each lane's job runtime and peak memory against its limits under its row", () => {
    const image = PROPS.lanes.find((l) => l.name === 'image')!;
    const runtime = graph(body, 'image: job runtime, s').properties;
    expect(runtime.metrics).toEqual([
      ['QueueLanes/propertyfeed-staging/image', 'JobRuntime', { label: 'p50', stat: 'p50' }],
      ['QueueLanes/propertyfeed-staging/image', 'JobRuntime', { label: 'p95', stat: 'p95' }],
      ['QueueLanes/propertyfeed-staging/image', 'JobRuntime', { label: 'max', stat: 'Maximum' }],
    ]);
    expect(runtime.annotations).toEqual({ horizontal: [{ label: 'job.timeout', value: image.job.timeout }] });
    const memory = graph(body, 'image: peak job memory, MiB').properties;
    expect(memory.metrics.map((m) => (m[2] as { stat: string }).stat)).toEqual(['p95', 'Maximum']);
    expect(memory.annotations).toEqual({
      horizontal: [
        { label: 'job.memory (--memory)', value: image.job.memory },
        { label: 'PHP memory_limit', value: image.groups[0].phpMemoryLimit },
      ],
    });
    const heading = body.widgets.find((w) => w.type === 'text' && w.properties.markdown.startsWith('### image jobs'))!;
    expect((heading.properties as { markdown: string }).markdown).toBe(
      `### image jobs · job.timeout ${image.job.timeout} s · job.memory ${image.job.memory} MiB · memory_limit ${image.groups[0].phpMemoryLimit} MiB`,
    );
  });

  it("shows a Redis lane's backlog and oldest job from the controller's metrics", () => {
    const dims = ['Environment', 'staging', 'Lane', 'sync'];
    expect(ids(graph(body, 'sync: backlog').properties.metrics)).toEqual([
      ['QueueLanes', 'Ready', ...dims],
      ['QueueLanes', 'Reserved', ...dims],
      ['QueueLanes', 'Delayed', ...dims],
      ['QueueLanes', 'DelayedDue', ...dims],
      ['QueueLanes', 'Backlog', ...dims],
      ['QueueLanes', 'StuckReserved', ...dims],
    ]);
    expect(ids(graph(body, 'sync: oldest runnable job, s').properties.metrics)).toEqual([
      ['QueueLanes', 'OldestRunnableAgeSeconds', ...dims],
      ['QueueLanes', 'OldestReadyAgeSeconds', ...dims],
    ]);
    expect(graph(body, 'sync: backlog').properties.annotations).toEqual({ horizontal: [{ label: 'backlog alarm', value: 100 }] });
    // The controller measures every Redis lane that runs, baseline included.
    expect(titles).toContain('image: backlog');
  });

  it("shows an SQS lane's queue from AWS/SQS", () => {
    const queue = (q: string) => [
      ['AWS/SQS', 'ApproximateNumberOfMessagesVisible', 'QueueName', q],
      ['AWS/SQS', 'ApproximateNumberOfMessagesNotVisible', 'QueueName', q],
      ['AWS/SQS', 'ApproximateNumberOfMessagesDelayed', 'QueueName', q],
    ];
    // One SQS queue per lane, <app>-<env>-<lane>, whatever Laravel queue names the lane lists.
    expect(ids(graph(body, 'feeds: backlog').properties.metrics)).toEqual(queue('propertyfeed-staging-feeds'));
    expect(ids(graph(body, 'feeds: oldest message, s').properties.metrics)).toEqual([
      ['AWS/SQS', 'ApproximateAgeOfOldestMessage', 'QueueName', 'propertyfeed-staging-feeds'],
    ]);
    expect(ids(graph(body, 'feeds: failed job attempts per min').properties.metrics)).toEqual([
      ['QueueLanes/propertyfeed-staging/feeds', 'FailedJobs'],
      ['AWS/SQS', 'ApproximateNumberOfMessagesVisible', 'QueueName', 'propertyfeed-staging-feeds-dlq'],
    ]);
    const two = dashboard(synth(PROPS, { sqsQueueNames: { feeds: ['feeds-high', 'feeds-low'] } }));
    expect(ids(graph(two, 'feeds: backlog').properties.metrics)).toEqual([...queue('feeds-high'), ...queue('feeds-low')]);
  });

  it('shows desired, pending and running tasks, CPU and memory of every lane service', () => {
    for (const lane of ['sync', 'image', 'feeds']) {
      const service = ['ClusterName', 'propertyfeed-staging', 'ServiceName', `propertyfeed-${lane}`];
      expect(ids(graph(body, `${lane}: desired vs running tasks`).properties.metrics)).toEqual([
        ['ECS/ContainerInsights', 'DesiredTaskCount', ...service],
        ['ECS/ContainerInsights', 'PendingTaskCount', ...service],
        ['ECS/ContainerInsights', 'RunningTaskCount', ...service],
      ]);
      expect(ids(graph(body, `${lane}: CPU and memory, %`).properties.metrics)).toEqual([
        ['AWS/ECS', 'CPUUtilization', ...service],
        ['AWS/ECS', 'MemoryUtilization', ...service],
      ]);
      expect(ids(graph(body, `${lane}: restarts and connection errors per 5 min`).properties.metrics)).toEqual([
        [`QueueLanes/propertyfeed-staging/${lane}`, 'StoppedTasks'],
        [`QueueLanes/propertyfeed-staging/${lane}`, 'RedisConnectionErrors'],
        [`QueueLanes/propertyfeed-staging/${lane}`, 'AuroraConnectionErrors'],
      ]);
    }
    expect(graph(body, 'image: desired vs running tasks').properties.annotations).toEqual({
      horizontal: [{ label: 'tasks.baseline', value: 1 }],
    });
  });

  it("has a row for the controller's errors, invocations and duration", () => {
    const fn = ['FunctionName', CONTROLLER];
    expect(ids(graph(body, 'controller: errors per min').properties.metrics)).toEqual([
      ['QueueLanes', 'ControllerErrors', 'Environment', 'staging'],
      ['AWS/Lambda', 'Errors', ...fn],
      ['AWS/Lambda', 'Throttles', ...fn],
    ]);
    expect(ids(graph(body, 'controller: invocations per min').properties.metrics)).toEqual([['AWS/Lambda', 'Invocations', ...fn]]);
    expect(ids(graph(body, 'controller: duration, ms').properties.metrics)).toEqual([
      ['AWS/Lambda', 'Duration', ...fn],
      ['AWS/Lambda', 'Duration', ...fn],
    ]);
  });

  it('lists every alarm in a status widget', () => {
    const status = body.widgets.filter((w) => w.type === 'alarm');
    expect(status).toHaveLength(1);
    const ids = Object.keys(resources(JSON_STACK, 'aws_cloudwatch_metric_alarm'));
    expect([...(status[0].properties as { alarms: readonly string[] }).alarms].sort()).toEqual(
      ids.map((id) => `\${aws_cloudwatch_metric_alarm.${id}.arn}`).sort(),
    );
  });

  it('keeps every widget on the 24-unit grid without overlaps', () => {
    const cells = new Set<string>();
    for (const w of body.widgets) {
      expect(w.x + w.width).toBeLessThanOrEqual(24);
      for (let x = w.x; x < w.x + w.width; x++) {
        for (let y = w.y; y < w.y + w.height; y++) {
          expect(cells.has(`${x},${y}`)).toBe(false);
          cells.add(`${x},${y}`);
        }
      }
    }
  });

  it('is deterministic', () => {
    expect(synth()).toBe(JSON_STACK);
  });
});

describe('the alarm topic', () => {
  const json = synth(PROPS, {
    alarmSubscriptions: [
      { protocol: 'email', endpoint: 'oncall@example.com' },
      { protocol: 'https', endpoint: 'https://hooks.example.com/alarms' },
      { protocol: 'sqs', endpoint: 'arn:aws:sqs:eu-west-2:111111111111:alarms' },
      { protocol: 'lambda', endpoint: 'arn:aws:lambda:eu-west-2:111111111111:function:notify' },
      { protocol: 'lambda', endpoint: 'arn:aws:lambda:eu-west-2:999999999999:function:pager' },
    ],
  });

  it('is encrypted with a key of its own that CloudWatch may use', () => {
    expect(json).toHaveResourceWithProperties(SnsTopic, {
      name: 'propertyfeed-staging-alarms',
      kms_master_key_id: ref(json, 'aws_kms_key', 'arn'),
    });
    expect(json).toHaveResourceWithProperties(KmsKey, { enable_key_rotation: true, deletion_window_in_days: 30 });
    const [key] = Object.values(resources(json, 'aws_kms_key'));
    const policy = JSON.parse(key.policy as string) as { Statement: Record<string, unknown>[] };
    expect(policy.Statement).toContainEqual({
      Sid: 'CloudWatchAlarmsPublish',
      Effect: 'Allow',
      Principal: { Service: 'cloudwatch.amazonaws.com' },
      Action: ['kms:Decrypt', 'kms:GenerateDataKey*'],
      Resource: '*',
    });
    expect(policy.Statement.map((s) => s.Sid)).toEqual(['AccountAdministersKey', 'CloudWatchAlarmsPublish']);
    expect(Object.values(resources(json, 'aws_kms_alias'))[0]).toMatchObject({ name: 'alias/propertyfeed-staging-alarms' });
  });

  it('subscribes every configured endpoint', () => {
    const topic = ref(json, 'aws_sns_topic', 'arn');
    const subs = Object.values(resources(json, 'aws_sns_topic_subscription')).map((s) => [s.protocol, s.endpoint, s.topic_arn]);
    expect(subs.sort()).toEqual([
      ['email', 'oncall@example.com', topic],
      ['https', 'https://hooks.example.com/alarms', topic],
      ['lambda', 'arn:aws:lambda:eu-west-2:111111111111:function:notify', topic],
      ['lambda', 'arn:aws:lambda:eu-west-2:999999999999:function:pager', topic],
      ['sqs', 'arn:aws:sqs:eu-west-2:111111111111:alarms', topic],
    ]);
    expect(json).toHaveResourceWithProperties(SnsTopicSubscription, { protocol: 'email', endpoint: 'oncall@example.com' });
  });

  it("lets the topic invoke a Lambda subscriber in the environment's account only", () => {
    const permissions = Object.values(resources(json, 'aws_lambda_permission'));
    expect(permissions).toEqual([
      {
        function_name: 'arn:aws:lambda:eu-west-2:111111111111:function:notify',
        statement_id: 'propertyfeed-staging-alarms-topic',
        action: 'lambda:InvokeFunction',
        principal: 'sns.amazonaws.com',
        source_arn: ref(json, 'aws_sns_topic', 'arn'),
      },
    ]);
    expect(json).toHaveResourceWithProperties(LambdaPermission, { principal: 'sns.amazonaws.com' });
  });

  it('keeps a subscription when the list is reordered', () => {
    const ids = (alarmSubscriptions: AlarmSubscription[]) =>
      Object.keys(resources(synth(PROPS, { alarmSubscriptions }), 'aws_sns_topic_subscription')).sort();
    const a: AlarmSubscription = { protocol: 'email', endpoint: 'a@example.com' };
    const b: AlarmSubscription = { protocol: 'email', endpoint: 'b@example.com' };
    expect(ids([a, b])).toEqual(ids([b, a]));
    expect(ids([a, b])).toHaveLength(2);
  });

  it('has no subscription by default', () => {
    expect(resources(JSON_STACK, 'aws_sns_topic_subscription')).toEqual({});
  });
});

describe('every alarm', () => {
  const topic = ref(JSON_STACK, 'aws_sns_topic', 'arn');
  const all = alarmsOf(JSON_STACK);

  it('notifies the topic on ALARM and on OK, and says what to check first', () => {
    expect(all.length).toBeGreaterThan(0);
    for (const a of all) {
      // A lane at off keeps its alarms with the actions switched off (see below).
      const quiet = (a.alarm_name as string).startsWith('propertyfeed-staging-quiet-');
      expect(a).toMatchObject({ actions_enabled: !quiet, alarm_actions: [topic], ok_actions: [topic] });
      expect(a.alarm_description).toContain('Check first:');
      expect((a.alarm_description as string).length).toBeLessThanOrEqual(1024);
      expect(['ignore', 'notBreaching', 'breaching']).toContain(a.treat_missing_data);
    }
  });

  it("stays within CloudWatch's 1024 characters when it lists many long queue names, cut with an ellipsis", () => {
    const queues = Array.from({ length: 40 }, (_, i) => `feed-import-partition-${String(i).padStart(2, '0')}`);
    const long = synth(PROPS, { lanes: [lane('feeds', { queues })] });
    const description = alarm(long, 'propertyfeed-staging-feeds-oldest-job').alarm_description as string;
    expect(description).toHaveLength(1024);
    expect(description.startsWith('feeds: the oldest job a worker could run now in feed-import-partition-00, ')).toBe(true);
    expect(description.endsWith('…')).toBe(true);
  });

  it('carries the lane tag where one applies', () => {
    for (const a of all) {
      const lane = /^propertyfeed-staging-(sync|image|feeds|quiet)-/.exec(a.alarm_name as string)?.[1];
      if (lane) expect(a.tags).toEqual({ lane });
      else expect(a.tags).toBeUndefined();
    }
  });

  it('exists per lane and kind, and for the controller', () => {
    let construct: Observability | undefined;
    Testing.synthScope((scope) => {
      construct = new Observability(scope, 'observability', PROPS);
    });
    const byLane = Object.fromEntries(
      Object.entries(construct!.lanes).map(([lane, o]) => [
        lane,
        Object.keys(o.alarms).filter((k) => o.alarms[k as keyof typeof o.alarms]),
      ]),
    );
    expect(byLane).toEqual({
      sync: ['backlog', 'oldestJob', 'keyPrefix', 'restarts', 'redisErrors', 'auroraErrors', 'failedJobs'],
      image: ['backlog', 'oldestJob', 'keyPrefix', 'restarts', 'redisErrors', 'auroraErrors', 'failedJobs'],
      feeds: ['backlog', 'oldestJob', 'restarts', 'redisErrors', 'auroraErrors', 'failedJobs', 'deadLetters'],
      // Not measured at off, so no backlog alarms; what its tasks logged stays watched.
      quiet: ['restarts', 'redisErrors', 'auroraErrors', 'failedJobs'],
    });
    expect(Object.keys(construct!.lanes.feeds.metricFilters)).toEqual([
      'stoppedTasks',
      'redisErrors',
      'auroraErrors',
      'failedJobs',
      'finishedJobs',
      'jobRuntime',
      'jobPeakMemory',
      'jobAttempts',
    ]);
    expect(construct!.controllerAlarms).toBeDefined();
    expect(construct!.alarms.length).toBe(all.length);
    expect(all.map((a) => a.alarm_name).sort()).toEqual(
      [
        ...['backlog', 'oldest-job', 'key-prefix', 'restarts', 'redis-errors', 'aurora-errors', 'failed-jobs'].map(
          (k) => `propertyfeed-staging-sync-${k}`,
        ),
        ...['backlog', 'oldest-job', 'key-prefix', 'restarts', 'redis-errors', 'aurora-errors', 'failed-jobs'].map(
          (k) => `propertyfeed-staging-image-${k}`,
        ),
        ...['backlog', 'oldest-job', 'restarts', 'redis-errors', 'aurora-errors', 'failed-jobs', 'dead-letters'].map(
          (k) => `propertyfeed-staging-feeds-${k}`,
        ),
        ...['restarts', 'redis-errors', 'aurora-errors', 'failed-jobs'].map((k) => `propertyfeed-staging-quiet-${k}`),
        'propertyfeed-staging-controller-failing',
        'propertyfeed-staging-controller-not-running',
      ].sort(),
    );
  });

  it('watches the scheduler service: not running, and restarts from its stopped-task events', () => {
    let construct: Observability | undefined;
    const json = Testing.synthScope((scope) => {
      construct = new Observability(scope, 'observability', { ...PROPS, schedulerService: true });
    });
    expect(construct!.schedulerAlarms).toBeDefined();
    expect(alarm(json, 'propertyfeed-staging-scheduler-not-running')).toMatchObject({
      namespace: 'ECS/ContainerInsights',
      metric_name: 'RunningTaskCount',
      dimensions: { ClusterName: 'propertyfeed-staging', ServiceName: 'propertyfeed-scheduler' },
      comparison_operator: 'LessThanThreshold',
      threshold: 1,
      evaluation_periods: 5,
      treat_missing_data: 'breaching',
    });
    expect(alarm(json, 'propertyfeed-staging-scheduler-restarts')).toMatchObject({
      namespace: 'QueueLanes/propertyfeed-staging/scheduler',
      metric_name: 'StoppedTasks',
      threshold: 3,
      period: 900,
    });
    const rule = Object.values(resources(json, 'aws_cloudwatch_event_rule'))[0];
    expect(JSON.parse(rule.event_pattern as string).detail.group).toContain('service:propertyfeed-scheduler');
    // Without a scheduler service, none of it.
    expect(alarmsOf(JSON_STACK).filter((a) => (a.alarm_name as string).includes('-scheduler-'))).toEqual([]);
  });

  it('keeps those of a lane at off, with their actions disabled, and its metric filters', () => {
    const quiet = all.filter((a) => (a.alarm_name as string).includes('-quiet-'));
    expect(quiet).toHaveLength(4);
    for (const a of quiet) expect(a.actions_enabled).toBe(false);
    expect(
      Object.values(resources(JSON_STACK, 'aws_cloudwatch_log_metric_filter'))
        .filter((f) => (f.name as string).includes('-quiet-'))
        .map((f) => f.log_group_name),
    ).toContain('/ecs/propertyfeed-staging/quiet');
  });
});

describe('lane alarms', () => {
  const ns = (lane: string) => `QueueLanes/propertyfeed-staging/${lane}`;

  it("backlog of a Redis lane: the controller's Backlog above backlogPerTask × tasks.max for 15 minutes", () => {
    expect(alarm(JSON_STACK, 'propertyfeed-staging-sync-backlog')).toMatchObject({
      namespace: 'QueueLanes',
      metric_name: 'Backlog',
      dimensions: { Environment: 'staging', Lane: 'sync' },
      statistic: 'Maximum',
      period: 60,
      comparison_operator: 'GreaterThanThreshold',
      threshold: 100,
      evaluation_periods: 15,
      datapoints_to_alarm: 15,
      treat_missing_data: 'ignore',
      alarm_description: expect.stringMatching(
        /^sync: backlog \(ready \+ reserved \+ due delayed jobs\) above 100 for 15 min\. Check first: desired vs running tasks on dashboard propertyfeed-staging-queue-lanes/,
      ),
    });
    expect(JSON_STACK).toHaveResourceWithProperties(CloudwatchMetricAlarm, {
      alarm_name: 'propertyfeed-staging-sync-backlog',
      dimensions: expect.objectContaining({ Lane: 'sync' }),
    });
  });

  it('oldest job of a Redis lane: OldestRunnableAgeSeconds over 10 × job.timeout, at least 900 s, 3 minutes in a row', () => {
    expect(alarm(JSON_STACK, 'propertyfeed-staging-sync-oldest-job')).toMatchObject({
      namespace: 'QueueLanes',
      metric_name: 'OldestRunnableAgeSeconds',
      dimensions: { Environment: 'staging', Lane: 'sync' },
      statistic: 'Maximum',
      period: 60,
      comparison_operator: 'GreaterThanThreshold',
      threshold: 900,
      evaluation_periods: 3,
      datapoints_to_alarm: 3,
      treat_missing_data: 'ignore',
      alarm_description: expect.stringContaining(
        'sync: the oldest job a worker could run now in sync (ready, delayed and due, or a reservation that expired because its worker died) has waited over 900 s for 3 min. Check first:',
      ),
    });
  });

  it('backlog of an SQS lane: visible + in-flight messages of its queues', () => {
    const a = alarm(JSON_STACK, 'propertyfeed-staging-feeds-backlog');
    expect(a).toMatchObject({
      comparison_operator: 'GreaterThanThreshold',
      threshold: 150,
      evaluation_periods: 15,
      datapoints_to_alarm: 15,
      treat_missing_data: 'ignore',
    });
    expect(a.metric_name).toBeUndefined();
    const metric = (id: string, name: string, queue: string) => ({
      id,
      metric: { namespace: 'AWS/SQS', metric_name: name, dimensions: { QueueName: queue }, period: 60, stat: 'Maximum' },
      return_data: false,
    });
    expect(a.metric_query).toEqual([
      { id: 'backlog', expression: 'visible0 + inflight0', label: 'visible + in flight', return_data: true },
      metric('visible0', 'ApproximateNumberOfMessagesVisible', 'propertyfeed-staging-feeds'),
      metric('inflight0', 'ApproximateNumberOfMessagesNotVisible', 'propertyfeed-staging-feeds'),
    ]);
    const two = synth(PROPS, { sqsQueueNames: { feeds: ['feeds-high', 'feeds-low'] } });
    expect(alarm(two, 'propertyfeed-staging-feeds-backlog').metric_query).toEqual([
      { id: 'backlog', expression: 'visible0 + inflight0 + visible1 + inflight1', label: 'visible + in flight', return_data: true },
      metric('visible0', 'ApproximateNumberOfMessagesVisible', 'feeds-high'),
      metric('inflight0', 'ApproximateNumberOfMessagesNotVisible', 'feeds-high'),
      metric('visible1', 'ApproximateNumberOfMessagesVisible', 'feeds-low'),
      metric('inflight1', 'ApproximateNumberOfMessagesNotVisible', 'feeds-low'),
    ]);
  });

  it('oldest job of an SQS lane: the oldest message of its queues', () => {
    expect(alarm(JSON_STACK, 'propertyfeed-staging-feeds-oldest-job')).toMatchObject({
      namespace: 'AWS/SQS',
      metric_name: 'ApproximateAgeOfOldestMessage',
      dimensions: { QueueName: 'propertyfeed-staging-feeds' },
      statistic: 'Maximum',
      period: 60,
      comparison_operator: 'GreaterThanThreshold',
      threshold: 900,
      evaluation_periods: 3,
      datapoints_to_alarm: 3,
      treat_missing_data: 'ignore',
    });
    const two = alarm(synth(PROPS, { sqsQueueNames: { feeds: ['feeds-high', 'feeds-low'] } }), 'propertyfeed-staging-feeds-oldest-job');
    expect((two.metric_query as Resource[])[0]).toEqual({
      id: 'oldest',
      expression: 'MAX([age0, age1])',
      label: 'oldest message',
      return_data: true,
    });
  });

  it('no backlog, oldest-job or key-prefix alarm for a Redis lane the controller does not measure', () => {
    const unmeasured = synth(PROPS, { controllerLanes: ['sync'] });
    expect(alarmsOf(unmeasured).filter((a) => /-image-(backlog|oldest-job|key-prefix)$/.test(a.alarm_name as string))).toEqual([]);
    const measured = JSON_STACK;
    // At baseline the backlog default is backlogPerTask × tasks.baseline; job.timeout 110 gives 1100 s.
    expect(alarm(measured, 'propertyfeed-staging-image-backlog')).toMatchObject({ threshold: 20 });
    expect(alarm(measured, 'propertyfeed-staging-image-oldest-job')).toMatchObject({ threshold: 1100 });
  });

  it("key prefix: the controller found the lane's keys under another prefix, two ticks in a row", () => {
    expect(alarm(JSON_STACK, 'propertyfeed-staging-image-key-prefix')).toMatchObject({
      namespace: 'QueueLanes',
      metric_name: 'KeysUnderOtherPrefix',
      dimensions: { Environment: 'staging', Lane: 'image' },
      comparison_operator: 'GreaterThanOrEqualToThreshold',
      threshold: 1,
      evaluation_periods: 2,
      alarm_description: expect.stringContaining(
        'set redis.keyPrefix to what php artisan tinker --execute="echo config(\'database.redis.options.prefix\');" prints in the application',
      ),
    });
  });

  it('stuck jobs: alarmed only where reservations never expire (redis.retryAfter null)', () => {
    expect(alarmsOf(JSON_STACK).filter((a) => (a.alarm_name as string).endsWith('-stuck-jobs'))).toEqual([]);
    const never = synth(PROPS, { redisRetryAfter: null });
    expect(
      alarmsOf(never)
        .filter((a) => (a.alarm_name as string).endsWith('-stuck-jobs'))
        .map((a) => a.alarm_name)
        .sort(),
    ).toEqual(['propertyfeed-staging-image-stuck-jobs', 'propertyfeed-staging-sync-stuck-jobs']);
    expect(alarm(never, 'propertyfeed-staging-image-stuck-jobs')).toMatchObject({
      metric_name: 'StuckReserved',
      comparison_operator: 'GreaterThanThreshold',
      threshold: 0,
      evaluation_periods: 5,
      alarm_description: expect.stringContaining('jobs reserved longer than job.timeout (110 s) plus a minute in image, thumbnails'),
    });
  });

  it('restarts: more than 3 tasks stopped on their own in 15 minutes', () => {
    expect(alarm(JSON_STACK, 'propertyfeed-staging-sync-restarts')).toMatchObject({
      namespace: ns('sync'),
      metric_name: 'StoppedTasks',
      statistic: 'Sum',
      period: 900,
      comparison_operator: 'GreaterThanThreshold',
      threshold: 3,
      evaluation_periods: 1,
      datapoints_to_alarm: 1,
      treat_missing_data: 'notBreaching',
      alarm_description: expect.stringContaining(
        'Check first: stopCode and stoppedReason of the events in /aws/events/propertyfeed-staging/ecs-task-stopped',
      ),
    });
  });

  it.each([
    ['redis-errors', 'RedisConnectionErrors', 'Redis'],
    ['aurora-errors', 'AuroraConnectionErrors', 'Aurora'],
  ])('%s: 3 or more %s in 5 minutes, and the runbook says to fix connectivity first', (kind, metric, what) => {
    expect(alarm(JSON_STACK, `propertyfeed-staging-image-${kind}`)).toMatchObject({
      namespace: ns('image'),
      metric_name: metric,
      statistic: 'Sum',
      period: 300,
      comparison_operator: 'GreaterThanOrEqualToThreshold',
      threshold: 3,
      evaluation_periods: 1,
      datapoints_to_alarm: 1,
      treat_missing_data: 'notBreaching',
      alarm_description: expect.stringMatching(
        new RegExp(
          `^image: 3 or more ${what} connection errors .* in 5 min in /ecs/propertyfeed-staging/image\\. Check first: .*fix connectivity before adding workers`,
        ),
      ),
    });
  });

  it('failed jobs: 5 or more failed attempts a minute, 5 minutes in a row', () => {
    expect(alarm(JSON_STACK, 'propertyfeed-staging-feeds-failed-jobs')).toMatchObject({
      namespace: ns('feeds'),
      metric_name: 'FailedJobs',
      statistic: 'Sum',
      period: 60,
      comparison_operator: 'GreaterThanOrEqualToThreshold',
      threshold: 5,
      evaluation_periods: 5,
      datapoints_to_alarm: 5,
      treat_missing_data: 'notBreaching',
      alarm_description: expect.stringContaining('Check first: the exception logged just before those job lines'),
    });
  });

  it("dead letters: any message in an SQS lane's dead-letter queue", () => {
    expect(alarm(JSON_STACK, 'propertyfeed-staging-feeds-dead-letters')).toMatchObject({
      namespace: 'AWS/SQS',
      metric_name: 'ApproximateNumberOfMessagesVisible',
      dimensions: { QueueName: 'propertyfeed-staging-feeds-dlq' },
      statistic: 'Maximum',
      period: 300,
      comparison_operator: 'GreaterThanThreshold',
      threshold: 0,
      evaluation_periods: 1,
      treat_missing_data: 'ignore',
      alarm_description: expect.stringContaining('jobs received 4 times without finishing'),
    });
  });

  it('follows the lane overrides', () => {
    const thresholds: AlarmThresholds = {
      backlog: 400,
      backlogMinutes: 5,
      oldestJobSeconds: 1800,
      restarts: 0,
      restartWindowMinutes: 30,
      connectionErrors: 10,
      failedJobsPerMinute: 20,
    };
    const json = synth(PROPS, { lanes: [lane('sync', { thresholds })] });
    expect(alarm(json, 'propertyfeed-staging-sync-backlog')).toMatchObject({
      threshold: 400,
      evaluation_periods: 5,
      datapoints_to_alarm: 5,
    });
    expect(alarm(json, 'propertyfeed-staging-sync-oldest-job')).toMatchObject({ threshold: 1800 });
    expect(alarm(json, 'propertyfeed-staging-sync-restarts')).toMatchObject({ threshold: 0, period: 1800 });
    expect(alarm(json, 'propertyfeed-staging-sync-redis-errors')).toMatchObject({ threshold: 10 });
    expect(alarm(json, 'propertyfeed-staging-sync-aurora-errors')).toMatchObject({ threshold: 10 });
    expect(alarm(json, 'propertyfeed-staging-sync-failed-jobs')).toMatchObject({ threshold: 20 });
    expect(alarm(json, 'propertyfeed-staging-sync-backlog').alarm_description).toMatch(/^sync: backlog .* above 400 for 5 min\./);
  });
});

describe('controller alarms', () => {
  it('failing: ControllerErrors or Lambda errors 3 minutes in a row', () => {
    expect(alarm(JSON_STACK, 'propertyfeed-staging-controller-failing')).toMatchObject({
      comparison_operator: 'GreaterThanOrEqualToThreshold',
      threshold: 1,
      evaluation_periods: 3,
      datapoints_to_alarm: 3,
      treat_missing_data: 'notBreaching',
      metric_query: [
        { id: 'failures', expression: 'FILL(ticks, 0) + FILL(crashes, 0)', label: 'failed ticks + Lambda errors', return_data: true },
        {
          id: 'ticks',
          metric: {
            namespace: 'QueueLanes',
            metric_name: 'ControllerErrors',
            dimensions: { Environment: 'staging' },
            period: 60,
            stat: 'Sum',
          },
          return_data: false,
        },
        {
          id: 'crashes',
          metric: { namespace: 'AWS/Lambda', metric_name: 'Errors', dimensions: { FunctionName: CONTROLLER }, period: 60, stat: 'Sum' },
          return_data: false,
        },
      ],
      alarm_description: expect.stringContaining(`Check first: its log /aws/lambda/${CONTROLLER}`),
    });
  });

  it('not running: no invocation for 10 minutes, missing data breaching', () => {
    expect(alarm(JSON_STACK, 'propertyfeed-staging-controller-not-running')).toMatchObject({
      namespace: 'AWS/Lambda',
      metric_name: 'Invocations',
      dimensions: { FunctionName: CONTROLLER },
      statistic: 'Sum',
      period: 300,
      comparison_operator: 'LessThanThreshold',
      threshold: 1,
      evaluation_periods: 2,
      datapoints_to_alarm: 2,
      treat_missing_data: 'breaching',
    });
  });

  it('are absent without a controller, and so are Redis backlog alarms', () => {
    const json = synth(PROPS, { controllerFunctionName: undefined });
    const names = alarmsOf(json).map((a) => a.alarm_name as string);
    expect(names.filter((n) => n.includes('-controller-') || /-sync-(backlog|oldest-job)$/.test(n))).toEqual([]);
    expect(names).toContain('propertyfeed-staging-feeds-backlog');
    const body = dashboard(json);
    expect(body.widgets.some((w) => w.type === 'metric' && w.properties.title.startsWith('controller:'))).toBe(false);
  });
});

describe('restart counting', () => {
  it('sends ECS task state changes to STOPPED with a crash stop code of the lane services to a log group', () => {
    const [rule] = Object.values(resources(JSON_STACK, 'aws_cloudwatch_event_rule'));
    expect(rule.name).toBe('propertyfeed-staging-ecs-task-stopped');
    expect(JSON.parse(rule.event_pattern as string)).toEqual({
      source: ['aws.ecs'],
      'detail-type': ['ECS Task State Change'],
      detail: {
        clusterArn: [{ suffix: ':cluster/propertyfeed-staging' }],
        group: ['service:propertyfeed-sync', 'service:propertyfeed-image', 'service:propertyfeed-feeds', 'service:propertyfeed-quiet'],
        lastStatus: ['STOPPED'],
        stopCode: ['EssentialContainerExited', 'TaskFailedToStart'],
      },
    });
    expect(JSON_STACK).toHaveResourceWithProperties(CloudwatchEventRule, { name: 'propertyfeed-staging-ecs-task-stopped' });
    expect(JSON_STACK).toHaveResourceWithProperties(CloudwatchLogGroup, {
      name: '/aws/events/propertyfeed-staging/ecs-task-stopped',
      retention_in_days: 400,
      kms_key_id: KEY,
    });
    expect(JSON_STACK).toHaveResourceWithProperties(CloudwatchEventTarget, {
      rule: ref(JSON_STACK, 'aws_cloudwatch_event_rule', 'name'),
      arn: ref(JSON_STACK, 'aws_cloudwatch_log_group', 'arn'),
    });
  });

  it('lets EventBridge write that log group and nothing else', () => {
    const [policy] = Object.values(resources(JSON_STACK, 'aws_cloudwatch_log_resource_policy'));
    expect(policy.policy_name).toBe('propertyfeed-staging-ecs-task-stopped');
    expect(JSON.parse(policy.policy_document as string)).toEqual({
      Version: '2012-10-17',
      Statement: [
        {
          Sid: 'EventBridgeWritesStoppedTasks',
          Effect: 'Allow',
          Principal: { Service: ['events.amazonaws.com', 'delivery.logs.amazonaws.com'] },
          Action: ['logs:CreateLogStream', 'logs:PutLogEvents'],
          Resource: `${ref(JSON_STACK, 'aws_cloudwatch_log_group', 'arn')}:*`,
        },
      ],
    });
  });

  it("counts each lane's events with a metric filter", () => {
    expect(filter(JSON_STACK, 'propertyfeed-staging-sync-stopped-tasks')).toEqual({
      name: 'propertyfeed-staging-sync-stopped-tasks',
      log_group_name: ref(JSON_STACK, 'aws_cloudwatch_log_group', 'name'),
      pattern: '{ $.detail.group = "service:propertyfeed-sync" }',
      metric_transformation: {
        name: 'StoppedTasks',
        namespace: 'QueueLanes/propertyfeed-staging/sync',
        value: '1',
        default_value: '0',
        unit: 'Count',
      },
    });
  });

  it('keeps counting the restarts of a lane at off, with nothing notified', () => {
    const json = synth(PROPS, { lanes: [lane('quiet', OFF)], controllerFunctionName: undefined });
    expect(JSON.parse(Object.values(resources(json, 'aws_cloudwatch_event_rule'))[0].event_pattern as string).detail.group).toEqual([
      'service:propertyfeed-quiet',
    ]);
    const alarms = alarmsOf(json);
    expect(alarms.map((a) => a.alarm_name)).toContain('propertyfeed-staging-quiet-restarts');
    for (const a of alarms) expect(a.actions_enabled).toBe(false);
    expect(json).toHaveResource(SnsTopic);
  });
});

describe('worker log metric filters', () => {
  it.each([
    ['redis-errors', REDIS_ERROR_PATTERN, 'RedisConnectionErrors'],
    ['aurora-errors', AURORA_ERROR_PATTERN, 'AuroraConnectionErrors'],
    ['failed-jobs', FAILED_JOB_PATTERN, 'FailedJobs'],
  ])('%s reads the lane log group', (kind, pattern, metric) => {
    expect(filter(JSON_STACK, `propertyfeed-staging-image-${kind}`)).toEqual({
      name: `propertyfeed-staging-image-${kind}`,
      log_group_name: '/ecs/propertyfeed-staging/image',
      pattern,
      metric_transformation: {
        name: metric,
        namespace: 'QueueLanes/propertyfeed-staging/image',
        value: '1',
        default_value: '0',
        unit: 'Count',
      },
    });
    expect(JSON_STACK).toHaveResourceWithProperties(CloudwatchLogMetricFilter, { name: `propertyfeed-staging-image-${kind}`, pattern });
  });

  it("counts every job line as FinishedJobs, and takes each line's runtime, peak memory, queue and outcome", () => {
    const ns = 'QueueLanes/propertyfeed-staging/image';
    const line = (kind: string) => filter(JSON_STACK, `propertyfeed-staging-image-${kind}`);
    expect(line('finished-jobs')).toMatchObject({
      pattern: '{ $.queueLanes = "job" }',
      metric_transformation: { name: 'FinishedJobs', namespace: ns, value: '1', default_value: '0', unit: 'Count' },
    });
    // No default value: a zero a minute without jobs would drag the percentiles down.
    expect(line('job-runtime')).toMatchObject({
      pattern: FINISHED_JOB_PATTERN,
      metric_transformation: { name: 'JobRuntime', namespace: ns, value: '$.runtimeSeconds', unit: 'Seconds' },
    });
    expect(line('job-runtime').metric_transformation).not.toHaveProperty('default_value');
    expect(line('job-memory').metric_transformation).toEqual({
      name: 'JobPeakMemory',
      namespace: ns,
      value: '$.peakMemoryMiB',
      unit: 'Megabytes',
    });
    // CloudWatch refuses a default value on a filter with dimensions (PutMetricFilter, MetricTransformation.DefaultValue).
    expect(line('job-attempts').metric_transformation).toEqual({
      name: 'JobAttempts',
      namespace: ns,
      value: '1',
      unit: 'Count',
      dimensions: { Queue: '$.queue', Outcome: '$.outcome' },
    });
  });

  it('uses the log group names it is given (cross-stack references)', () => {
    const json = synth(PROPS, { logGroupNames: { image: '${data.terraform_remote_state.workers.outputs.image_log}' } });
    expect(filter(json, 'propertyfeed-staging-image-failed-jobs').log_group_name).toBe(
      '${data.terraform_remote_state.workers.outputs.image_log}',
    );
  });
});

describe('observabilityProps, the adapter from the environment', () => {
  it('gives the stack the small props give: names, lanes with their thresholds, Redis settings, retention', () => {
    expect(synth(observabilityProps(ENV, { kmsKeyArn: KEY, controllerFunctionName: CONTROLLER }))).toBe(JSON_STACK);
  });

  it("reads the alarm subscriptions, the accounts and the scheduler's service from the file", () => {
    const e = sampleEnvironment(LANES, {
      alarms: 'alarms: { subscriptions: [{ protocol: email, endpoint: oncall@example.com }] }',
      scheduler: 'scheduler: { onHosts: false, service: { enabled: true } }',
    });
    expect(observabilityProps(e, { kmsKeyArn: KEY })).toMatchObject({
      alarmSubscriptions: [{ protocol: 'email', endpoint: 'oncall@example.com' }],
      accountIds: [ACCOUNT],
      schedulerService: true,
      logRetentionInDays: 400,
      redisRetryAfter: 180,
    });
  });

  it('derives backlog and oldest job thresholds from the lane', () => {
    const [sync, image, feeds] = ENV.lanes;
    expect(laneAlarmThresholds(sync)).toEqual(THRESHOLDS);
    expect(laneAlarmThresholds(image)).toMatchObject({ backlog: 20, oldestJobSeconds: 1100 });
    expect(laneAlarmThresholds(feeds)).toMatchObject({ backlog: 150, oldestJobSeconds: 900 });
  });
});

describe('bad props', () => {
  it('names lanes the environment does not have, or that use another broker', () => {
    expect(() =>
      synth(PROPS, {
        logGroupNames: { gone: '/ecs/x' },
        controllerLanes: ['feeds'],
        deadLetterQueueNames: { sync: 'x-dlq' },
        sqsQueueNames: { feeds: [] },
      }),
    ).toThrow(
      [
        'Observability propertyfeed-staging:',
        '  logGroupNames: "gone" is not a lane (sync, image, feeds, quiet)',
        '  controllerLanes: lane "feeds" uses broker sqs, not redis',
        '  deadLetterQueueNames: lane "sync" uses broker redis, not sqs',
        '  sqsQueueNames.feeds: lists no queue',
      ].join('\n'),
    );
  });

  it('rejects thresholds that did not come through the config schema', () => {
    const lanes = PROPS.lanes.map((l) => (l.name === 'sync' ? { ...l, thresholds: { ...l.thresholds, restarts: -1 } } : l));
    expect(() => synth(PROPS, { lanes })).toThrow('lanes.sync.alarms.restarts: -1 is not a whole number from 0 to 1000');
  });

  it('rejects a key deletion window KMS does not offer', () => {
    expect(() => synth(PROPS, { keyDeletionWindowInDays: 3 })).toThrow(
      'keyDeletionWindowInDays: 3 is not a whole number of days from 7 to 30',
    );
  });

  it('rejects a namespace CloudWatch reserves', () => {
    expect(() => synth(PROPS, { namespace: 'AWS/Lanes' })).toThrow('namespace: "AWS/Lanes" is not a custom CloudWatch namespace');
  });
});

describe('a lane with warm windows', () => {
  it('shows them in its dashboard row once the controller keeps them (stage scaling on), not before', () => {
    const warm = (stage: 'scaling' | 'baseline') =>
      lane('sync', {
        stage,
        sizedBy: stage === 'baseline' ? 'fixed' : 'controller',
        warm: [
          { at: '0 2 * * *', tasks: 2, minutes: 45 },
          { at: '*/30 8-18 * * MON-FRI', tasks: 1, minutes: 30 },
        ],
      });
    const heading = (stage: 'scaling' | 'baseline') =>
      (
        dashboard(synth(PROPS, { lanes: [warm(stage)] })).widgets.find(
          (w) => w.type === 'text' && w.properties.markdown.startsWith('## sync'),
        )!.properties as {
          markdown: string;
        }
      ).markdown;
    expect(heading('scaling')).toContain(
      'stage scaling (0–2 tasks) · warm `0 2 * * *` UTC: 2 tasks for 45 min, `*/30 8-18 * * MON-FRI` UTC: 1 task for 30 min · service',
    );
    expect(heading('baseline')).not.toContain('warm');
  });
});

describe('a lane with process groups', () => {
  it('names its groups, their processes and chains in its dashboard row', () => {
    const grouped = lane('sync', {
      stage: 'baseline',
      sizedBy: 'fixed',
      queues: ['sync-urgent', 'sync'],
      grouped: true,
      groups: [
        { name: 'urgent', queues: ['sync-urgent'], processes: 1, phpMemoryLimit: phpLimit(4) },
        { name: 'main', queues: ['sync-urgent', 'sync'], processes: 3, phpMemoryLimit: phpLimit(4) },
      ],
    });
    const header = dashboard(synth(PROPS, { lanes: [grouped] })).widgets.find(
      (w) => w.type === 'text' && w.properties.markdown.startsWith('## sync'),
    )!;
    expect((header.properties as { markdown: string }).markdown).toContain(
      '## sync · redis · groups urgent ×1 (sync-urgent), main ×3 (sync-urgent, sync) · stage baseline',
    );
    expect(laneProcesses(PROPS.lanes[0])).toBe('queues sync');
  });
});
