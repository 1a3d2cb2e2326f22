import type { CloudwatchMetricAlarmMetricQuery } from '@cdktf/provider-aws/lib/cloudwatch-metric-alarm';
import { deadLetterQueueName, queueName, type EnvironmentConfig, type LaneConfig, type SqsSettings } from '@queue-lanes/config';
import { partitionOf, serviceEndpoint, type PolicyStatement } from '@queue-lanes/iam-policy';
import {
  CONNECTIVITY_FIRST,
  type AlarmSpec,
  type BrokerModule,
  type MetricLine,
  type QueueSignalContext,
  type QueueSignals,
} from './broker';

/**
 * SQS: one queue per lane with a dead-letter queue, created by the scaling stack
 * (libs/scaling) and scaled by App Auto Scaling on its own metrics.
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
export function laneQueueArns(env: EnvironmentConfig, lane: string): string[] {
  const partition = partitionOf(env.region);
  return env.allowedAccountIds.map((a) => `arn:${partition}:sqs:${env.region}:${a}:${queueName(env, lane)}`);
}

/** The lane's SQS settings, which config resolves for exactly the SQS lanes. */
export function sqsSettings(lane: LaneConfig): SqsSettings {
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
function sqsTaskStatements(env: EnvironmentConfig, lane: LaneConfig, kmsKeyArn: string): PolicyStatement[] {
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
  const { env, lane, thresholds: t } = context;
  const queues = context.queueNames ?? [queueName(env, lane.name)];
  const deadLetterQueue = context.deadLetterQueueName ?? deadLetterQueueName(env, lane.name);
  const dash = `dashboard ${context.dashboardName}`;
  const backlog: AlarmSpec = {
    kind: 'backlog',
    config: {
      alarmDescription: `${lane.name}: more than ${t.backlog} messages waiting or in flight in ${queues.join(', ')} for ${t.backlogMinutes} min. Check first: desired vs running tasks on ${dash}: running at its ceiling: the lane is saturated, raise its tasks; running below desired: tasks fail to start (see restarts); ${CONNECTIVITY_FIRST}.`,
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
  const oldestJob: AlarmSpec = {
    kind: 'oldest-job',
    config: {
      alarmDescription: `${lane.name}: the oldest message in ${queues.join(', ')} has waited over ${t.oldestJobSeconds} s for ${t.oldestJobMinutes} min. Check first: whether workers take jobs at all (running tasks on ${dash}, the failed-jobs and restarts alarms); a message that keeps failing and returning also ages, so look at the dead-letter queue too.`,
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
  const deadLetters: AlarmSpec = {
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
  const line = (metric: string, queue: string, label: string): MetricLine => ['AWS/SQS', metric, 'QueueName', queue, { label }];
  return {
    measured: true,
    queueAlarms: [backlog, oldestJob],
    failureAlarms: [deadLetters],
    dashboard: {
      backlog: queues.flatMap((q) => [
        line('ApproximateNumberOfMessagesVisible', q, `${q} ready`),
        line('ApproximateNumberOfMessagesNotVisible', q, `${q} in flight`),
        line('ApproximateNumberOfMessagesDelayed', q, `${q} delayed`),
      ]),
      age: queues.map((q) => line('ApproximateAgeOfOldestMessage', q, `${q} oldest`)),
      oldestNoun: 'message',
      failed: [
        [
          'AWS/SQS',
          'ApproximateNumberOfMessagesVisible',
          'QueueName',
          deadLetterQueue,
          { label: 'dead-letter queue', stat: 'Maximum', yAxis: 'right' },
        ],
      ],
    },
  };
}
