import type { CloudwatchMetricAlarmMetricQuery } from '@cdktf/provider-aws/lib/cloudwatch-metric-alarm';
import { deadLetterQueueName, queueName, type LaneConfig, type SqsSettings } from '@queue-lanes/config';
import { partitionOf, serviceEndpoint, type PolicyStatement } from '@queue-lanes/iam-policy';
import {
  CONNECTIVITY_FIRST,
  type AlarmSpec,
  type BrokerModule,
  type BrokerPlace,
  type MetricLine,
  type MetricOptions,
  type QueueSignalContext,
  type QueueSignals,
} from './broker';

/**
 * SQS: one queue per lane with a dead-letter queue, created by the scaling stack
 * (libs/scaling); the backlog controller reads both each tick and sizes the lane
 * as it does a Redis lane.
 */
export const sqs: BrokerModule = {
  broker: 'sqs',
  taskStatements: sqsTaskStatements,
  queueSignals: sqsSignals,
  queueInspection: (env, region) => ({
    setup: [],
    laneLines: (lane) => [
      `aws sqs get-queue-attributes ${region} --queue-url $(aws sqs get-queue-url ${region} --queue-name ${queueName(env, lane.name)} --query QueueUrl --output text) \\`,
      `  --attribute-names ApproximateNumberOfMessages ApproximateNumberOfMessagesNotVisible ApproximateNumberOfMessagesDelayed`,
    ],
  }),
};

/** An SQS lane's queue, `arn:…:sqs:<region>:<account>:<app>-<env>-<lane>`, for each allowed account. */
export function laneQueueArns(env: BrokerPlace, lane: string): string[] {
  const partition = partitionOf(env.region);
  return env.allowedAccountIds.map((a) => `arn:${partition}:sqs:${env.region}:${a}:${queueName(env, lane)}`);
}

/** The lane's SQS settings, which config resolves for exactly the SQS lanes. */
export function sqsSettings(lane: Pick<LaneConfig, 'name' | 'broker' | 'sqs'>): SqsSettings {
  if (!lane.sqs) throw new Error(`lane "${lane.name}" uses broker ${lane.broker}, not sqs`);
  return lane.sqs;
}

/**
 * Laravel's SQS driver on the lane's own queue: pop receives, a finished job is
 * deleted, release and backoff change the visibility, size reads the attributes,
 * and jobs dispatched from a job send. The queue is encrypted with the environment
 * key: receiving decrypts, sending needs a data key, both only through SQS. The ARN
 * is computed from the naming rule, so the grant lives beside the role (one stack,
 * one state) and the role can be deleted without another stack's policy still attached.
 */
function sqsTaskStatements(env: BrokerPlace, lane: Pick<LaneConfig, 'name'>, kmsKeyArn: string): PolicyStatement[] {
  return [
    {
      Sid: 'ConsumeLaneQueue',
      Effect: 'Allow',
      Action: ['sqs:ChangeMessageVisibility', 'sqs:DeleteMessage', 'sqs:GetQueueAttributes', 'sqs:ReceiveMessage', 'sqs:SendMessage'],
      Resource: laneQueueArns(env, lane.name),
    },
    {
      Sid: 'UseLaneQueueKey',
      Effect: 'Allow',
      Action: ['kms:Decrypt', 'kms:GenerateDataKey'],
      Resource: kmsKeyArn,
      Condition: { StringEquals: { 'kms:ViaService': serviceEndpoint('sqs', env.region) } },
    },
  ];
}

function queueMetric(id: string, metricName: string, queue: string): CloudwatchMetricAlarmMetricQuery {
  return {
    id,
    metric: { namespace: 'AWS/SQS', metricName, dimensions: { QueueName: queue }, period: 60, stat: 'Maximum' },
    returnData: false,
  };
}

function sqsSignals(context: QueueSignalContext): QueueSignals {
  const queues = context.queueNames ?? [queueName(context.env, context.lane.name)];
  const deadLetterQueue = context.deadLetterQueueName ?? deadLetterQueueName(context.env, context.lane.name);
  return {
    measured: true,
    queueAlarms: [backlogAlarm(context, queues), oldestJobAlarm(context, queues)],
    failureAlarms: [deadLettersAlarm(context, deadLetterQueue)],
    dashboard: sqsDashboard(queues, deadLetterQueue),
  };
}

/** Visible and in-flight messages of all the lane's queues together. */
function backlogAlarm(context: QueueSignalContext, queues: readonly string[]): AlarmSpec {
  const { lane, thresholds: t } = context;
  return {
    kind: 'backlog',
    config: {
      alarmDescription: `${lane.name}: more than ${t.backlog} messages waiting or in flight in ${queues.join(', ')} for ${t.backlogMinutes} min. Check first: desired vs running tasks on dashboard ${context.dashboardName}: running at its ceiling: the lane is saturated, raise its tasks; running below desired: tasks fail to start (see restarts); ${CONNECTIVITY_FIRST}.`,
      metricQuery: [
        {
          id: 'backlog',
          expression: queues.flatMap((_, i) => [`visible${i}`, `inflight${i}`]).join(' + '),
          label: 'visible + in flight',
          returnData: true,
        },
        ...queues.flatMap((q, i) => [
          queueMetric(`visible${i}`, 'ApproximateNumberOfMessagesVisible', q),
          queueMetric(`inflight${i}`, 'ApproximateNumberOfMessagesNotVisible', q),
        ]),
      ],
      comparisonOperator: 'GreaterThanThreshold',
      threshold: t.backlog,
      evaluationPeriods: t.backlogMinutes,
      datapointsToAlarm: t.backlogMinutes,
      // A gap is no measurement, never "empty" (SQS stops publishing for a queue nobody polls): keep the state.
      treatMissingData: 'ignore',
    },
  };
}

/** The oldest message of any of the lane's queues: the metric itself for one queue, their maximum for several. */
function oldestJobAlarm(context: QueueSignalContext, queues: readonly string[]): AlarmSpec {
  const { lane, thresholds: t } = context;
  return {
    kind: 'oldest-job',
    config: {
      alarmDescription: `${lane.name}: the oldest message in ${queues.join(', ')} has waited over ${t.oldestJobSeconds} s for ${t.oldestJobMinutes} min. Check first: whether workers take jobs at all (running tasks on dashboard ${context.dashboardName}, the failed-jobs and restarts alarms); a message that keeps failing and returning also ages, so look at the dead-letter queue too.`,
      ...(queues.length === 1
        ? {
            namespace: 'AWS/SQS',
            metricName: 'ApproximateAgeOfOldestMessage',
            dimensions: { QueueName: queues[0] },
            period: 60,
            statistic: 'Maximum',
          }
        : {
            metricQuery: [
              {
                id: 'oldest',
                expression: `MAX([${queues.map((_, i) => `age${i}`).join(', ')}])`,
                label: 'oldest message',
                returnData: true,
              },
              ...queues.map((q, i) => queueMetric(`age${i}`, 'ApproximateAgeOfOldestMessage', q)),
            ],
          }),
      comparisonOperator: 'GreaterThanThreshold',
      threshold: t.oldestJobSeconds,
      evaluationPeriods: t.oldestJobMinutes,
      datapointsToAlarm: t.oldestJobMinutes,
      treatMissingData: 'ignore',
    },
  };
}

function deadLettersAlarm(context: QueueSignalContext, deadLetterQueue: string): AlarmSpec {
  const { lane } = context;
  return {
    kind: 'dead-letters',
    config: {
      alarmDescription: `${lane.name}: messages in the dead-letter queue ${deadLetterQueue}, i.e. jobs received ${sqsSettings(lane).maxReceiveCount} times without finishing. Check first: a message's body (aws sqs receive-message) and the worker log ${context.logGroupName} around its first failure; redrive only once the cause is fixed.`,
      namespace: 'AWS/SQS',
      metricName: 'ApproximateNumberOfMessagesVisible',
      dimensions: { QueueName: deadLetterQueue },
      period: 300,
      statistic: 'Maximum',
      comparisonOperator: 'GreaterThanThreshold',
      threshold: 0,
      evaluationPeriods: 1,
      datapointsToAlarm: 1,
      // SQS stops publishing for a queue nobody touches for 6 hours, even with messages in
      // it: a gap must not turn the alarm OK.
      treatMissingData: 'ignore',
    },
  };
}

/** Each queue's ready, in-flight and delayed messages and its oldest one; the dead-letter queue beside the failed jobs. */
function sqsDashboard(queues: readonly string[], deadLetterQueue: string): QueueSignals['dashboard'] {
  const line = (metric: string, queue: string, options: MetricOptions): MetricLine => ['AWS/SQS', metric, 'QueueName', queue, options];
  return {
    backlog: queues.flatMap((q) => [
      line('ApproximateNumberOfMessagesVisible', q, { label: `${q} ready` }),
      line('ApproximateNumberOfMessagesNotVisible', q, { label: `${q} in flight` }),
      line('ApproximateNumberOfMessagesDelayed', q, { label: `${q} delayed` }),
    ]),
    age: queues.map((q) => line('ApproximateAgeOfOldestMessage', q, { label: `${q} oldest` })),
    oldestNoun: 'message',
    failed: [line('ApproximateNumberOfMessagesVisible', deadLetterQueue, { label: 'dead-letter queue', stat: 'Maximum', yAxis: 'right' })],
  };
}
