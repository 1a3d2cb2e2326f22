import { randomBytes, randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';

/*
 * Writes jobs the way Laravel's RedisQueue does, spelled out here on purpose
 * (not through the controller's queueKeys) so the tests check the controller
 * against Laravel's layout rather than against itself: payload JSON RPUSHed to
 * <prefix>queues:<q>, reservations and delayed jobs ZADDed to :reserved and
 * :delayed with unix-second scores; in cluster mode the queue name is
 * hash-tagged, <prefix>queues:{<q>}.
 */

export type PayloadTime =
  /** laravel/framework ≥ 12.x: integer seconds. */
  | { readonly createdAt: number }
  /** Horizon: a string of seconds with microseconds. */
  | { readonly pushedAt: string }
  /** Older releases: no timestamp at all. */
  | { readonly legacy: true };

export function laravelPayload(time: PayloadTime, job = 'App\\Jobs\\ProcessImage'): string {
  const command = `O:${job.length}:"${job}":1:{s:5:"queue";s:5:"image";}`;
  const payload: Record<string, unknown> = {
    uuid: randomUUID(),
    displayName: job,
    job: 'Illuminate\\Queue\\CallQueuedHandler@call',
    maxTries: null,
    maxExceptions: null,
    failOnTimeout: false,
    backoff: null,
    timeout: null,
    retryUntil: null,
    data: { commandName: job, command, batchId: null },
  };
  if ('createdAt' in time) payload.createdAt = time.createdAt;
  if ('pushedAt' in time) payload.pushedAt = time.pushedAt;
  payload.id = randomBytes(16).toString('hex');
  payload.attempts = 0;
  return JSON.stringify(payload);
}

export class LaravelQueue {
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
    private readonly cluster = false,
  ) {}

  /** <prefix>queues:<q> (hash-tagged in cluster mode). */
  key(queue: string): string {
    return `${this.prefix}queues:${this.cluster ? `{${queue}}` : queue}`;
  }

  /** RedisQueue::push: RPUSH onto the ready list. */
  async push(queue: string, count = 1, time: PayloadTime = { createdAt: Math.floor(Date.now() / 1000) }): Promise<void> {
    const payloads = Array.from({ length: count }, () => laravelPayload(time));
    if (payloads.length > 0) await this.redis.rpush(this.key(queue), ...payloads);
  }

  /** LuaScripts::pop: a worker holds the job until `expiresAt`. */
  async reserve(queue: string, expiresAt: number, count = 1): Promise<void> {
    for (let i = 0; i < count; i += 1) {
      await this.redis.zadd(`${this.key(queue)}:reserved`, expiresAt, laravelPayload({ createdAt: expiresAt - 90 }));
    }
  }

  /** RedisQueue::later: ZADD onto the delayed set, scored by when it becomes available. */
  async later(queue: string, availableAt: number, count = 1): Promise<void> {
    for (let i = 0; i < count; i += 1) {
      await this.redis.zadd(`${this.key(queue)}:delayed`, availableAt, laravelPayload({ createdAt: availableAt - 60 }));
    }
  }
}
