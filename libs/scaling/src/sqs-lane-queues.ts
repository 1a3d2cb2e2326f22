import { deadLetterQueueName, queueName, type EnvironmentConfig, type LaneConfig, type SqsSettings } from '@queue-lanes/config';
import { SqsQueue } from '@cdktf/provider-aws/lib/sqs-queue';
import { SqsQueueRedriveAllowPolicy } from '@cdktf/provider-aws/lib/sqs-queue-redrive-allow-policy';
import { Construct } from 'constructs';

export interface SqsLaneQueuesProps {
  /** The validated environment (names, region). */
  readonly env: EnvironmentConfig;
  /** A lane with broker sqs, at any stage. */
  readonly lane: LaneConfig;
  /** The environment's KMS key: both queues are encrypted with it. */
  readonly kmsKeyArn: string;
}

/** Dead letters are for people to read: the longest SQS keeps a message (14 days). */
const DEAD_LETTER_RETENTION_SECONDS = 1_209_600;

/**
 * One SQS lane's queues: its queue `<app>-<env>-<lane>` and dead-letter queue
 * `<app>-<env>-<lane>-dlq`, both encrypted with the environment key, at every
 * stage, so a rollback never deletes messages. The lane is measured and, at
 * stages scaling and owned, sized by the backlog controller like a Redis lane
 * (it reads both queues with GetQueueAttributes every tick); nothing here scales.
 */
export class SqsLaneQueues extends Construct {
  readonly lane: LaneConfig;
  /** `<app>-<env>-<lane>`. */
  readonly queueName: string;
  readonly queue: SqsQueue;
  /** `<app>-<env>-<lane>-dlq`: messages received sqs.maxReceiveCount times. */
  readonly deadLetterQueue: SqsQueue;
  /** Only the lane's queue may use the dead-letter queue. */
  readonly redriveAllowPolicy: SqsQueueRedriveAllowPolicy;

  constructor(scope: Construct, id: string, props: SqsLaneQueuesProps) {
    super(scope, id);
    const sqs = validateProps(props);
    this.lane = props.lane;
    this.queueName = queueName(props.env, props.lane.name);
    const queues = laneQueues(this, props, sqs, { lane: props.lane.name });
    this.deadLetterQueue = queues.deadLetterQueue;
    this.queue = queues.queue;
    this.redriveAllowPolicy = queues.redriveAllowPolicy;
  }
}

/** The lane's SQS settings; throws for a lane of another broker. */
function validateProps(props: SqsLaneQueuesProps): SqsSettings {
  const { lane } = props;
  if (lane.broker !== 'sqs' || !lane.sqs) {
    throw new Error(`lanes.${lane.name}: broker is ${lane.broker}; SqsLaneQueues is for broker sqs`);
  }
  return lane.sqs;
}

/** The queue and its dead-letter queue, which only the queue may use; kept at every stage, so a rollback never deletes messages. */
function laneQueues(
  scope: Construct,
  props: SqsLaneQueuesProps,
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
