/*
 * Laravel's Redis queue layout, as the framework writes it (laravel/framework,
 * src/Illuminate/Queue/RedisQueue.php and LuaScripts.php):
 *
 * - ready jobs: a list `queues:<q>`; `push` RPUSHes, `pop` LPOPs in Lua, so the
 *   oldest ready job is at index 0 (RedisQueue::creationTimeOfOldestPendingJob
 *   reads `lindex 0` too);
 * - reserved jobs: a sorted set `queues:<q>:reserved`, scored by the unix second
 *   the reservation expires;
 * - delayed jobs: a sorted set `queues:<q>:delayed`, scored by the unix second the
 *   job becomes available; a worker's `pop` first moves every member scored
 *   `-inf..now` (and every expired reservation) back onto the ready list.
 *
 * Every key carries the connection's prefix (config/database.php
 * `redis.options.prefix`; phpredis and predis both prefix EVAL keys). In cluster
 * mode RedisQueue::getQueueRedisKey wraps a queue name that has no hash tag in
 * braces, `queues:{q}`, so all keys of one queue share a slot: laravel/framework
 * v13.5.0 and later. Before that the application had to name its queues `{q}`
 * itself; both give the same keys.
 */

/** The Redis keys of one Laravel queue. */
export interface QueueKeys {
  /** Laravel's queue name, as dispatched to. */
  readonly queue: string;
  /** The ready list (LLEN, LINDEX 0). */
  readonly ready: string;
  /** The reserved sorted set (ZCARD). */
  readonly reserved: string;
  /** The delayed sorted set (ZCARD, ZCOUNT -inf now). */
  readonly delayed: string;
}

/** Laravel's Connection::hasHashTag: a `{...}` with at least one character inside. */
export function hasHashTag(key: string): boolean {
  const open = key.indexOf('{');
  if (open === -1) return false;
  const close = key.indexOf('}', open + 1);
  return close !== -1 && close - open > 1;
}

/** The keys Laravel's RedisQueue uses for `queue` under `keyPrefix`. */
export function queueKeys(queue: string, keyPrefix: string, cluster: boolean): QueueKeys {
  const name = cluster && !hasHashTag(queue) ? `{${queue}}` : queue;
  const ready = `${keyPrefix}queues:${name}`;
  return { queue, ready, reserved: `${ready}:reserved`, delayed: `${ready}:delayed` };
}

/** The suffixes RedisQueue appends to a queue's ready key (reserved, delayed, and the notify list of block_for). */
const KEY_SUFFIXES = ['', ':reserved', ':delayed', ':notify'] as const;

/**
 * The prefix and queue of a key RedisQueue would write for one of `queues`
 * (`<prefix>queues:<q>` or `<prefix>queues:{<q>}`, plus a suffix), or undefined.
 * The last `queues:` wins, so a prefix may itself contain the word.
 */
export function parseQueueKey(key: string, queues: readonly string[]): { prefix: string; queue: string } | undefined {
  for (let at = key.lastIndexOf('queues:'); at !== -1; at = at === 0 ? -1 : key.lastIndexOf('queues:', at - 1)) {
    const rest = key.slice(at + 'queues:'.length);
    for (const suffix of KEY_SUFFIXES) {
      if (!rest.endsWith(suffix)) continue;
      const name = rest.slice(0, rest.length - suffix.length);
      const bare = name.startsWith('{') && name.endsWith('}') ? name.slice(1, -1) : name;
      const queue = queues.find((q) => q === name || q === bare);
      if (queue !== undefined) return { prefix: key.slice(0, at), queue };
    }
  }
  return undefined;
}

/**
 * When a ready job was queued, in unix seconds, from its payload: `createdAt`
 * (integer seconds; laravel/framework adds it to every payload since v12.11.0,
 * Queue::createObjectPayload/createStringPayload) or Horizon's `pushedAt`
 * (a string of seconds with microseconds, Laravel\Horizon\JobPayload::prepare).
 * Older payloads carry neither: the age is then unknown, and undefined says so.
 * A job that was delayed or released keeps its original time, so the age is an
 * upper bound on how long it has been runnable.
 */
export function payloadQueuedAt(payload: string): number | undefined {
  let decoded: unknown;
  try {
    decoded = JSON.parse(payload);
  } catch {
    return undefined;
  }
  if (decoded === null || typeof decoded !== 'object') return undefined;
  const record = decoded as Record<string, unknown>;
  for (const key of ['createdAt', 'pushedAt']) {
    const value = record[key];
    const seconds = typeof value === 'number' ? value : typeof value === 'string' ? Number(value) : NaN;
    if (Number.isFinite(seconds) && seconds > 0) return seconds;
  }
  return undefined;
}
