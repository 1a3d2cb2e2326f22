import { deadLetterQueueName, queueName, type SqsSettings } from '@queue-lanes/config';
import { SqsQueue } from '@cdktf/provider-aws/lib/sqs-queue';
import { SqsQueueRedriveAllowPolicy } from '@cdktf/provider-aws/lib/sqs-queue-redrive-allow-policy';
import { Construct } from 'constructs';

export interface SqsLaneQueuesProps {
  /** The application: the first part of the queues' names (`<app>-<env>-<lane>`). */
  readonly app: string;
  /** The environment: the second part of the queues' names. */
  readonly environment: string;
  /** The lane (broker sqs, at any stage): the last part of the queues' names, and their `lane` tag. */
  readonly laneName: string;
  /** The lane's resolved `sqs` settings: visibility timeout, receives before a dead letter, retention. */
  readonly sqs: SqsSettings;
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
  /** The lane the queues belong to. */
  readonly laneName: string;
  /** `<app>-<env>-<lane>`. */
  readonly queueName: string;
  readonly queue: SqsQueue;
  /** `<app>-<env>-<lane>-dlq`: messages received sqs.maxReceiveCount times. */
  readonly deadLetterQueue: SqsQueue;
  /** Only the lane's queue may use the dead-letter queue. */
  readonly redriveAllowPolicy: SqsQueueRedriveAllowPolicy;

  constructor(scope: Construct, id: string, props: SqsLaneQueuesProps) {
    super(scope, id);
    this.laneName = props.laneName;
    this.queueName = queueName(props, props.laneName);
    const queues = laneQueues(this, props, { lane: props.laneName });
    this.deadLetterQueue = queues.deadLetterQueue;
    this.queue = queues.queue;
    this.redriveAllowPolicy = queues.redriveAllowPolicy;
  }
}

/** The queue and its dead-letter queue, which only the queue may use; kept at every stage, so a rollback never deletes messages. */
function laneQueues(
  scope: Construct,
  props: SqsLaneQueuesProps,
  tags: Readonly<Record<string, string>>,
): { deadLetterQueue: SqsQueue; queue: SqsQueue; redriveAllowPolicy: SqsQueueRedriveAllowPolicy } {
  const deadLetterQueue = new SqsQueue(scope, 'dead-letter-queue', {
    name: deadLetterQueueName(props, props.laneName),
    kmsMasterKeyId: props.kmsKeyArn,
    messageRetentionSeconds: DEAD_LETTER_RETENTION_SECONDS,
    tags,
  });
  const queue = new SqsQueue(scope, 'queue', {
    name: queueName(props, props.laneName),
    kmsMasterKeyId: props.kmsKeyArn,
    visibilityTimeoutSeconds: props.sqs.visibilityTimeout,
    messageRetentionSeconds: props.sqs.messageRetentionSeconds,
    redrivePolicy: JSON.stringify({ deadLetterTargetArn: deadLetterQueue.arn, maxReceiveCount: props.sqs.maxReceiveCount }),
    tags,
  });
  const redriveAllowPolicy = new SqsQueueRedriveAllowPolicy(scope, 'redrive-allow-policy', {
    queueUrl: deadLetterQueue.url,
    redriveAllowPolicy: JSON.stringify({ redrivePermission: 'byQueue', sourceQueueArns: [queue.arn] }),
  });
  return { deadLetterQueue, queue, redriveAllowPolicy };
}
