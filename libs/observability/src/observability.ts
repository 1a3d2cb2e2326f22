import {
  SCHEDULER,
  keyDeletionWindowProblem,
  logGroupRetention,
  alarmName,
  clusterName,
  dashboardName,
  logGroupName,
  logMetricNamespace,
  serviceName,
  stoppedTasksLogGroupName,
  stoppedTasksRuleName,
  type AlarmSubscription,
  type EnvironmentConfig,
  type LaneConfig,
} from '@queue-lanes/config';
import { CloudwatchDashboard } from '@cdktf/provider-aws/lib/cloudwatch-dashboard';
import { CloudwatchEventRule } from '@cdktf/provider-aws/lib/cloudwatch-event-rule';
import { CloudwatchEventTarget } from '@cdktf/provider-aws/lib/cloudwatch-event-target';
import { CloudwatchLogGroup } from '@cdktf/provider-aws/lib/cloudwatch-log-group';
import {
  CloudwatchLogMetricFilter,
  type CloudwatchLogMetricFilterMetricTransformation,
} from '@cdktf/provider-aws/lib/cloudwatch-log-metric-filter';
import { CloudwatchLogResourcePolicy } from '@cdktf/provider-aws/lib/cloudwatch-log-resource-policy';
import { CloudwatchMetricAlarm, type CloudwatchMetricAlarmConfig } from '@cdktf/provider-aws/lib/cloudwatch-metric-alarm';
import type { KmsKey } from '@cdktf/provider-aws/lib/kms-key';
import type { SnsTopic } from '@cdktf/provider-aws/lib/sns-topic';
import { policyDocument } from '@queue-lanes/iam-policy';
import {
  brokerOf,
  type AlarmSpec,
  type AlarmSpecConfig,
  type QueueAlarmKind,
  type QueueSignalContext,
  type QueueSignals,
  type SignalEnvironment,
  type SignalLane,
} from '@queue-lanes/brokers';
import { Construct } from 'constructs';
import { AlarmTopic } from './alarm-topic';
import { dashboardBody, type DashboardBody, type DashboardLane, type DashboardLaneConfig } from './dashboard';
import {
  AURORA_ERROR_PATTERN,
  FAILED_JOB_PATTERN,
  FINISHED_JOB_PATTERN,
  JOB_LINE_FIELDS,
  REDIS_ERROR_PATTERN,
  jsonEquals,
} from './filter-patterns';
import { DEFAULT_NAMESPACE, DIMENSION, LOG_METRIC, METRIC } from '@queue-lanes/contract';
import {
  CONNECTION_ERROR_MINUTES,
  FAILED_JOB_MINUTES,
  OLDEST_JOB_MINUTES,
  laneAlarmThresholds,
  thresholdProblems,
  type AlarmThresholds,
} from './thresholds';

/**
 * A lane as the observability reads it: libs/config's resolved lane, narrowed to what
 * its filters, alarms and dashboard row use, with the alarm thresholds in force.
 */
export interface ObservedLane extends SignalLane, DashboardLaneConfig, Pick<LaneConfig, 'controllerMeasured'> {
  /** The lane's alarm thresholds, derived defaults filled in ({@link laneAlarmThresholds}). */
  readonly thresholds: AlarmThresholds;
}

export interface ObservabilityProps {
  /** The application: the first part of every name (`<app>-<env>-…`). */
  readonly app: string;
  /** The environment: the second part of every name, and the controller metrics' Environment dimension. */
  readonly environment: string;
  /** The region whose metrics the dashboard's graphs show. */
  readonly region: string;
  /** Every lane, stage off included, in priority order: a dashboard row, metric filters and alarms each. */
  readonly lanes: readonly ObservedLane[];
  /** Days the stopped-task event log group keeps events (the environment's `logs.retentionDays`). */
  readonly logRetentionInDays: number;
  /**
   * Whether the scheduler runs as a service of its own: its alarms, and its stopped tasks in the event log.
   * @default false
   */
  readonly schedulerService?: boolean;
  /**
   * The Redis queue connection's key prefix, which the key-prefix alarms name.
   * @default '' (no prefix)
   */
  readonly redisKeyPrefix?: string;
  /**
   * The Redis queue connection's retry_after, seconds; null (reservations never expire)
   * gives each measured Redis lane a stuck-jobs alarm.
   * @default reservations expire (no stuck-jobs alarm)
   */
  readonly redisRetryAfter?: number | null;
  /**
   * Who the alarm topic notifies, in order.
   * @default []
   */
  readonly alarmSubscriptions?: readonly AlarmSubscription[];
  /**
   * The environment's accounts: a `lambda` subscriber in one of them gets its invoke permission.
   * @default []
   */
  readonly accountIds?: readonly string[];
  /**
   * The environment's KMS key ARN (the parameters stack's key, whose policy lets
   * CloudWatch Logs use it): encrypts the stopped-task event log group.
   */
  readonly kmsKeyArn: string;
  /**
   * Lane name → its worker log group name; pass the workers stack's
   * `logGroup.name` so the metric filters depend on the log groups.
   * @default `/ecs/<app>-<env>/<lane>` for every active lane
   */
  readonly logGroupNames?: Readonly<Record<string, string>>;
  /**
   * The backlog controller Lambda's function name. Without it there is no
   * controller row and no controller alarms, and no Redis lane counts as measured.
   * @default none
   */
  readonly controllerFunctionName?: string;
  /**
   * Redis lanes whose backlog the controller publishes (Backlog, OldestRunnableAgeSeconds, …):
   * they get the backlog, oldest-job, key-prefix (and with retry_after null, stuck-jobs) alarms.
   * @default with a controller, every Redis lane past stage off (baseline included); without one, none
   */
  readonly controllerLanes?: readonly string[];
  /**
   * SQS lane → the SQS queues its workers consume.
   * @default `<app>-<env>-<lane>` for every active SQS lane (one queue per lane)
   */
  readonly sqsQueueNames?: Readonly<Record<string, readonly string[]>>;
  /**
   * SQS lane → its dead-letter queue's name.
   * @default `<app>-<env>-<lane>-dlq` for every active SQS lane
   */
  readonly deadLetterQueueNames?: Readonly<Record<string, string>>;
  /**
   * The controller's CloudWatch namespace; log-derived metrics go under
   * `<namespace>/<app>-<env>/<lane>`.
   * @default 'QueueLanes'
   */
  readonly namespace?: string;
  /**
   * Days KMS waits before deleting the alarm topic's key (7-30).
   * @default 30
   */
  readonly keyDeletionWindowInDays?: number;
}

/** What compose wires into the observability from the other stacks and constructs. */
export type ObservabilityResources = Pick<ObservabilityProps, 'kmsKeyArn' | 'logGroupNames' | 'controllerFunctionName'>;

/** The observability construct's props for one environment, as compose builds them. */
export function observabilityProps(env: EnvironmentConfig, resources: ObservabilityResources): ObservabilityProps {
  return {
    app: env.app,
    environment: env.environment,
    region: env.region,
    lanes: env.lanes.map((lane) => ({ ...lane, thresholds: laneAlarmThresholds(lane) })),
    logRetentionInDays: env.logs.retentionDays,
    schedulerService: env.scheduler.service.enabled,
    redisKeyPrefix: env.redisKeyPrefix,
    redisRetryAfter: env.redis.retryAfter,
    alarmSubscriptions: env.alarms.subscriptions,
    accountIds: env.allowedAccountIds,
    ...resources,
  };
}

/** A lane's alarms, by kind; a kind is absent where its metric does not exist. */
export interface LaneAlarms {
  /** `<app>-<env>-<lane>-backlog`: backlog above its threshold for backlogMinutes (SQS lanes, and Redis lanes the controller measures). */
  readonly backlog?: CloudwatchMetricAlarm;
  /** `…-oldest-job`: the oldest runnable job (ready, due delayed, expired reservation) older than oldestJobSeconds (as backlog). */
  readonly oldestJob?: CloudwatchMetricAlarm;
  /** `…-key-prefix`: the lane reads empty while its keys exist under another Redis key prefix (Redis lanes the controller measures). */
  readonly keyPrefix?: CloudwatchMetricAlarm;
  /** `…-stuck-jobs`: reservations no worker holds and Laravel never retries (Redis lanes, redis.retryAfter null). */
  readonly stuckJobs?: CloudwatchMetricAlarm;
  /** `…-restarts`: more than `restarts` tasks stopped on their own within restartWindowMinutes. */
  readonly restarts: CloudwatchMetricAlarm;
  /** `…-redis-errors`: Redis connection errors in the worker log. */
  readonly redisErrors: CloudwatchMetricAlarm;
  /** `…-aurora-errors`: Aurora connection errors in the worker log. */
  readonly auroraErrors: CloudwatchMetricAlarm;
  /** `…-failed-jobs`: a sustained rate of failed job attempts. */
  readonly failedJobs: CloudwatchMetricAlarm;
  /** `…-dead-letters`: messages in an SQS lane's dead-letter queue. */
  readonly deadLetters?: CloudwatchMetricAlarm;
}

/** The scheduler singleton's alarms: it runs one task, which nothing else watches. */
export interface SchedulerAlarms {
  /** `<app>-<env>-scheduler-not-running`: no running scheduler task for 5 minutes, so no scheduled job is dispatched. */
  readonly notRunning: CloudwatchMetricAlarm;
  /** `<app>-<env>-scheduler-restarts`: its task stopped on its own (crashed, failed to start) more than 3 times in 15 minutes. */
  readonly restarts: CloudwatchMetricAlarm;
}

/** A lane's log metric filters, by the metric they publish. */
export interface LaneMetricFilters {
  /** On the stopped-task event log group: this lane's crashed or failed-to-start tasks (StoppedTasks). */
  readonly stoppedTasks: CloudwatchLogMetricFilter;
  /** On the worker log group: RedisConnectionErrors. */
  readonly redisErrors: CloudwatchLogMetricFilter;
  /** On the worker log group: AuroraConnectionErrors. */
  readonly auroraErrors: CloudwatchLogMetricFilter;
  /** On the worker log group: FailedJobs (job lines of attempts that threw or failed). */
  readonly failedJobs: CloudwatchLogMetricFilter;
  /** On the worker log group: FinishedJobs (every job line), which the backlog controller reads as activity. */
  readonly finishedJobs: CloudwatchLogMetricFilter;
  /** On the worker log group: JobRuntime, each attempt's seconds. */
  readonly jobRuntime: CloudwatchLogMetricFilter;
  /** On the worker log group: JobPeakMemory, each attempt's peak MiB. */
  readonly jobPeakMemory: CloudwatchLogMetricFilter;
  /** On the worker log group: JobAttempts by Queue and Outcome. */
  readonly jobAttempts: CloudwatchLogMetricFilter;
}

/** Everything observed about one active lane. */
export interface LaneObservability {
  readonly lane: ObservedLane;
  /** The thresholds in force, derived defaults filled in. */
  readonly thresholds: AlarmThresholds;
  /** The worker log group the filters read. */
  readonly logGroupName: string;
  /** Namespace of the lane's log-derived metrics. */
  readonly metricNamespace: string;
  readonly metricFilters: LaneMetricFilters;
  readonly alarms: LaneAlarms;
}

/** The backlog controller's alarms. */
export interface ControllerAlarms {
  /** `<app>-<env>-controller-failing`: failed ticks or Lambda errors 3 minutes in a row. */
  readonly failing: CloudwatchMetricAlarm;
  /** `<app>-<env>-controller-not-running`: no invocation for 10 minutes. */
  readonly notRunning: CloudwatchMetricAlarm;
}

/** Tasks that stop on their own: essential container exited, or the task failed to start. */
export const CRASH_STOP_CODES = ['EssentialContainerExited', 'TaskFailedToStart'] as const;

/** Minutes the controller must fail in a row before its alarm fires. */
export const CONTROLLER_FAILING_MINUTES = 3;
/** Minutes without an invocation before the controller counts as not running. */
export const CONTROLLER_SILENT_MINUTES = 10;

/**
 * The `scaling` stack's observability: one dashboard per environment
 * (`<app>-<env>-queue-lanes`), an encrypted alarm topic, and per lane the
 * log metric filters and alarms that say a lane is behind (backlog, oldest job),
 * crash-looping (restarts, from ECS task state-change events), cut off from Redis or
 * Aurora, or failing its jobs; plus alarms for the backlog controller and SQS
 * dead-letter queues. Every alarm notifies the topic on ALARM and on OK, and its
 * description says what to check first. A lane at stage `off` keeps its filters and
 * alarms with their actions disabled: quiet while the hosts own its queues, and the
 * evidence of the run it was rolled back from is still there.
 */
export class Observability extends Construct {
  /** `<app>-<env>-queue-lanes`. */
  readonly dashboardName: string;
  readonly dashboard: CloudwatchDashboard;
  /** The dashboard's JSON, before serialization (tokens unresolved). */
  readonly dashboardBody: DashboardBody;
  /** The alarm topic with its key and subscriptions. */
  readonly alarmTopic: AlarmTopic;
  /** `<app>-<env>-alarms`: every alarm's alarm and OK action. */
  readonly topic: SnsTopic;
  /** The topic's encryption key. */
  readonly topicKey: KmsKey;
  /** Every lane, by name: thresholds, metric filters and alarms. */
  readonly lanes: Readonly<Record<string, LaneObservability>>;
  /** Present with a controller function. */
  readonly controllerAlarms?: ControllerAlarms;
  /** The scheduler service's alarms; present when scheduler.service.enabled. */
  readonly schedulerAlarms?: SchedulerAlarms;
  /** Every alarm, lanes in lane order, then the controller's. */
  readonly alarms: readonly CloudwatchMetricAlarm[];
  /** Stopped-task events of the lanes (present when a lane is active). */
  readonly stoppedTasksLogGroup?: CloudwatchLogGroup;
  /** Lets EventBridge write {@link stoppedTasksLogGroup}. */
  readonly stoppedTasksLogPolicy?: CloudwatchLogResourcePolicy;
  /** ECS task state changes to STOPPED, with a crash stop code, of the active lanes' services. */
  readonly stoppedTasksRule?: CloudwatchEventRule;
  readonly stoppedTasksTarget?: CloudwatchEventTarget;
  /** The rule's event pattern, as set on {@link stoppedTasksRule}. */
  readonly stoppedTasksPattern?: string;

  constructor(scope: Construct, id: string, props: ObservabilityProps) {
    super(scope, id);
    const namespace = props.namespace ?? DEFAULT_NAMESPACE;
    const controller = props.controllerFunctionName;
    validate(props, namespace);
    const env = signalEnvironment(props);

    const cluster = clusterName(env);
    this.dashboardName = dashboardName(env);
    this.alarmTopic = new AlarmTopic(this, 'alarm-topic', {
      app: props.app,
      environment: props.environment,
      subscriptions: props.alarmSubscriptions,
      accountIds: props.accountIds,
      keyDeletionWindowInDays: props.keyDeletionWindowInDays,
    });
    this.topic = this.alarmTopic.topic;
    this.topicKey = this.alarmTopic.key;
    const alarms: CloudwatchMetricAlarm[] = [];
    const alarm = alarmFactory(this, this.topic.arn, alarms);

    const scheduler = props.schedulerService ?? false;
    // Crash loops are invisible in queue depth: count the lanes' tasks that stop on their own.
    const stopped = props.lanes.length > 0 || scheduler ? stoppedTasksLog(this, props, scheduler, cluster) : undefined;
    this.stoppedTasksLogGroup = stopped?.logGroup;
    this.stoppedTasksLogPolicy = stopped?.policy;
    this.stoppedTasksPattern = stopped?.pattern;
    this.stoppedTasksRule = stopped?.rule;
    this.stoppedTasksTarget = stopped?.target;

    const observed = observeLanes(this, alarm, props, {
      env,
      namespace,
      dashboardName: this.dashboardName,
      stoppedTasksLogGroupName: stopped?.logGroup.name ?? stoppedTasksLogGroupName(env),
    });
    this.lanes = observed.lanes;
    if (scheduler) {
      this.schedulerAlarms = schedulerAlarms(this, env, namespace, stopped!.logGroup.name, cluster, alarm);
    }
    if (controller) {
      this.controllerAlarms = controllerAlarms(env, namespace, controller, this.dashboardName, alarm);
    }
    this.alarms = alarms;

    this.dashboardBody = dashboardBody({
      env: props,
      namespace,
      clusterName: cluster,
      lanes: observed.dashboardLanes,
      controllerFunctionName: controller,
      alarmArns: alarms.map((a) => a.arn),
    });
    this.dashboard = new CloudwatchDashboard(this, 'dashboard', {
      dashboardName: this.dashboardName,
      dashboardBody: JSON.stringify(this.dashboardBody),
    });
  }
}

/** What the naming module and the brokers read of the environment. */
function signalEnvironment(props: ObservabilityProps): SignalEnvironment {
  return {
    app: props.app,
    environment: props.environment,
    redisKeyPrefix: props.redisKeyPrefix,
    redis: { retryAfter: props.redisRetryAfter },
  };
}

/** Creates an alarm whose actions notify the alarm topic (disabled when `quiet`) and records it. */
type AlarmFactory = (
  id: string,
  config: Omit<CloudwatchMetricAlarmConfig, 'alarmActions' | 'okActions' | 'actionsEnabled'>,
  quiet?: boolean,
) => CloudwatchMetricAlarm;

/** CloudWatch's limit on an alarm's description (PutMetricAlarm AlarmDescription: at most 1024 characters). */
export const MAX_ALARM_DESCRIPTION = 1024;

/** A description within CloudWatch's limit: one that lists a lane's queues grows with them, and is cut with "…". */
function fitDescription(description: string | undefined): string | undefined {
  return description === undefined || description.length <= MAX_ALARM_DESCRIPTION
    ? description
    : `${description.slice(0, MAX_ALARM_DESCRIPTION - 1)}…`;
}

/** An {@link AlarmFactory} on the alarm topic that records each alarm in `alarms`, in creation order. */
function alarmFactory(scope: Construct, topicArn: string, alarms: CloudwatchMetricAlarm[]): AlarmFactory {
  const actions = [topicArn];
  return (id, config, quiet = false) => {
    const a = new CloudwatchMetricAlarm(scope, id, {
      ...config,
      alarmDescription: fitDescription(config.alarmDescription),
      actionsEnabled: !quiet,
      alarmActions: actions,
      okActions: actions,
    });
    alarms.push(a);
    return a;
  };
}

/** Every lane's filters and alarms, in lane order, and its dashboard row. */
function observeLanes(
  scope: Construct,
  alarm: AlarmFactory,
  props: ObservabilityProps,
  shared: Pick<LaneContext, 'env' | 'namespace' | 'dashboardName' | 'stoppedTasksLogGroupName'>,
): { lanes: Record<string, LaneObservability>; dashboardLanes: DashboardLane[] } {
  const { env } = shared;
  const controller = props.controllerFunctionName;
  const controllerLanes = new Set(
    props.controllerLanes ?? (controller ? props.lanes.filter((l) => l.controllerMeasured).map((l) => l.name) : []),
  );
  const lanes: Record<string, LaneObservability> = {};
  const dashboardLanes: DashboardLane[] = [];
  for (const lane of props.lanes) {
    const observed = laneObservability(scope, alarm, {
      env,
      lane,
      namespace: shared.namespace,
      dashboardName: shared.dashboardName,
      logGroupName: props.logGroupNames?.[lane.name] ?? logGroupName(env, lane.name),
      stoppedTasksLogGroupName: shared.stoppedTasksLogGroupName,
      controllerFunctionName: controller,
      controllerMeasured: controllerLanes.has(lane.name),
      queueNames: props.sqsQueueNames?.[lane.name],
      deadLetterQueueName: props.deadLetterQueueNames?.[lane.name],
    });
    lanes[lane.name] = observed.lane;
    dashboardLanes.push(observed.dashboard);
  }
  return { lanes, dashboardLanes };
}

interface StoppedTasksLog {
  readonly logGroup: CloudwatchLogGroup;
  readonly policy: CloudwatchLogResourcePolicy;
  readonly pattern: string;
  readonly rule: CloudwatchEventRule;
  readonly target: CloudwatchEventTarget;
}

/** ECS task state changes to STOPPED with a crash stop code, of every lane's and the scheduler's service, into one log group. */
function stoppedTasksLog(scope: Construct, props: ObservabilityProps, scheduler: boolean, cluster: string): StoppedTasksLog {
  const logGroup = new CloudwatchLogGroup(scope, 'stopped-tasks-log-group', {
    name: stoppedTasksLogGroupName(props),
    ...logGroupRetention(props.logRetentionInDays),
    kmsKeyId: props.kmsKeyArn,
  });
  const policy = new CloudwatchLogResourcePolicy(scope, 'stopped-tasks-log-policy', {
    policyName: stoppedTasksRuleName(props),
    policyDocument: JSON.stringify(
      policyDocument([
        {
          Sid: 'EventBridgeWritesStoppedTasks',
          Effect: 'Allow',
          Principal: { Service: ['events.amazonaws.com', 'delivery.logs.amazonaws.com'] },
          Action: ['logs:CreateLogStream', 'logs:PutLogEvents'],
          Resource: `${logGroup.arn}:*`,
        },
      ]),
    ),
  });
  const services = [...props.lanes.map((l) => l.name), ...(scheduler ? [SCHEDULER] : [])];
  const pattern = JSON.stringify({
    source: ['aws.ecs'],
    'detail-type': ['ECS Task State Change'],
    detail: {
      // The rule sits on this account's and region's default bus, so the name pins the cluster.
      clusterArn: [{ suffix: `:cluster/${cluster}` }],
      group: services.map((w) => `service:${serviceName(props, w)}`),
      lastStatus: ['STOPPED'],
      // Scale-in and deployments stop tasks with ServiceSchedulerInitiated, Spot with
      // SpotInterruption, people with UserInitiated: none of those is a crash.
      stopCode: [...CRASH_STOP_CODES],
    },
  });
  const rule = new CloudwatchEventRule(scope, 'stopped-tasks-rule', {
    name: stoppedTasksRuleName(props),
    description: `Tasks of the ${props.app} ${props.environment} lanes that stopped on their own (crashed or failed to start)`,
    eventPattern: pattern,
  });
  const target = new CloudwatchEventTarget(scope, 'stopped-tasks-target', {
    rule: rule.name,
    targetId: 'stopped-tasks-log-group',
    arn: logGroup.arn,
    dependsOn: [policy],
  });
  return { logGroup, policy, pattern, rule, target };
}

interface LaneContext extends Omit<QueueSignalContext, 'lane' | 'thresholds'> {
  /** The lane, with the alarm thresholds in force. */
  readonly lane: ObservedLane;
  /** The log group the stopped-task events land in (may be a token). */
  readonly stoppedTasksLogGroupName: string;
}

/** Where each queue alarm kind is exposed on {@link LaneAlarms}. */
const QUEUE_ALARM_FIELD = {
  backlog: 'backlog',
  'oldest-job': 'oldestJob',
  'key-prefix': 'keyPrefix',
  'stuck-jobs': 'stuckJobs',
  'dead-letters': 'deadLetters',
} as const satisfies Record<QueueAlarmKind, keyof LaneAlarms>;

/** A lane's metric filters, its broker's queue alarms and its log-derived alarms; quiet at stage off. */
function laneObservability(
  scope: Construct,
  alarm: AlarmFactory,
  context: LaneContext,
): { lane: LaneObservability; dashboard: DashboardLane } {
  const { env, lane } = context;
  const t = lane.thresholds;
  const logGroup = context.logGroupName;
  const logNamespace = logMetricNamespace(context.namespace, env, lane.name);
  const service = serviceName(env, lane.name);
  const metricFilters = laneMetricFilters(scope, context, service, logNamespace);
  const signals = brokerOf(lane).queueSignals({ ...context, thresholds: { ...t, oldestJobMinutes: OLDEST_JOB_MINUTES } });
  const alarms = laneAlarms(alarm, context, signals, logAlarmSpecs(context, service, logNamespace));
  return {
    lane: { lane, thresholds: t, logGroupName: logGroup, metricNamespace: logNamespace, metricFilters, alarms },
    dashboard: { lane, thresholds: t, serviceName: service, logGroupName: logGroup, logNamespace, queue: signals },
  };
}

/** The lane's log metric filters: its stopped tasks among the stopped-task events, and what its worker log says. */
function laneMetricFilters(scope: Construct, context: LaneContext, service: string, logNamespace: string): LaneMetricFilters {
  const { env, lane } = context;
  const logGroup = context.logGroupName;
  const filter = (kind: string, logGroupNameValue: string, pattern: string, metric: string) =>
    new CloudwatchLogMetricFilter(scope, `${lane.name}-${kind}-filter`, {
      name: alarmName(env, lane.name, kind),
      logGroupName: logGroupNameValue,
      pattern,
      metricTransformation: { name: metric, namespace: logNamespace, value: '1', defaultValue: '0', unit: 'Count' },
    });
  return {
    stoppedTasks: filter(
      'stopped-tasks',
      context.stoppedTasksLogGroupName,
      jsonEquals({ '$.detail.group': `service:${service}` }),
      LOG_METRIC.stoppedTasks,
    ),
    redisErrors: filter('redis-errors', logGroup, REDIS_ERROR_PATTERN, LOG_METRIC.redisErrors),
    auroraErrors: filter('aurora-errors', logGroup, AURORA_ERROR_PATTERN, LOG_METRIC.auroraErrors),
    failedJobs: filter('failed-jobs', logGroup, FAILED_JOB_PATTERN, LOG_METRIC.failedJobs),
    finishedJobs: filter('finished-jobs', logGroup, FINISHED_JOB_PATTERN, LOG_METRIC.finishedJobs),
    ...jobFigureFilters(scope, context, logNamespace),
  };
}

/**
 * The job lines' figures: runtime and peak memory of every attempt (no default value, which
 * would put zeros in the percentiles), and the attempts by queue and outcome (a filter with
 * dimensions takes no default value).
 */
function jobFigureFilters(scope: Construct, context: LaneContext, namespace: string) {
  const { env, lane } = context;
  const filter = (kind: string, metricTransformation: CloudwatchLogMetricFilterMetricTransformation) =>
    new CloudwatchLogMetricFilter(scope, `${lane.name}-${kind}-filter`, {
      name: alarmName(env, lane.name, kind),
      logGroupName: context.logGroupName,
      pattern: FINISHED_JOB_PATTERN,
      metricTransformation,
    });
  const field = JOB_LINE_FIELDS;
  return {
    jobRuntime: filter('job-runtime', { name: LOG_METRIC.jobRuntime, namespace, value: field.runtimeSeconds, unit: 'Seconds' }),
    jobPeakMemory: filter('job-memory', { name: LOG_METRIC.jobPeakMemory, namespace, value: field.peakMemoryMiB, unit: 'Megabytes' }),
    jobAttempts: filter('job-attempts', {
      name: LOG_METRIC.jobAttempts,
      namespace,
      value: '1',
      unit: 'Count',
      dimensions: { Queue: field.queue, Outcome: field.outcome },
    }),
  };
}

/** An alarm as a spec gives it: its kind, which names it, and its configuration. */
interface LaneAlarmSpec {
  readonly kind: string;
  readonly config: AlarmSpecConfig;
}

/** The lane's alarms in the order they are created: the broker's queue alarms, the log-derived ones, the broker's failure alarms. */
function laneAlarms(alarm: AlarmFactory, context: LaneContext, signals: QueueSignals, logAlarms: readonly LaneAlarmSpec[]): LaneAlarms {
  const { env, lane } = context;
  const tags = { lane: lane.name };
  const laneAlarm = (spec: LaneAlarmSpec) =>
    alarm(`${lane.name}-${spec.kind}`, { alarmName: alarmName(env, lane.name, spec.kind), ...spec.config, tags }, lane.sizedBy === 'off');
  const queueAlarms: Partial<Record<(typeof QUEUE_ALARM_FIELD)[QueueAlarmKind], CloudwatchMetricAlarm>> = {};
  const create = (specs: readonly AlarmSpec[]) => {
    for (const spec of specs) queueAlarms[QUEUE_ALARM_FIELD[spec.kind]] = laneAlarm(spec);
  };
  create(signals.queueAlarms);
  const [restarts, redisErrors, auroraErrors, failedJobs] = logAlarms.map(laneAlarm);
  create(signals.failureAlarms);
  return {
    backlog: queueAlarms.backlog,
    oldestJob: queueAlarms.oldestJob,
    keyPrefix: queueAlarms.keyPrefix,
    stuckJobs: queueAlarms.stuckJobs,
    restarts,
    redisErrors,
    auroraErrors,
    failedJobs,
    deadLetters: queueAlarms.deadLetters,
  };
}

/** The connection-error alarms on the lane's worker log, one per store the workers reach. */
const CONNECTION_ERROR_ALARMS = [
  {
    kind: 'redis-errors',
    store: 'Redis',
    metricName: LOG_METRIC.redisErrors,
    errors: 'refused, timed out, read error',
    checkFirst:
      "that Redis admits the worker security group on network.redis's port and that the Redis node is healthy (CPU, connections, failover)",
  },
  {
    kind: 'aurora-errors',
    store: 'Aurora',
    metricName: LOG_METRIC.auroraErrors,
    errors: 'SQLSTATE 2002/2006/2013/08S01, too many connections, read-only after a failover',
    checkFirst:
      "that Aurora admits the worker security group on network.aurora's port, recent failovers in the RDS events, and DatabaseConnections against max_connections",
  },
] as const;

/** The alarms every lane has, on the metrics its log filters publish: restarts, Redis and Aurora errors, failed jobs. */
function logAlarmSpecs(context: LaneContext, service: string, logNamespace: string): LaneAlarmSpec[] {
  return [
    restartsSpec(context, service, logNamespace),
    ...CONNECTION_ERROR_ALARMS.map((store) => connectionErrorsSpec(context, logNamespace, store)),
    failedJobsSpec(context, logNamespace),
  ];
}

function restartsSpec(context: LaneContext, service: string, logNamespace: string): LaneAlarmSpec {
  const { env, lane } = context;
  const t = lane.thresholds;
  return {
    kind: 'restarts',
    config: {
      alarmDescription: `${lane.name}: more than ${t.restarts} tasks of ${service} stopped on their own (container exited, failed to start) within ${t.restartWindowMinutes} min: a crash loop, which queue depth does not show. Check first: stopCode and stoppedReason of the events in ${stoppedTasksLogGroupName(env)}, then the last lines in ${context.logGroupName} before each stop (a missing runtime folder, secret or image shows there).`,
      namespace: logNamespace,
      metricName: LOG_METRIC.stoppedTasks,
      period: t.restartWindowMinutes * 60,
      statistic: 'Sum',
      comparisonOperator: 'GreaterThanThreshold',
      threshold: t.restarts,
      evaluationPeriods: 1,
      datapointsToAlarm: 1,
      // The filter publishes only when a stopped task is logged: no data is no restart.
      treatMissingData: 'notBreaching',
    },
  };
}

function connectionErrorsSpec(context: LaneContext, logNamespace: string, store: (typeof CONNECTION_ERROR_ALARMS)[number]): LaneAlarmSpec {
  const { lane } = context;
  const t = lane.thresholds;
  return {
    kind: store.kind,
    config: {
      alarmDescription: `${lane.name}: ${t.connectionErrors} or more ${store.store} connection errors (${store.errors}) in ${CONNECTION_ERROR_MINUTES} min in ${context.logGroupName}. Check first: ${store.checkFirst}; fix connectivity before adding workers: more workers only add connections.`,
      namespace: logNamespace,
      metricName: store.metricName,
      period: CONNECTION_ERROR_MINUTES * 60,
      statistic: 'Sum',
      comparisonOperator: 'GreaterThanOrEqualToThreshold',
      threshold: t.connectionErrors,
      evaluationPeriods: 1,
      datapointsToAlarm: 1,
      // No matching line (or no log at all while the lane is at zero) is no error.
      treatMissingData: 'notBreaching',
    },
  };
}

function failedJobsSpec(context: LaneContext, logNamespace: string): LaneAlarmSpec {
  const { lane } = context;
  const t = lane.thresholds;
  return {
    kind: 'failed-jobs',
    config: {
      alarmDescription: `${lane.name}: ${t.failedJobsPerMinute} or more job attempts failed every minute for ${FAILED_JOB_MINUTES} min (job lines with error true in ${context.logGroupName}). Check first: the exception logged just before those job lines and php artisan queue:failed; if it started with a deploy, roll the image back before retrying the failed jobs.`,
      namespace: logNamespace,
      metricName: LOG_METRIC.failedJobs,
      period: 60,
      statistic: 'Sum',
      comparisonOperator: 'GreaterThanOrEqualToThreshold',
      threshold: t.failedJobsPerMinute,
      evaluationPeriods: FAILED_JOB_MINUTES,
      datapointsToAlarm: FAILED_JOB_MINUTES,
      treatMissingData: 'notBreaching',
    },
  };
}

/** The backlog controller's two alarms: failing ticks, and no invocation at all. */
function controllerAlarms(
  env: SignalEnvironment,
  namespace: string,
  controller: string,
  dashboard: string,
  alarm: AlarmFactory,
): ControllerAlarms {
  const failing = alarm('controller-failing', {
    alarmName: alarmName(env, 'controller', 'failing'),
    alarmDescription: `The backlog controller ${controller} failed ${CONTROLLER_FAILING_MINUTES} ticks in a row (ControllerErrors or Lambda errors), so no Redis lane scales or wakes. Check first: its log /aws/lambda/${controller}; a Redis connection or AUTH error there means fixing Redis access (redis-errors on the lanes), not the lanes.`,
    metricQuery: [
      { id: 'failures', expression: 'FILL(ticks, 0) + FILL(crashes, 0)', label: 'failed ticks + Lambda errors', returnData: true },
      {
        id: 'ticks',
        metric: {
          namespace,
          metricName: METRIC.controllerErrors,
          dimensions: { [DIMENSION.environment]: env.environment },
          period: 60,
          stat: 'Sum',
        },
        returnData: false,
      },
      {
        id: 'crashes',
        metric: { namespace: 'AWS/Lambda', metricName: 'Errors', dimensions: { FunctionName: controller }, period: 60, stat: 'Sum' },
        returnData: false,
      },
    ],
    comparisonOperator: 'GreaterThanOrEqualToThreshold',
    threshold: 1,
    evaluationPeriods: CONTROLLER_FAILING_MINUTES,
    datapointsToAlarm: CONTROLLER_FAILING_MINUTES,
    // A controller that does not run reports nothing; controller-not-running covers that.
    treatMissingData: 'notBreaching',
  });
  const notRunning = alarm('controller-not-running', {
    alarmName: alarmName(env, 'controller', 'not-running'),
    alarmDescription: `The backlog controller ${controller} has not run for ${CONTROLLER_SILENT_MINUTES} min, so Redis lanes neither wake nor scale and their backlog metrics stop. Check first: that its EventBridge schedule is enabled and the function exists (aws lambda get-function --function-name ${controller}), then Throttles on dashboard ${dashboard}.`,
    namespace: 'AWS/Lambda',
    metricName: 'Invocations',
    dimensions: { FunctionName: controller },
    period: 300,
    statistic: 'Sum',
    comparisonOperator: 'LessThanThreshold',
    threshold: 1,
    evaluationPeriods: CONTROLLER_SILENT_MINUTES / 5,
    datapointsToAlarm: CONTROLLER_SILENT_MINUTES / 5,
    // Lambda publishes Invocations only when it is invoked: no data is exactly "not running".
    treatMissingData: 'breaching',
  });
  return { failing, notRunning };
}

/** The scheduler's stopped-task filter and its two alarms. */
function schedulerAlarms(
  scope: Construct,
  env: SignalEnvironment,
  namespace: string,
  eventsLogGroup: string,
  cluster: string,
  alarm: AlarmFactory,
): SchedulerAlarms {
  const service = serviceName(env, SCHEDULER);
  const logNamespace = logMetricNamespace(namespace, env, SCHEDULER);
  new CloudwatchLogMetricFilter(scope, 'scheduler-stopped-tasks-filter', {
    name: alarmName(env, SCHEDULER, 'stopped-tasks'),
    logGroupName: eventsLogGroup,
    pattern: jsonEquals({ '$.detail.group': `service:${service}` }),
    metricTransformation: { name: LOG_METRIC.stoppedTasks, namespace: logNamespace, value: '1', defaultValue: '0', unit: 'Count' },
  });
  const notRunning = alarm('scheduler-not-running', {
    alarmName: alarmName(env, SCHEDULER, 'not-running'),
    alarmDescription: `The scheduler service ${service} has run no task for 5 min, so php artisan schedule:work dispatches nothing. Check first: aws ecs describe-services --cluster ${cluster} --services ${service} (events, deployments), then its stopped tasks in ${stoppedTasksLogGroupName(env)}.`,
    namespace: 'ECS/ContainerInsights',
    metricName: 'RunningTaskCount',
    dimensions: { ClusterName: cluster, ServiceName: service },
    period: 60,
    statistic: 'Maximum',
    comparisonOperator: 'LessThanThreshold',
    threshold: 1,
    evaluationPeriods: 5,
    datapointsToAlarm: 5,
    // Container Insights publishes nothing for a service with no task: no data is not running.
    treatMissingData: 'breaching',
  });
  const restarts = alarm('scheduler-restarts', {
    alarmName: alarmName(env, SCHEDULER, 'restarts'),
    alarmDescription: `The scheduler's task stopped on its own more than 3 times in 15 min (crashed or failed to start). Check first: stopCode and stoppedReason of its events in ${stoppedTasksLogGroupName(env)}, then the last lines of ${logGroupName(env, SCHEDULER)}.`,
    namespace: logNamespace,
    metricName: LOG_METRIC.stoppedTasks,
    period: 900,
    statistic: 'Sum',
    comparisonOperator: 'GreaterThanThreshold',
    threshold: 3,
    evaluationPeriods: 1,
    datapointsToAlarm: 1,
    treatMissingData: 'notBreaching',
  });
  return { notRunning, restarts };
}

function validate(props: ObservabilityProps, namespace: string): void {
  const problems: string[] = [];
  const known = new Map(props.lanes.map((l) => [l.name, l]));
  const check = (what: string, names: readonly string[], broker?: 'redis' | 'sqs') => {
    for (const name of names) {
      const lane = known.get(name);
      if (!lane) problems.push(`${what}: "${name}" is not a lane (${[...known.keys()].join(', ') || 'none'})`);
      else if (broker && lane.broker !== broker) problems.push(`${what}: lane "${name}" uses broker ${lane.broker}, not ${broker}`);
    }
  };
  check('logGroupNames', Object.keys(props.logGroupNames ?? {}));
  check('controllerLanes', props.controllerLanes ?? [], 'redis');
  check('sqsQueueNames', Object.keys(props.sqsQueueNames ?? {}), 'sqs');
  check('deadLetterQueueNames', Object.keys(props.deadLetterQueueNames ?? {}), 'sqs');
  if (props.controllerLanes && props.controllerLanes.length > 0 && !props.controllerFunctionName) {
    problems.push('controllerLanes: given without controllerFunctionName; the controller that measures them has to be known');
  }
  for (const [lane, queues] of Object.entries(props.sqsQueueNames ?? {})) {
    if (queues.length === 0) problems.push(`sqsQueueNames.${lane}: lists no queue`);
  }
  if (!/^[A-Za-z0-9._#:/-]{1,200}$/.test(namespace) || namespace.startsWith('AWS/')) {
    problems.push(`namespace: "${namespace}" is not a custom CloudWatch namespace (letters, digits, . _ # : / -, not AWS/)`);
  }
  for (const lane of props.lanes) problems.push(...thresholdProblems(lane.name, lane.thresholds));
  const window = props.keyDeletionWindowInDays;
  const windowProblem = keyDeletionWindowProblem(window);
  if (windowProblem) problems.push(windowProblem);
  if (problems.length > 0) {
    throw new Error(`Observability ${props.app}-${props.environment}:\n  ${problems.join('\n  ')}`);
  }
}
