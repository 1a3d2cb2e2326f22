import { randomBytes, randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';

/*
 * A Laravel Redis queue driven the way laravel/framework drives it, spelled out
 * here on purpose (not through the controller's queueKeys) so the tests check the
 * controller against Laravel rather than against itself. Each method performs the
 * Redis commands of one RedisQueue operation, in the order its Lua script runs
 * them, inside MULTI/EXEC where Laravel's script is atomic. References are to
 * laravel/framework v13.26 (commit bd71b45), src/Illuminate/Queue/:
 *   RedisQueue.php   pushRaw 355-365, laterRaw 397-405, pop 430-452, migrate 460-467,
 *                    migrateExpiredJobs 476-481, retrieveNextJob 490-509,
 *                    deleteReserved 518-521, deleteAndRelease 531-539,
 *                    getQueueRedisKey 584-591
 *   LuaScripts.php   push 36-38, later 55, pop 73-82, release 103-106,
 *                    migrateExpiredJobs 126-138
 *   Queue.php        createObjectPayload 174-192 (createdAt since v12.11.0)
 * and src/Illuminate/Redis/Connections/Connection.php hasHashTag 258-270.
 */

export type PayloadTime =
  /** laravel/framework v12.11.0 and later: integer seconds. */
  | { readonly createdAt: number }
  /** Horizon: a string of seconds with microseconds. */
  | { readonly pushedAt: string }
  /** Older releases: no timestamp at all. */
  | { readonly legacy: true };

/** Queue::createObjectPayload's fields, then RedisQueue::createPayloadArray's id and attempts (RedisQueue.php 415-421). */
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
    deleteWhenMissingModels: false,
    data: { commandName: job, command, batchId: null },
  };
  if ('createdAt' in time) payload.createdAt = time.createdAt;
  if ('pushedAt' in time) payload.pushedAt = time.pushedAt;
  payload.id = randomBytes(16).toString('hex');
  payload.attempts = 0;
  return JSON.stringify(payload);
}

/** A job a worker popped: the payload as it was on the list, and as reserved (attempts + 1). */
export interface PoppedJob {
  readonly job: string;
  readonly reserved: string;
}

export interface LaravelQueueOptions {
  /** The connection's prefix (config/database.php redis.options.prefix). */
  readonly prefix: string;
  /** A cluster connection: RedisQueue wraps an untagged queue name in braces (v13.5.0 and later). */
  readonly cluster?: boolean;
  /** config/queue.php retry_after; null: reservations never expire. @default 90 */
  readonly retryAfter?: number | null;
}

export class LaravelQueue {
  readonly prefix: string;
  readonly cluster: boolean;
  readonly retryAfter: number | null;

  constructor(
    private readonly redis: Redis,
    options: LaravelQueueOptions,
  ) {
    this.prefix = options.prefix;
    this.cluster = options.cluster ?? false;
    this.retryAfter = options.retryAfter === undefined ? 90 : options.retryAfter;
  }

  /** RedisQueue::getQueueRedisKey, with the connection's prefix in front (phpredis and predis prefix every key). */
  key(queue: string): string {
    return `${this.prefix}queues:${this.cluster && !hasHashTag(queue) ? `{${queue}}` : queue}`;
  }

  /** RedisQueue::pushRaw → LuaScripts::push, `count` times in one transaction: RPUSH the payload, RPUSH a notification. */
  async push(queue: string, count = 1, time: PayloadTime = { createdAt: Math.floor(Date.now() / 1000) }): Promise<void> {
    if (count === 0) return;
    const key = this.key(queue);
    const tx = this.redis.multi();
    for (let i = 0; i < count; i += 1) tx.rpush(key, laravelPayload(time)).rpush(`${key}:notify`, '1');
    await tx.exec();
  }

  /** `count` jobs dispatched, then popped by workers at `now`: running jobs, reserved until now + retry_after. */
  async reserve(queue: string, now: number, count = 1): Promise<PoppedJob[]> {
    await this.push(queue, count, { createdAt: now });
    const popped: PoppedJob[] = [];
    for (let i = 0; i < count; i += 1) {
      const job = await this.pop(queue, now);
      if (job) popped.push(job);
    }
    return popped;
  }

  /** RedisQueue::laterRaw → LuaScripts::later: ZADD onto :delayed, scored by availableAt (unix seconds). */
  async later(queue: string, availableAt: number, count = 1, time?: PayloadTime): Promise<void> {
    for (let i = 0; i < count; i += 1) {
      await this.redis.zadd(`${this.key(queue)}:delayed`, availableAt, laravelPayload(time ?? { createdAt: availableAt - 60 }));
    }
  }

  /**
   * RedisQueue::pop at `now`: migrate (due delayed jobs, then, unless retry_after
   * is null, expired reservations, back onto the list), then LuaScripts::pop:
   * LPOP, attempts + 1, ZADD onto :reserved scored availableAt(retry_after),
   * LPOP a notification. With retry_after null, availableAt(null) is now.
   */
  async pop(queue: string, now: number): Promise<PoppedJob | undefined> {
    const key = this.key(queue);
    await this.migrateExpiredJobs(`${key}:delayed`, key, now);
    if (this.retryAfter !== null) await this.migrateExpiredJobs(`${key}:reserved`, key, now);
    const job = await this.redis.lpop(key);
    if (job === null) return undefined;
    const decoded = JSON.parse(job) as { attempts: number };
    decoded.attempts += 1;
    const reserved = JSON.stringify(decoded);
    await this.redis
      .multi()
      .zadd(`${key}:reserved`, now + (this.retryAfter ?? 0), reserved)
      .lpop(`${key}:notify`)
      .exec();
    return { job, reserved };
  }

  /** RedisQueue::deleteReserved: a finished job leaves :reserved. */
  async deleteReserved(queue: string, job: PoppedJob): Promise<void> {
    await this.redis.zrem(`${this.key(queue)}:reserved`, job.reserved);
  }

  /** RedisQueue::deleteAndRelease → LuaScripts::release: ZREM from :reserved, ZADD onto :delayed at availableAt. */
  async release(queue: string, job: PoppedJob, availableAt: number): Promise<void> {
    const key = this.key(queue);
    await this.redis.multi().zrem(`${key}:reserved`, job.reserved).zadd(`${key}:delayed`, availableAt, job.reserved).exec();
  }

  /**
   * LuaScripts::migrateExpiredJobs (migration batch size -1, the default): every
   * member of `from` scored up to `now`, removed by rank and RPUSHed onto `to`
   * in chunks of 100, one notification per job.
   */
  private async migrateExpiredJobs(from: string, to: string, now: number): Promise<void> {
    const due = await this.redis.zrangebyscore(from, '-inf', now);
    if (due.length === 0) return;
    const tx = this.redis.multi().zremrangebyrank(from, 0, due.length - 1);
    for (let i = 0; i < due.length; i += 100) {
      const chunk = due.slice(i, i + 100);
      tx.rpush(to, ...chunk);
      for (let j = 0; j < chunk.length; j += 1) tx.rpush(`${to}:notify`, '1');
    }
    await tx.exec();
  }
}

/** Connection::hasHashTag: a `{` followed later by a `}` with at least one character between. */
function hasHashTag(key: string): boolean {
  const open = key.indexOf('{');
  if (open === -1) return false;
  const close = key.indexOf('}', open + 1);
  return close !== -1 && close - open > 1;
}
