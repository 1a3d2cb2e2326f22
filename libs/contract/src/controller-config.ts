import { deflateSync, inflateSync } from 'node:zlib';
import * as z from 'zod/mini';
import en from 'zod/v4/locales/en.cjs';
// By its own path, not the package's root: the root loads zod's classic API and yaml into the Lambda bundle.
import { NAME_PATTERN, NAME_RULE } from '@queue-lanes/config/ids';
import { cronProblem } from '@queue-lanes/config/cron';
import { LANE_POLICY_BOUNDS } from '@queue-lanes/config/lane-policy';
import { COLD_PICKUP_SECONDS } from './timing';

/*
 * The controller's configuration: one JSON document in the Lambda environment
 * variable CONTROLLER_CONFIG, written by the scaling lib at synth time and
 * validated here at cold start. Declared once: the types come from the schema.
 * zod/mini rather than zod's classic API because this ships in the Lambda
 * bundle: ~20 KB instead of ~450 KB (the classic API pulls in every locale).
 */

z.config(en());

/** The CloudWatch namespace of the controller's metrics unless its configuration names another. */
export const DEFAULT_NAMESPACE = 'QueueLanes';

/** The Lambda environment variable that holds the JSON configuration. */
export const CONTROLLER_CONFIG_ENV = 'CONTROLLER_CONFIG';

/**
 * Lanes per controller: PutMetricData takes at most 1,000 metrics per call (nine
 * per lane, plus ControllerErrors) and GetMetricData at most 500 queries (two per
 * lane), and each tick makes one call of each.
 */
export const MAX_CONTROLLER_LANES = 110;

const int = (min: number, max: number) => z.int().check(z.minimum(min), z.maximum(max));
const text = () => z.string().check(z.minLength(1));

const redisSchema = z
  .strictObject({
    /** Primary endpoint (cluster mode: the configuration endpoint). */
    host: text(),
    port: z._default(int(1, 65535), 6379),
    /** In-transit encryption (ElastiCache TransitEncryptionEnabled). */
    tls: z._default(z.boolean(), true),
    /**
     * The Laravel connection's key prefix, config('database.redis.options.prefix'),
     * as the application prints it; never derived (the skeleton's default changed
     * in laravel/laravel v12.1.0). May be empty.
     */
    keyPrefix: z.string(),
    /**
     * The queue connection's retry_after, seconds: a reservation expires then and
     * the next pop hands the job out again. null: reservations never expire
     * (RedisQueue::migrate skips them), so one whose worker died is stuck.
     */
    retryAfterSeconds: z._default(z.nullable(int(1, 604800)), 90),
    /** Cluster mode: connect as a cluster client; queue keys are hash-tagged, queues:{q}. */
    cluster: z._default(z.boolean(), false),
    /** Logical database (REDIS_DB); 0 in cluster mode. */
    database: z._default(int(0, 15), 0),
    /** ACL user (ElastiCache RBAC); omit to authenticate with the AUTH token alone. */
    username: z.optional(text()),
    /** SecureString parameter holding the AUTH token, read once per cold start. */
    authParameterName: z.optional(z.string().check(z.regex(/^\/[A-Za-z0-9_./-]+$/, 'must be an SSM parameter name starting with "/"'))),
    connectTimeoutMs: z._default(int(100, 30000), 2000),
    commandTimeoutMs: z._default(int(100, 30000), 3000),
    /**
     * Look for an absent lane's keys under other prefixes. Off for a Redis shared
     * with another application whose queues have the same names (its keys would
     * read as this one's under a wrong prefix).
     */
    prefixProbe: z._default(z.boolean(), true),
    /** While a lane reads as absent, how often its keys are looked for under another prefix. */
    prefixProbeIntervalSeconds: z._default(int(60, 86400), 300),
    /** Keys one SCAN call examines (its COUNT), and SCAN calls per node per tick: the probe's bound. */
    prefixProbeScanCount: z._default(int(10, 100000), 1000),
    prefixProbeMaxCalls: z._default(int(1, 1000), 10),
  })
  .check(
    z.refine((redis) => !(redis.cluster && redis.database !== 0), {
      message: 'must be 0 in cluster mode (Redis Cluster has one database)',
      path: ['database'],
    }),
  );

/** Where a lane's queues live, as the environment file's `broker` says. */
export const CONTROLLER_BROKERS = ['redis', 'sqs'] as const;

/** What the controller needs of an SQS lane beyond its queue names. */
const sqsLaneSchema = z.strictObject({
  /**
   * The dead-letter queue's name: messages received maxReceiveCount times
   * without being deleted (a worker killed mid-job) land there, which Laravel's
   * failed_jobs never sees; its growth counts as failed attempts.
   */
  deadLetterQueue: text(),
});

const laneSchema = z
  .strictObject({
    /** The lane; the Lane dimension of every metric. */
    name: z.string().check(z.maxLength(64), z.regex(NAME_PATTERN, NAME_RULE)),
    /**
     * redis: `queues` are Laravel queue names read under redis.keyPrefix. sqs:
     * `queues` are SQS queue names in the controller's own account and region,
     * read with GetQueueAttributes.
     */
    broker: z._default(z.enum(CONTROLLER_BROKERS), 'redis'),
    /** Required exactly when broker is sqs. */
    sqs: z.optional(sqsLaneSchema),
    /** ECS service name (or ARN) in the cluster. */
    service: text(),
    /**
     * Whether the controller sets this lane's desired count. false: measured
     * only (a lane at stage baseline, whose count Terraform fixes): its metrics
     * are published, its service is never read or changed.
     */
    sized: z._default(z.boolean(), true),
    /**
     * The workers' job timeout (queue:work --timeout), seconds: with
     * retryAfterSeconds null, a reservation older than this plus a minute has no
     * live worker and is reported as stuck.
     */
    jobTimeoutSeconds: z._default(int(1, 86400), 60),
    /**
     * Delayed jobs due within this many seconds count as backlog now: one tick
     * plus a Fargate start, so the first task is up when they come due. 0: only
     * jobs already due count.
     */
    lookaheadSeconds: z._default(int(0, 3600), COLD_PICKUP_SECONDS),
    /**
     * The CloudWatch metric its workers' finished attempts are counted in (a log
     * metric filter on the workers' job lines). With it, short jobs
     * between two ticks count as activity, and a lane whose jobs come further
     * apart than its drain window goes to zero soon after its last one.
     */
    finishedJobsMetric: z.optional(z.strictObject({ namespace: text(), name: text() })),
    /**
     * The CloudWatch metric its workers' failed attempts are counted in (job
     * lines of attempts that threw or failed). With it and finishedJobsMetric, a lane whose recent attempts
     * mostly fail is not scaled out.
     */
    failedJobsMetric: z.optional(z.strictObject({ namespace: text(), name: text() })),
    /** Laravel queues the lane consumes. */
    queues: z.array(text()).check(z.minLength(1)),
    min: int(...LANE_POLICY_BOUNDS.minTasks),
    max: int(...LANE_POLICY_BOUNDS.maxTasks),
    /** Jobs one task is expected to take: desired = ceil(backlog / backlogPerTask). */
    backlogPerTask: int(...LANE_POLICY_BOUNDS.backlogPerTask),
    /**
     * The longest a lane keeps its last task idle before it scales to zero: it lets
     * it go sooner when its work comes further apart than a cold start costs.
     */
    drainMinutes: z._default(int(...LANE_POLICY_BOUNDS.drainMinutes), 15),
    /** Tasks removed per tick while every task may be running a job; idle tasks beyond the running jobs go at once. */
    scaleInStep: z._default(int(1, 5000), 1),
    /** Lower is served first under the fleet cap; lanes without one follow, in list order. */
    priority: z.optional(int(...LANE_POLICY_BOUNDS.priority)),
    /**
     * When the lane's work arrives (cron, UTC) and the tasks it wants then: from a
     * look-ahead before each time until `minutes` after it, the lane has at least
     * `tasks` (up to max), and its backlog may ask for more.
     */
    warm: z.optional(
      z.array(
        z.strictObject({
          at: z.string().check(
            z.superRefine((expression, ctx) => {
              const problem = cronProblem(expression);
              if (problem !== undefined) ctx.issues.push({ code: 'custom', message: problem, input: expression });
            }),
          ),
          tasks: int(...LANE_POLICY_BOUNDS.warmTasks),
          minutes: int(...LANE_POLICY_BOUNDS.warmMinutes),
        }),
      ),
    ),
    /**
     * Seconds a ready job may wait for a worker: the lane is sized so the waiting
     * jobs start within it at the pace of the running ones. Omit for count-based
     * sizing only.
     */
    maxPickupSeconds: z.optional(int(...LANE_POLICY_BOUNDS.maxPickupSeconds)),
    /** queue:work processes per task. */
    workersPerTask: z._default(int(1, 100), 1),
  })
  .check(
    z.refine((lane) => lane.min <= lane.max, { message: 'must not exceed max', path: ['min'] }),
    z.refine((lane) => (lane.broker === 'sqs') === (lane.sqs !== undefined), {
      message: 'is required with broker sqs and allowed only there',
      path: ['sqs'],
    }),
  );

export const controllerConfigSchema = z
  .strictObject({
    /** ECS cluster name (or ARN). */
    cluster: text(),
    /** CloudWatch namespace of every metric. */
    namespace: z._default(z.string().check(z.minLength(1), z.maxLength(255)), DEFAULT_NAMESPACE),
    /** The Environment dimension of every metric. */
    environment: text(),
    /** How to reach Redis; required while a lane's broker is redis. */
    redis: z.optional(redisSchema),
    /** fleet.maxTasks: all worker tasks of the environment. */
    fleetMaxTasks: int(...LANE_POLICY_BOUNDS.fleetMaxTasks),
    /** Tasks the controller does not manage (e.g. baseline lanes' fixed counts), counted against the cap. */
    reservedTasks: z._default(int(0, 5000), 0),
    lanes: z.array(laneSchema).check(z.minLength(1), z.maxLength(MAX_CONTROLLER_LANES)),
  })
  .check(
    z.superRefine((config, ctx) => {
      const redisLane = config.lanes.findIndex((lane) => lane.broker === 'redis');
      if (config.redis === undefined && redisLane !== -1) {
        ctx.addIssue({ code: 'custom', path: ['redis'], message: `is required: lanes[${redisLane}] reads Redis` });
      }
      const seen = (key: 'name' | 'service') => {
        const first = new Map<string, number>();
        config.lanes.forEach((lane, index) => {
          const previous = first.get(lane[key]);
          if (previous === undefined) first.set(lane[key], index);
          else ctx.addIssue({ code: 'custom', path: ['lanes', index, key], message: `duplicates lanes[${previous}].${key}` });
        });
      };
      seen('name');
      seen('service');
      const owner = new Map<string, number>();
      config.lanes.forEach((lane, index) =>
        lane.queues.forEach((queue, q) => {
          const other = owner.get(queue);
          if (other !== undefined) {
            const message =
              other === index ? `queue "${queue}" is listed twice` : `queue "${queue}" is already consumed by lanes[${other}]`;
            ctx.addIssue({ code: 'custom', path: ['lanes', index, 'queues', q], message });
          } else {
            owner.set(queue, index);
          }
        }),
      );
    }),
  );

/** The configuration as the controller uses it (defaults applied). */
export type ControllerConfig = z.infer<typeof controllerConfigSchema>;
/** The configuration as written (optional keys may be absent). */
export type ControllerConfigInput = z.input<typeof controllerConfigSchema>;
export type ControllerLaneConfig = ControllerConfig['lanes'][number];
export type RedisConfig = NonNullable<ControllerConfig['redis']>;
export type ControllerBroker = ControllerLaneConfig['broker'];

/** A configuration that cannot be used, with every problem on its own line. */
export class ControllerConfigError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(`${CONTROLLER_CONFIG_ENV} is invalid:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ControllerConfigError';
  }
}

/** Parses and validates the configuration's JSON text; throws ControllerConfigError listing every problem. */
/**
 * The start of a CONTROLLER_CONFIG that is deflated JSON in base64: what a
 * configuration too large for Lambda's 4 KB of environment variables is written
 * as (its lanes repeat the same keys, so it shrinks about sixfold).
 */
export const DEFLATED_CONFIG_PREFIX = 'deflate:';

/** `json` as CONTROLLER_CONFIG holds it: as it is while it is at most `limitBytes`, else deflated. */
export function encodeControllerConfig(json: string, limitBytes: number): string {
  if (Buffer.byteLength(json, 'utf8') <= limitBytes) return json;
  return DEFLATED_CONFIG_PREFIX + deflateSync(json, { level: 9 }).toString('base64');
}

export function parseControllerConfig(value: string | undefined): ControllerConfig {
  if (value === undefined || value.trim() === '') {
    throw new ControllerConfigError([`${CONTROLLER_CONFIG_ENV} is not set (expected the controller's JSON configuration)`]);
  }
  let json = value;
  if (value.startsWith(DEFLATED_CONFIG_PREFIX)) {
    try {
      json = inflateSync(Buffer.from(value.slice(DEFLATED_CONFIG_PREFIX.length), 'base64')).toString('utf8');
    } catch (error) {
      throw new ControllerConfigError([`starts with ${DEFLATED_CONFIG_PREFIX} but does not inflate: ${(error as Error).message}`]);
    }
  }
  let raw: unknown;
  try {
    raw = JSON.parse(json);
  } catch (error) {
    throw new ControllerConfigError([`not valid JSON: ${(error as Error).message}`]);
  }
  const result = z.safeParse(controllerConfigSchema, raw);
  if (result.success) return result.data;
  throw new ControllerConfigError(result.error.issues.map((issue) => `${describePath(issue.path, raw)}: ${issue.message}`));
}

/** `lanes[1] (image).max`: a readable path, naming the lane where it can. */
function describePath(path: readonly PropertyKey[], raw: unknown): string {
  if (path.length === 0) return '(root)';
  let text = '';
  let node: unknown = raw;
  path.forEach((segment, i) => {
    if (typeof segment === 'number') {
      text += `[${segment}]`;
      node = Array.isArray(node) ? node[segment] : undefined;
      const name = i === 1 && path[0] === 'lanes' ? (node as { name?: unknown } | undefined)?.name : undefined;
      if (typeof name === 'string') text += ` (${name})`;
    } else {
      text += `${text === '' ? '' : '.'}${String(segment)}`;
      node = node !== null && typeof node === 'object' ? (node as Record<PropertyKey, unknown>)[segment] : undefined;
    }
  });
  return text;
}
