import {
  clusterName,
  deadLetterQueueName,
  laneScalingName,
  queueName,
  serviceName,
  type EnvironmentConfig,
  type LaneConfig,
  type SqsSettings,
} from '@queue-lanes/config';
import {
  AppautoscalingPolicy,
  type AppautoscalingPolicyStepScalingPolicyConfiguration,
} from '@cdktf/provider-aws/lib/appautoscaling-policy';
import { AppautoscalingTarget } from '@cdktf/provider-aws/lib/appautoscaling-target';
import {
  CloudwatchMetricAlarm,
  type CloudwatchMetricAlarmConfig,
  type CloudwatchMetricAlarmMetricQuery,
} from '@cdktf/provider-aws/lib/cloudwatch-metric-alarm';
import { SqsQueue } from '@cdktf/provider-aws/lib/sqs-queue';
import { SqsQueueRedriveAllowPolicy } from '@cdktf/provider-aws/lib/sqs-queue-redrive-allow-policy';
import { Construct } from 'constructs';

export interface SqsLaneScalingProps {
  /** The validated environment (names, region). */
  readonly env: EnvironmentConfig;
  /** A lane with broker sqs, at any stage. */
  readonly lane: LaneConfig;
  /** The environment's KMS key: both queues are encrypted with it. */
  readonly kmsKeyArn: string;
  /**
   * The lane's ECS service as App Auto Scaling names it, `service/<cluster>/<service>`
   * (built from the workers stack's resources, so the scaling stack follows them);
   * required at stages scaling and owned, ignored otherwise.
   */
  readonly scalableResourceId?: string;
}

/** App Auto Scaling's names for an ECS service's task count. */
export const ECS_SCALING = { serviceNamespace: 'ecs', scalableDimension: 'ecs:service:DesiredCount' } as const;
/** Dead letters are for people to read: the longest SQS keeps a message (14 days). */
const DEAD_LETTER_RETENTION_SECONDS = 1_209_600;
/** SQS and Container Insights publish one datapoint a minute. */
const PERIOD = 60;
/**
 * The backlog per task reported when the queue holds nothing at all (visible and
 * in flight both 0). Positive, so target tracking never computes zero tasks and
 * scales an idle lane in no further than one task; going to zero is the drain
 * rule's decision alone, after drainMinutes (target tracking's own scale-in
 * window is fixed at about 15 minutes).
 */
export const IDLE_BACKLOG_PER_TASK = 0.001;
/** Cooldown after an oldest-message step: long enough for new tasks to start and make a dent. */
const OLDEST_MESSAGE_COOLDOWN = 300;

/**
 * One SQS lane: its queue `<app>-<env>-<lane>` and dead-letter queue
 * `<app>-<env>-<lane>-dlq` (both encrypted with the environment key) at every
 * stage, so a rollback never deletes messages; and at stages scaling and owned,
 * App Auto Scaling of the lane service between tasks.min and tasks.max:
 *
 * - target tracking on backlog per task = (visible + in flight) ÷ running tasks,
 *   target backlogPerTask (scale-out and gradual scale-in, never below one task);
 * - steps on the age of the oldest message (sqs.oldestMessageSteps);
 * - with tasks.min 0: a step from 0 to 1 task on a single visible message
 *   (target tracking cannot divide by zero tasks), and a drain rule that sets 0
 *   tasks once visible and in-flight messages have both been 0 for drainMinutes.
 */
export class SqsLaneScaling extends Construct {
  readonly lane: LaneConfig;
  /** `<app>-<env>-<lane>`. */
  readonly queueName: string;
  readonly queue: SqsQueue;
  /** `<app>-<env>-<lane>-dlq`: messages received sqs.maxReceiveCount times. */
  readonly deadLetterQueue: SqsQueue;
  /** Only the lane's queue may use the dead-letter queue. */
  readonly redriveAllowPolicy: SqsQueueRedriveAllowPolicy;
  /** The service's task count between tasks.min and tasks.max; present at stages scaling and owned. */
  readonly scalableTarget?: AppautoscalingTarget;
  /** Target tracking on backlog per task. */
  readonly backlogPolicy?: AppautoscalingPolicy;
  /** Steps on the age of the oldest message, and the alarm that drives them. */
  readonly oldestMessagePolicy?: AppautoscalingPolicy;
  readonly oldestMessageAlarm?: CloudwatchMetricAlarm;
  /** 0 → 1 task on one visible message; present when tasks.min is 0. */
  readonly wakePolicy?: AppautoscalingPolicy;
  readonly wakeAlarm?: CloudwatchMetricAlarm;
  /** → 0 tasks after drainMinutes with nothing visible or in flight; present when tasks.min is 0. */
  readonly drainPolicy?: AppautoscalingPolicy;
  readonly drainAlarm?: CloudwatchMetricAlarm;

  constructor(scope: Construct, id: string, props: SqsLaneScalingProps) {
    super(scope, id);
    const { env, lane } = props;
    const sqs = validateProps(props);
    const tags = { lane: lane.name };
    this.lane = lane;
    this.queueName = queueName(env, lane.name);
    const queues = laneQueues(this, props, sqs, tags);
    this.deadLetterQueue = queues.deadLetterQueue;
    this.queue = queues.queue;
    this.redriveAllowPolicy = queues.redriveAllowPolicy;
    if (lane.sizedBy !== 'app-autoscaling') return;

    this.scalableTarget = new AppautoscalingTarget(this, 'target', {
      ...ECS_SCALING,
      resourceId: props.scalableResourceId!,
      minCapacity: lane.tasks.min,
      maxCapacity: lane.tasks.max,
      tags,
    });
    const c: ScalingContext = {
      scope: this,
      lane,
      sqs,
      tags,
      queueName: this.queueName,
      target: {
        serviceNamespace: this.scalableTarget.serviceNamespace,
        scalableDimension: this.scalableTarget.scalableDimension,
        resourceId: this.scalableTarget.resourceId,
      },
      name: (what: string) => laneScalingName(env, lane.name, what),
      serviceDimensions: { ClusterName: clusterName(env), ServiceName: serviceName(env, lane.name) },
    };
    this.backlogPolicy = backlogPolicy(c);
    ({ policy: this.oldestMessagePolicy, alarm: this.oldestMessageAlarm } = oldestMessageScaling(c));
    if (lane.tasks.min > 0) return;
    ({ policy: this.wakePolicy, alarm: this.wakeAlarm } = wakeScaling(c));
    ({ policy: this.drainPolicy, alarm: this.drainAlarm } = drainScaling(c));
  }
}

/** The lane's SQS settings; throws for a lane of another broker, or a scaled lane without its service. */
function validateProps(props: SqsLaneScalingProps): SqsSettings {
  const { lane } = props;
  if (lane.broker !== 'sqs' || !lane.sqs) {
    throw new Error(`lanes.${lane.name}: broker is ${lane.broker}; SqsLaneScaling is for broker sqs`);
  }
  if (lane.sizedBy === 'app-autoscaling' && props.scalableResourceId === undefined) {
    throw new Error(`lanes.${lane.name}: stage ${lane.stage} needs the lane service (scalableResourceId) to scale`);
  }
  return lane.sqs;
}

/** The queue and its dead-letter queue, which only the queue may use; kept at every stage, so a rollback never deletes messages. */
function laneQueues(
  scope: Construct,
  props: SqsLaneScalingProps,
  sqs: SqsSettings,
  tags: Readonly<Record<string, string>>,
): { deadLetterQueue: SqsQueue; queue: SqsQueue; redriveAllowPolicy: SqsQueueRedriveAllowPolicy } {
  const deadLetterQueue = new SqsQueue(scope, 'dead-letter-queue', {
    name: deadLetterQueueName(props.env, props.lane.name),
    kmsMasterKeyId: props.kmsKeyArn,
    messageRetentionSeconds: DEAD_LETTER_RETENTION_SECONDS,
    tags,
  });
  const queue = new SqsQueue(scope, 'queue', {
    name: queueName(props.env, props.lane.name),
    kmsMasterKeyId: props.kmsKeyArn,
    visibilityTimeoutSeconds: sqs.visibilityTimeout,
    messageRetentionSeconds: sqs.messageRetentionSeconds,
    redrivePolicy: JSON.stringify({ deadLetterTargetArn: deadLetterQueue.arn, maxReceiveCount: sqs.maxReceiveCount }),
    tags,
  });
  const redriveAllowPolicy = new SqsQueueRedriveAllowPolicy(scope, 'redrive-allow-policy', {
    queueUrl: deadLetterQueue.url,
    redriveAllowPolicy: JSON.stringify({ redrivePermission: 'byQueue', sourceQueueArns: [queue.arn] }),
  });
  return { deadLetterQueue, queue, redriveAllowPolicy };
}

/** A metric as target tracking reads it: one statistic of a metric, named by its dimensions. */
function trackedMetric(id: string, namespace: string, metricName: string, dimensions: Readonly<Record<string, string>>, stat: string) {
  return {
    id,
    returnData: false,
    metricStat: {
      metric: { namespace, metricName, dimensions: Object.entries(dimensions).map(([name, value]) => ({ name, value })) },
      stat,
    },
  };
}

/** A metric as an alarm reads it: its per-minute maximum. */
function alarmMetric(
  id: string,
  namespace: string,
  metricName: string,
  dimensions: Readonly<Record<string, string>>,
): CloudwatchMetricAlarmMetricQuery {
  return { id, metric: { namespace, metricName, dimensions, period: PERIOD, stat: 'Maximum' } };
}

/** What the scaling policies of one scaled SQS lane share. */
interface ScalingContext {
  readonly scope: Construct;
  readonly lane: LaneConfig;
  readonly sqs: SqsSettings;
  readonly tags: Readonly<Record<string, string>>;
  readonly queueName: string;
  /** The lane service's scalable target, as every policy names it. */
  readonly target: { readonly serviceNamespace: string; readonly scalableDimension: string; readonly resourceId: string };
  readonly name: (what: string) => string;
  readonly serviceDimensions: Readonly<Record<string, string>>;
}

/** One of the lane queue's SQS metrics, as an alarm reads it. */
function queueMetric(c: ScalingContext, id: string, metricName: string): CloudwatchMetricAlarmMetricQuery {
  return alarmMetric(id, 'AWS/SQS', metricName, { QueueName: c.queueName });
}

interface AlarmedPolicy {
  readonly policy: AppautoscalingPolicy;
  readonly alarm: CloudwatchMetricAlarm;
}

/** Target tracking on visible + in-flight messages per running task, at backlogPerTask. */
function backlogPolicy(c: ScalingContext): AppautoscalingPolicy {
  return new AppautoscalingPolicy(c.scope, 'backlog-policy', {
    name: c.name('backlog-per-task'),
    policyType: 'TargetTrackingScaling',
    ...c.target,
    targetTrackingScalingPolicyConfiguration: {
      targetValue: c.lane.backlogPerTask,
      scaleOutCooldown: 60,
      scaleInCooldown: 300,
      disableScaleIn: false,
      customizedMetricSpecification: {
        metrics: [
          trackedMetric('visible', 'AWS/SQS', 'ApproximateNumberOfMessagesVisible', { QueueName: c.queueName }, 'Maximum'),
          trackedMetric('inflight', 'AWS/SQS', 'ApproximateNumberOfMessagesNotVisible', { QueueName: c.queueName }, 'Maximum'),
          trackedMetric('running', 'ECS/ContainerInsights', 'RunningTaskCount', c.serviceDimensions, 'Average'),
          {
            // No data while no task runs (division by zero): target tracking then waits, and the wake step acts.
            id: 'backlog_per_task',
            label: 'Backlog per task',
            expression: `IF(visible + inflight > 0, (visible + inflight) / running, ${IDLE_BACKLOG_PER_TASK})`,
            returnData: true,
          },
        ],
      },
    },
  });
}

/** Steps up on the age of the oldest message (sqs.oldestMessageSteps). */
function oldestMessageScaling(c: ScalingContext): AlarmedPolicy {
  const steps = c.sqs.oldestMessageSteps;
  const threshold = steps[0].ageSeconds;
  return alarmedStepPolicy(
    c,
    { policy: 'oldest-message-policy', alarm: 'oldest-message-alarm' },
    {
      name: c.name('oldest-message'),
      adjustmentType: 'ChangeInCapacity',
      cooldown: OLDEST_MESSAGE_COOLDOWN,
      // Bounds are relative to the alarm threshold (the first step's age).
      stepAdjustment: steps.map((step, i) => ({
        metricIntervalLowerBound: String(step.ageSeconds - threshold),
        ...(i + 1 < steps.length ? { metricIntervalUpperBound: String(steps[i + 1].ageSeconds - threshold) } : {}),
        scalingAdjustment: step.addTasks,
      })),
    },
    {
      alarmName: c.name('oldest-message'),
      alarmDescription: `Lane ${c.lane.name}: the oldest message in ${c.queueName} waited ${threshold} s or more; adds tasks per sqs.oldestMessageSteps`,
      namespace: 'AWS/SQS',
      metricName: 'ApproximateAgeOfOldestMessage',
      dimensions: { QueueName: c.queueName },
      statistic: 'Maximum',
      period: PERIOD,
      evaluationPeriods: 1,
      threshold,
      comparisonOperator: 'GreaterThanOrEqualToThreshold',
      treatMissingData: 'notBreaching',
    },
  );
}

/** From 0 tasks to 1 when a message waits: target tracking has no data to act on while no task runs. */
function wakeScaling(c: ScalingContext): AlarmedPolicy {
  return alarmedStepPolicy(
    c,
    { policy: 'wake-policy', alarm: 'wake-alarm' },
    {
      name: c.name('wake'),
      adjustmentType: 'ChangeInCapacity',
      // Container Insights reports the new desired count a minute later; no second task meanwhile.
      cooldown: 120,
      stepAdjustment: [{ metricIntervalLowerBound: '0', scalingAdjustment: 1 }],
    },
    {
      alarmName: c.name('wake'),
      alarmDescription: `Lane ${c.lane.name}: a message is waiting in ${c.queueName} and the service has no task; starts one`,
      metricQuery: [
        queueMetric(c, 'visible', 'ApproximateNumberOfMessagesVisible'),
        alarmMetric('desired', 'ECS/ContainerInsights', 'DesiredTaskCount', c.serviceDimensions),
        // Visible messages, counted only while the service wants no task (no data counts as none).
        { id: 'waiting', expression: 'IF(FILL(desired, 0) < 1, visible, 0)', label: 'Messages waiting for a first task', returnData: true },
      ],
      evaluationPeriods: 1,
      threshold: 1,
      comparisonOperator: 'GreaterThanOrEqualToThreshold',
      treatMissingData: 'notBreaching',
    },
  );
}

/** To 0 tasks after drainMinutes with nothing visible or in flight. */
function drainScaling(c: ScalingContext): AlarmedPolicy {
  return alarmedStepPolicy(
    c,
    { policy: 'drain-policy', alarm: 'drain-alarm' },
    {
      name: c.name('drain'),
      adjustmentType: 'ExactCapacity',
      cooldown: 60,
      stepAdjustment: [{ metricIntervalUpperBound: '0', scalingAdjustment: 0 }],
    },
    {
      alarmName: c.name('drained'),
      alarmDescription: `Lane ${c.lane.name}: nothing visible or in flight in ${c.queueName} for ${c.lane.drainMinutes} min; scales the service to 0`,
      metricQuery: [
        queueMetric(c, 'visible', 'ApproximateNumberOfMessagesVisible'),
        queueMetric(c, 'inflight', 'ApproximateNumberOfMessagesNotVisible'),
        { id: 'queued', expression: 'visible + inflight', label: 'Visible and in-flight messages', returnData: true },
      ],
      evaluationPeriods: c.lane.drainMinutes,
      datapointsToAlarm: c.lane.drainMinutes,
      threshold: 1,
      comparisonOperator: 'LessThanThreshold',
      // Missing data never counts as empty: only datapoints of 0 drain the c.lane.
      treatMissingData: 'missing',
    },
  );
}

/** A step-scaling policy on the lane's service and the alarm that triggers it. */
function alarmedStepPolicy(
  c: ScalingContext,
  ids: { readonly policy: string; readonly alarm: string },
  step: { readonly name: string } & Omit<AppautoscalingPolicyStepScalingPolicyConfiguration, 'metricAggregationType'>,
  alarm: Omit<CloudwatchMetricAlarmConfig, 'alarmActions' | 'tags'>,
): AlarmedPolicy {
  const { name, ...configuration } = step;
  const policy = new AppautoscalingPolicy(c.scope, ids.policy, {
    name,
    policyType: 'StepScaling',
    ...c.target,
    stepScalingPolicyConfiguration: { ...configuration, metricAggregationType: 'Maximum' },
  });
  return { policy, alarm: new CloudwatchMetricAlarm(c.scope, ids.alarm, { ...alarm, alarmActions: [policy.arn], tags: c.tags }) };
}
