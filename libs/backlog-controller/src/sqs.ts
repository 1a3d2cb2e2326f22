import { GetQueueAttributesCommand, GetQueueUrlCommand, type QueueAttributeName, type SQSClient } from '@aws-sdk/client-sqs';
import type { ControllerLaneConfig } from '@queue-lanes/contract';
import type { LaneReading, LaneReadings, QueueReading } from './redis';

/*
 * Reading SQS lanes: one GetQueueAttributes per queue per tick (the lane's queue
 * and its dead-letter queue), all sent at once. SQS's Approximate* attributes are
 * its own counters, read in real time, not the once-a-minute CloudWatch metrics
 * App Auto Scaling waits for. As a Laravel backlog they map as:
 *
 * - ApproximateNumberOfMessages: ready (a worker's ReceiveMessage gets them now);
 * - ApproximateNumberOfMessagesNotVisible: reserved (received, not yet deleted:
 *   running, or released with a backoff, or its worker died and the visibility
 *   timeout returns it);
 * - ApproximateNumberOfMessagesDelayed: delayed (DelaySeconds, at most 15 min);
 *   SQS does not say when they come due, so none counts as due (they become ready
 *   by themselves and wake the lane then) and every one keeps the lane from
 *   draining to zero.
 *
 * Queue URLs are looked up by name once per container (GetQueueUrl) and kept.
 */

/** What is read of each queue. */
const ATTRIBUTES: QueueAttributeName[] = [
  'ApproximateNumberOfMessages',
  'ApproximateNumberOfMessagesNotVisible',
  'ApproximateNumberOfMessagesDelayed',
];

type SqsLane = Pick<ControllerLaneConfig, 'name' | 'queues' | 'sqs'>;

/** An SQS lane's reading: its queues as a LaneReading, and the messages in its dead-letter queue. */
export interface SqsLaneReading extends LaneReading {
  readonly deadLetters: number;
}

export class SqsReader {
  private readonly urls = new Map<string, Promise<string>>();

  constructor(private readonly sqs: SQSClient) {}

  /** Every lane's reading; a lane any of whose calls fails has none, and the others read. */
  async read(lanes: readonly SqsLane[]): Promise<LaneReadings> {
    const settled = await Promise.allSettled(lanes.map((lane) => this.readLane(lane)));
    const readings: LaneReading[] = [];
    const failures: { lane: string; error: string }[] = [];
    settled.forEach((result, i) => {
      if (result.status === 'fulfilled') readings.push(result.value);
      else failures.push({ lane: lanes[i].name, error: (result.reason as Error).message ?? String(result.reason) });
    });
    return { readings, failures };
  }

  private async readLane(lane: SqsLane): Promise<SqsLaneReading> {
    if (lane.sqs === undefined) throw new Error(`lane ${lane.name} has no sqs settings`);
    const [deadLetters, ...queues] = await Promise.all([
      this.queue(lane.sqs.deadLetterQueue).then((q) => q.ready + q.reserved + q.delayed),
      ...lane.queues.map((name) => this.queue(name)),
    ]);
    return sqsLaneReading(lane.name, queues, deadLetters);
  }

  private async queue(name: string): Promise<QueueReading> {
    const out = await this.sqs.send(new GetQueueAttributesCommand({ QueueUrl: await this.url(name), AttributeNames: ATTRIBUTES }));
    const attribute = (key: QueueAttributeName) => count(name, key, out.Attributes?.[key]);
    return {
      queue: name,
      ready: attribute('ApproximateNumberOfMessages'),
      reserved: attribute('ApproximateNumberOfMessagesNotVisible'),
      delayed: attribute('ApproximateNumberOfMessagesDelayed'),
      delayedDue: 0,
      stuckReserved: 0,
    };
  }

  /** The queue's URL, looked up once; a failed lookup is tried again next tick. */
  private url(name: string): Promise<string> {
    let url = this.urls.get(name);
    if (url === undefined) {
      url = this.sqs.send(new GetQueueUrlCommand({ QueueName: name })).then((out) => {
        if (out.QueueUrl === undefined) throw new Error(`SQS GetQueueUrl ${name} returned no URL`);
        return out.QueueUrl;
      });
      url.catch(() => this.urls.delete(name));
      this.urls.set(name, url);
    }
    return url;
  }
}

/** A lane's SQS queues summed; message ages are not among the attributes, so they stay unknown. */
export function sqsLaneReading(lane: string, queues: readonly QueueReading[], deadLetters: number): SqsLaneReading {
  const sum = (key: 'ready' | 'reserved' | 'delayed') => queues.reduce((total, q) => total + q[key], 0);
  return {
    lane,
    ready: sum('ready'),
    reserved: sum('reserved'),
    delayed: sum('delayed'),
    delayedDue: 0,
    stuckReserved: 0,
    oldestReadyAgeSeconds: undefined,
    oldestRunnableAgeSeconds: undefined,
    absent: false,
    queues,
    deadLetters,
  };
}

function count(queue: string, key: string, value: string | undefined): number {
  const n = Number(value);
  if (value === undefined || !Number.isInteger(n) || n < 0) {
    throw new Error(`SQS GetQueueAttributes ${queue} returned ${JSON.stringify(value)} for ${key} where a count belongs`);
  }
  return n;
}
