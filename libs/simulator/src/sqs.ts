import { GetQueueAttributesCommand, GetQueueUrlCommand, type SQSClient } from '@aws-sdk/client-sqs';

/*
 * SQS in memory, in virtual time, as Laravel's SQS driver uses it
 * (laravel/framework src/Illuminate/Queue/SqsQueue.php and Jobs/SqsJob.php): a
 * push is SendMessage (a later one with DelaySeconds), a pop is ReceiveMessage
 * (the message turns invisible for the queue's visibility timeout and its
 * receive count goes up, which is what SqsJob::attempts() reads), a finished job
 * is DeleteMessage, and a release with a backoff is ChangeMessageVisibility. A
 * message whose worker died becomes visible again when its visibility timeout
 * runs out; one received more than maxReceiveCount times goes to the dead-letter
 * queue instead (the redrive policy). And a client that answers the controller's
 * GetQueueUrl and GetQueueAttributes from the same queues.
 */

interface Message {
  readonly payload: string;
  /** Unix second it was sent: ApproximateAgeOfOldestMessage counts from it. */
  readonly sentAt: number;
  /** Unix second it is next visible: after its delay, its visibility timeout, or a release's backoff. */
  visibleAt: number;
  receives: number;
}

/** The part of a queue's settings the simulation needs. */
export interface SqsQueueSettings {
  readonly visibilityTimeout: number;
  readonly maxReceiveCount: number;
}

export class MemorySqs {
  private readonly queues = new Map<string, Message[]>();
  private readonly deadLetters = new Map<string, number>();
  /** The reserved handle (the payload with its attempts) of each message in flight. */
  private readonly handles = new Map<string, Message>();

  constructor(private readonly settings: (queue: string) => SqsQueueSettings) {}

  /** The dead-letter queue's name for `queue` (the naming module's `<queue>-dlq`). */
  static deadLetterQueue(queue: string): string {
    return `${queue}-dlq`;
  }

  /** SendMessage at `now`. */
  push(queue: string, payload: string, now: number): void {
    this.queue(queue).push({ payload, sentAt: now, visibleAt: now, receives: 0 });
  }

  /** SendMessage with DelaySeconds (availableAt - now). */
  later(queue: string, availableAt: number, payload: string, now: number): void {
    this.queue(queue).push({ payload, sentAt: now, visibleAt: availableAt, receives: 0 });
  }

  /**
   * ReceiveMessage at `now`: the oldest visible message, invisible for the visibility
   * timeout, its receive count up one; a message past maxReceiveCount moves to the
   * dead-letter queue instead. Returns the handle the worker finishes it with.
   */
  pop(queue: string, now: number): string | undefined {
    const { visibilityTimeout, maxReceiveCount } = this.settings(queue);
    const messages = this.queue(queue);
    for (;;) {
      const index = messages.findIndex((m) => m.visibleAt <= now);
      if (index === -1) return undefined;
      const message = messages[index];
      if (message.receives >= maxReceiveCount) {
        messages.splice(index, 1);
        const dlq = MemorySqs.deadLetterQueue(queue);
        this.deadLetters.set(dlq, (this.deadLetters.get(dlq) ?? 0) + 1);
        continue;
      }
      message.receives += 1;
      message.visibleAt = now + visibilityTimeout;
      // Oldest first: a received message goes to the back, as SQS's best-effort order would have it.
      messages.splice(index, 1);
      messages.push(message);
      const decoded = JSON.parse(message.payload) as { attempts?: number };
      const handle = JSON.stringify({ ...decoded, attempts: message.receives });
      this.handles.set(handle, message);
      return handle;
    }
  }

  /** DeleteMessage. */
  deleteReserved(queue: string, handle: string): void {
    const message = this.handles.get(handle);
    this.handles.delete(handle);
    const messages = this.queue(queue);
    if (message !== undefined && messages.includes(message)) messages.splice(messages.indexOf(message), 1);
  }

  /** SqsJob::release: ChangeMessageVisibility to the backoff. */
  release(_queue: string, handle: string, availableAt: number): void {
    const message = this.handles.get(handle);
    this.handles.delete(handle);
    if (message !== undefined) message.visibleAt = availableAt;
  }

  /** Messages a worker's receive at `now` would find. */
  waiting(queue: string, now: number): number {
    return this.queue(queue).filter((m) => m.visibleAt <= now).length;
  }

  runnable(queue: string, now: number): boolean {
    return this.queue(queue).some((m) => m.visibleAt <= now);
  }

  /**
   * ApproximateNumberOfMessages, …NotVisible and …Delayed, exactly (SQS's are
   * approximate), and ApproximateAgeOfOldestMessage (of any message not deleted).
   */
  attributes(queue: string, now: number): { visible: number; notVisible: number; delayed: number; oldestAge: number } {
    const messages = this.queue(queue);
    const hidden = messages.filter((m) => m.visibleAt > now);
    return {
      visible: messages.length - hidden.length,
      notVisible: hidden.filter((m) => m.receives > 0).length,
      delayed: hidden.filter((m) => m.receives === 0).length,
      oldestAge: messages.length === 0 ? 0 : now - Math.min(...messages.map((m) => m.sentAt)),
    };
  }

  /** Messages moved to `queue`'s dead-letter queue so far. */
  deadLettered(queue: string): number {
    return this.deadLetters.get(MemorySqs.deadLetterQueue(queue)) ?? 0;
  }

  /** The client the controller's SQS reader is given. */
  client(now: () => number): SQSClient {
    const url = (name: string) => `https://sqs.sim/000000000000/${name}`;
    const send = async (command: unknown) => {
      if (command instanceof GetQueueUrlCommand) return { QueueUrl: url(command.input.QueueName!) };
      if (command instanceof GetQueueAttributesCommand) {
        const name = command.input.QueueUrl!.split('/').pop()!;
        if (this.deadLetters.has(name) || name.endsWith('-dlq')) {
          return { Attributes: counts(this.deadLetters.get(name) ?? 0, 0, 0) };
        }
        const a = this.attributes(name, now());
        return { Attributes: counts(a.visible, a.notVisible, a.delayed) };
      }
      throw new Error(`the simulated SQS has no ${(command as object).constructor.name}`);
    };
    return { send } as unknown as SQSClient;
  }

  private queue(name: string): Message[] {
    let messages = this.queues.get(name);
    if (messages === undefined) this.queues.set(name, (messages = []));
    return messages;
  }
}

function counts(visible: number, notVisible: number, delayed: number): Record<string, string> {
  return {
    ApproximateNumberOfMessages: String(visible),
    ApproximateNumberOfMessagesNotVisible: String(notVisible),
    ApproximateNumberOfMessagesDelayed: String(delayed),
  };
}
