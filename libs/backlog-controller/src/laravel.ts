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
 * braces, `queues:{q}`, so all keys of one queue share a slot (older releases
 * required the application to name its queues `{q}` itself; both give the same keys).
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

/**
 * Which laravel/laravel skeleton the application's config/database.php came from:
 * up to 12.x it reads `Str::slug(APP_NAME, '_').'_database_'` ("my_app_database_"),
 * from 13.x `Str::slug(APP_NAME).'-database-'` ("my-app-database-"). Either way
 * REDIS_PREFIX, when set, wins.
 */
export type LaravelSkeleton = 'laravel-12' | 'laravel-13';

/**
 * The Redis key prefix a stock config/database.php derives from APP_NAME (when
 * REDIS_PREFIX is unset). Mirrors Str::slug for names Str::ascii leaves alone or
 * can strip to ASCII with Unicode decomposition; set the prefix explicitly for
 * anything more exotic.
 */
export function laravelDefaultRedisPrefix(appName = 'laravel', skeleton: LaravelSkeleton = 'laravel-12'): string {
  return skeleton === 'laravel-12' ? `${strSlug(appName, '_')}_database_` : `${strSlug(appName, '-')}-database-`;
}

/** Laravel's Str::slug (language 'en', dictionary {'@': 'at'}). */
export function strSlug(title: string, separator: '-' | '_' = '-'): string {
  const sep = separator === '-' ? '\\-' : '_';
  const flip = separator === '-' ? '_' : '\\-';
  let out = title.normalize('NFKD').replace(/\p{M}+/gu, '');
  out = out.replace(new RegExp(`[${flip}]+`, 'gu'), separator);
  out = out.split('@').join(`${separator}at${separator}`);
  out = out.toLowerCase().replace(new RegExp(`[^${sep}\\p{L}\\p{N}\\s]+`, 'gu'), '');
  out = out.replace(new RegExp(`[${sep}\\s]+`, 'gu'), separator);
  return trimChar(out, separator);
}

function trimChar(value: string, char: string): string {
  let start = 0;
  let end = value.length;
  while (start < end && value[start] === char) start += 1;
  while (end > start && value[end - 1] === char) end -= 1;
  return value.slice(start, end);
}

/**
 * When a ready job was queued, in unix seconds, from its payload: `createdAt`
 * (integer seconds; laravel/framework adds it to every payload since 12.x,
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
