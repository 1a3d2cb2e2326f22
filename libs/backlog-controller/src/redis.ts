import { Cluster, Redis, ReplyError } from 'ioredis';
import type { ChainableCommander, ClusterOptions, RedisOptions } from 'ioredis';
import { payloadQueuedAt, queueKeys, type ControllerLaneConfig, type QueueKeys, type RedisConfig } from '@queue-lanes/contract';
import type { LaneBacklog } from './decide';

/*
 * Reading every lane's queues in one pipelined round trip. In cluster mode a
 * pipeline can only go to one node, so the commands are grouped by the node that
 * owns each queue's slot and the groups are sent at the same time: still one
 * round trip of wall time, one request per shard.
 */

/** One queue's counts, and when its oldest work became runnable (undefined: unknown or none). */
export interface QueueReading extends LaneBacklog {
  readonly queue: string;
  /** The ready head's createdAt (or Horizon's pushedAt), unix seconds. */
  readonly oldestQueuedAt?: number;
  /** The earliest due delayed job's available-at, unix seconds (its score). */
  readonly oldestDueAt?: number;
  /** The earliest expired reservation's expiry, unix seconds (only while reservations expire). */
  readonly oldestExpiredAt?: number;
  /**
   * When the oldest live reservation was made (its expiry minus retry_after), unix
   * seconds: a worker has run that job since. Only while reservations expire.
   */
  readonly oldestReservedAt?: number;
}

/** One lane's queues summed, with the age of its oldest ready and oldest runnable work. */
export interface LaneReading extends LaneBacklog {
  readonly lane: string;
  /** Seconds; 0 when nothing is ready; undefined when a ready job's payload carries no timestamp. */
  readonly oldestReadyAgeSeconds: number | undefined;
  /**
   * Seconds since the oldest job a worker could run now became runnable: the
   * ready head, a due delayed job, or an expired reservation (its worker died or
   * the job overran retry_after). 0 when there is none; undefined when only a
   * ready job of unknown age is waiting.
   */
  readonly oldestRunnableAgeSeconds: number | undefined;
  /** Every queue's keys are absent (LLEN, and both ZCARDs, 0): idle, or a wrong key prefix. */
  readonly absent: boolean;
  readonly queues: readonly QueueReading[];
}

/** The client the reader needs: a standalone connection or a cluster. */
export type RedisClient = Redis | Cluster;

/** What every connection uses: TLS, credentials, timeouts, no retries. */
function connectionOptions(config: RedisConfig, password: string | undefined): RedisOptions {
  return {
    username: config.username,
    password,
    // Node checks the certificate against the host connected to (the endpoint, or a
    // cluster node's name: dnsLookup below keeps names as names).
    tls: config.tls ? {} : undefined,
    connectTimeout: config.connectTimeoutMs,
    commandTimeout: config.commandTimeoutMs,
    maxRetriesPerRequest: 0,
    enableAutoPipelining: false,
  };
}

/** A standalone client that fails fast and never reconnects on its own: a failed tick drops it. */
export function redisClientOptions(config: RedisConfig, password: string | undefined): RedisOptions {
  return {
    ...connectionOptions(config, password),
    host: config.host,
    port: config.port,
    db: config.database,
    retryStrategy: () => null,
    lazyConnect: true,
  };
}

/** The same for a cluster client (cluster mode enabled). */
export function clusterClientOptions(config: RedisConfig, password: string | undefined): ClusterOptions {
  return {
    redisOptions: connectionOptions(config, password),
    lazyConnect: true,
    clusterRetryStrategy: () => null,
    enableOfflineQueue: true,
    slotsRefreshTimeout: config.connectTimeoutMs,
    // Connect to the node names CLUSTER SLOTS reports, not their resolved IPs, so TLS
    // can verify ElastiCache's certificates (ioredis' documented ElastiCache setting).
    dnsLookup: (address, callback) => callback(null, address),
  };
}

/** A connected client for `config`. */
export async function connectRedis(config: RedisConfig, password: string | undefined): Promise<RedisClient> {
  const client = config.cluster
    ? new Cluster([{ host: config.host, port: config.port }], clusterClientOptions(config, password))
    : new Redis(redisClientOptions(config, password));
  // Connection errors surface through connect() and the commands; the listener
  // keeps the cause (connect() itself only says "Connection is closed") and stops
  // ioredis printing them as unhandled 'error' events.
  let cause: Error | undefined;
  client.on('error', (error: Error) => (cause = error));
  try {
    // Bounded even if the client never settles (a cluster whose slot map names no
    // reachable node leaves connect() pending with nothing scheduled).
    await withTimeout(client.connect(), config.connectTimeoutMs + 1000, 'connecting');
  } catch (error) {
    client.disconnect();
    const reason = cause?.message ?? (error as Error).message;
    throw new Error(`cannot connect to ${config.host}:${config.port}: ${reason}`, { cause: cause ?? error });
  }
  return client;
}

/** What the reader needs of the Redis configuration. */
export type ReadSettings = Pick<RedisConfig, 'keyPrefix' | 'cluster' | 'commandTimeoutMs' | 'retryAfterSeconds'>;

/** Every lane's reading, or why it has none. */
export interface LaneReadings {
  readonly readings: readonly LaneReading[];
  /** Lanes a command failed for (a key of the wrong type, say): `<lane>: <error>`. */
  readonly failures: readonly { readonly lane: string; readonly error: string }[];
}

/**
 * Reads every queue of every lane (QUEUE_COMMANDS), all in one pipeline (one per
 * shard in cluster mode). A command that fails leaves its lane without a reading
 * (a partial reading is no reading) and the other lanes read; a pipeline that
 * fails as a whole throws.
 */
export async function readLanes(
  client: RedisClient,
  lanes: readonly Pick<ControllerLaneConfig, 'name' | 'queues' | 'jobTimeoutSeconds' | 'lookaheadSeconds'>[],
  redis: ReadSettings,
  nowSeconds: number,
): Promise<LaneReadings> {
  const keys = lanes.flatMap((lane) =>
    lane.queues.map((queue) => ({
      ...queueKeys(queue, redis.keyPrefix, redis.cluster),
      stuckBefore: stuckBefore(lane, redis, nowSeconds),
      soonBefore: nowSeconds + lane.lookaheadSeconds,
    })),
  );
  const readings = new Map<string, QueueReading | Error>();
  await Promise.all(
    groupByNode(client, keys).map(async (group) => {
      const pipeline = client.pipeline();
      for (const key of group) queueCommands(pipeline, key, nowSeconds);
      const replies = await withTimeout(pipeline.exec(), redis.commandTimeoutMs, 'the pipelined read');
      if (replies === null || replies.length !== group.length * QUEUE_COMMANDS.length) {
        throw new Error('Redis pipeline returned no replies (connection closed mid-pipeline)');
      }
      throwIfConnectionFailed(replies);
      group.forEach((key, i) => {
        try {
          readings.set(key.queue, toReading(key, replies.slice(i * QUEUE_COMMANDS.length), nowSeconds, redis.retryAfterSeconds));
        } catch (error) {
          readings.set(key.queue, error as Error);
        }
      });
    }),
  );
  const result: { readings: LaneReading[]; failures: { lane: string; error: string }[] } = { readings: [], failures: [] };
  for (const lane of lanes) {
    const queues = lane.queues.map((queue) => readings.get(queue)!);
    const failed = queues.find((q): q is Error => q instanceof Error);
    if (failed) result.failures.push({ lane: lane.name, error: failed.message });
    else result.readings.push(laneReading(lane.name, queues as QueueReading[], nowSeconds));
  }
  return result;
}

/** How long past the job timeout a reservation may last before its worker counts as gone. */
export const STUCK_GRACE_SECONDS = 60;

/**
 * The score below which a reservation is stuck: with retry_after null Laravel
 * scores a reservation by when it was taken (availableAt(null) is now) and never
 * migrates it back; a job runs at most its timeout, so an older one has no
 * worker. With retry_after set, expired reservations go back on the next pop:
 * none is stuck (-inf).
 */
function stuckBefore(lane: Pick<ControllerLaneConfig, 'jobTimeoutSeconds'>, redis: ReadSettings, nowSeconds: number): string {
  return redis.retryAfterSeconds === null ? `(${nowSeconds - lane.jobTimeoutSeconds - STUCK_GRACE_SECONDS}` : '-inf';
}

/**
 * What is read of each queue, in pipeline order. The ZRANGE … 0 0 WITHSCORES
 * replies give the earliest score of the delayed and reserved sets: when the
 * oldest delayed job became due, and when the oldest reservation expires.
 */
const QUEUE_COMMANDS = [
  'LLEN',
  'ZCARD reserved',
  'ZCARD delayed',
  'ZCOUNT delayed',
  'LINDEX',
  'ZRANGE delayed',
  'ZRANGE reserved',
  'ZCOUNT reserved',
  'ZCOUNT delayed soon',
] as const;

function queueCommands(
  pipeline: ChainableCommander,
  key: QueueKeys & { stuckBefore: string; soonBefore: number },
  nowSeconds: number,
): void {
  pipeline
    .llen(key.ready)
    .zcard(key.reserved)
    .zcard(key.delayed)
    .zcount(key.delayed, '-inf', nowSeconds)
    .lindex(key.ready, 0)
    .zrange(key.delayed, '0', '0', 'WITHSCORES')
    .zrange(key.reserved, '0', '0', 'WITHSCORES')
    .zcount(key.reserved, '-inf', key.stuckBefore)
    .zcount(key.delayed, '-inf', key.soonBefore);
}

type Reply = [error: Error | null, result: unknown];

/**
 * ioredis settles a pipeline whose connection closed with "Connection is closed."
 * for each command, as if Redis had refused each one. An error Redis sent (a
 * ReplyError: WRONGTYPE on one key) fails its lane; any other came with no reply
 * (the connection closed, a command timed out), so the whole read fails and the
 * tick drops the connection, whether the close arrived before the pipeline was
 * sent or while it was in flight.
 */
function throwIfConnectionFailed(replies: readonly Reply[]): void {
  const lost = replies.find(([error]) => error !== null && !(error instanceof ReplyError))?.[0];
  if (lost) throw new Error(`Redis connection failed mid-pipeline: ${lost.message}`);
}

function toReading(key: QueueKeys, replies: readonly Reply[], nowSeconds: number, retryAfterSeconds: number | null): QueueReading {
  const values = replies.slice(0, QUEUE_COMMANDS.length).map(([error, result], i) => {
    if (error) throw new Error(`Redis ${QUEUE_COMMANDS[i]} for queue "${key.queue}" failed: ${error.message}`);
    return result;
  });
  const [ready, reserved, delayed, delayedDue, head, firstDelayed, firstReserved, stuck, soon] = values;
  const dueAt = firstScore(firstDelayed);
  const expiresAt = firstScore(firstReserved);
  const reservationsExpire = retryAfterSeconds !== null;
  return {
    queue: key.queue,
    ready: count(ready),
    reserved: count(reserved),
    delayed: count(delayed),
    delayedDue: count(delayedDue),
    stuckReserved: count(stuck),
    delayedSoon: count(soon),
    oldestQueuedAt: typeof head === 'string' ? payloadQueuedAt(head) : undefined,
    oldestDueAt: dueAt !== undefined && dueAt <= nowSeconds ? dueAt : undefined,
    oldestExpiredAt: reservationsExpire && expiresAt !== undefined && expiresAt <= nowSeconds ? expiresAt : undefined,
    // Laravel scores a reservation with the second it expires: reserved at + retry_after.
    oldestReservedAt:
      retryAfterSeconds !== null && expiresAt !== undefined && expiresAt > nowSeconds ? expiresAt - retryAfterSeconds : undefined,
  };
}

/** The score of a ZRANGE … WITHSCORES reply's first member, or undefined for an empty set. */
function firstScore(reply: unknown): number | undefined {
  if (!Array.isArray(reply) || reply.length < 2) return undefined;
  const score = Number(reply[1]);
  if (!Number.isFinite(score)) throw new Error(`Redis returned ${JSON.stringify(reply[1])} where a score belongs`);
  return score;
}

function count(value: unknown): number {
  const n = typeof value === 'number' ? value : Number(value);
  if (!Number.isInteger(n) || n < 0) throw new Error(`Redis returned ${JSON.stringify(value)} where a count belongs`);
  return n;
}

/** Sums a lane's queues; an age is unknown if any non-empty queue's ready head carries none. */
export function laneReading(lane: string, queues: readonly QueueReading[], nowSeconds: number): LaneReading {
  const sum = (key: Exclude<keyof LaneBacklog, 'delayedSoon' | 'oldestRunningSeconds'>) => queues.reduce((total, q) => total + q[key], 0);
  const since = (at: number | undefined) => (at === undefined ? 0 : Math.max(0, nowSeconds - at));
  let ready: number | undefined = 0;
  let other = 0;
  let running: number | undefined;
  for (const q of queues) {
    if (q.oldestReservedAt !== undefined) running = Math.max(running ?? 0, since(q.oldestReservedAt));
    other = Math.max(other, since(q.oldestDueAt), since(q.oldestExpiredAt));
    if (q.ready === 0 || ready === undefined) continue;
    ready = q.oldestQueuedAt === undefined ? undefined : Math.max(ready, since(q.oldestQueuedAt));
  }
  const runnable = ready === undefined ? (other > 0 ? other : undefined) : Math.max(ready, other);
  return {
    lane,
    ready: sum('ready'),
    reserved: sum('reserved'),
    delayed: sum('delayed'),
    delayedDue: sum('delayedDue'),
    stuckReserved: sum('stuckReserved'),
    delayedSoon: queues.reduce((total, q) => total + (q.delayedSoon ?? q.delayedDue), 0),
    oldestReadyAgeSeconds: ready === undefined ? undefined : Math.round(ready),
    oldestRunnableAgeSeconds: runnable === undefined ? undefined : Math.round(runnable),
    ...(running !== undefined ? { oldestRunningSeconds: Math.round(running) } : {}),
    absent: queues.every((q) => q.ready === 0 && q.reserved === 0 && q.delayed === 0),
    queues,
  };
}

/**
 * The queues grouped so that each group's keys live on one node. A standalone
 * connection is one group. A cluster groups by the master that owns each queue's
 * slot; while the slot map is unknown, each queue is its own group.
 */
function groupByNode<K extends QueueKeys>(client: RedisClient, keys: readonly K[]): K[][] {
  if (!(client instanceof Cluster)) return keys.length === 0 ? [] : [[...keys]];
  const groups = new Map<string, K[]>();
  keys.forEach((key, i) => {
    const node = client.slots[keySlot(key.ready)]?.[0] ?? `unknown-${i}`;
    groups.set(node, [...(groups.get(node) ?? []), key]);
  });
  return [...groups.values()];
}

/** The Redis Cluster hash slot of `key` (CRC16/XMODEM of its hash tag, or of the key, mod 16384). */
export function keySlot(key: string): number {
  const open = key.indexOf('{');
  let hashed = key;
  if (open !== -1) {
    const close = key.indexOf('}', open + 1);
    if (close > open + 1) hashed = key.slice(open + 1, close);
  }
  let crc = 0;
  for (const byte of Buffer.from(hashed, 'utf8')) {
    crc ^= byte << 8;
    for (let bit = 0; bit < 8; bit += 1) crc = crc & 0x8000 ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff;
  }
  return crc % 16384;
}

/** `promise`, or a rejection after `ms`. */
export async function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} timed out after ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
