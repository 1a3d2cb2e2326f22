import {
  clusterName,
  controllerMeasuredLanes,
  deadLetterQueueName,
  logMetricNamespace,
  redisHost,
  serviceName,
  type EnvironmentConfig,
  type LaneConfig,
} from '@queue-lanes/config';
import { DEFAULT_NAMESPACE, parseControllerConfig, type ControllerConfig, type ControllerConfigInput } from './controller-config';
import { LOG_METRIC } from './metrics';

/*
 * The backlog controller's CONTROLLER_CONFIG, derived from the environment file
 * and validated with the controller's own schema, so a config the Lambda would
 * reject at cold start fails the synth instead. The one mapping from the file to
 * the controller: the scaling lib writes it into the Lambda's environment and the
 * simulator runs the real controller on it, so both judge the same policy.
 *
 * Its own entry (@queue-lanes/contract/environment), not the contract's root: it
 * reads the environment through libs/config, whose zod and YAML the Lambda's
 * bundle must not take.
 */

export interface ControllerConfigOptions {
  /** `/<app>/<env>`: the parameters lib's path prefix; the AUTH token is `<prefix>/env/<redis.authParameter>`. */
  readonly parameterPathPrefix: string;
}

/**
 * The controller's configuration for `env`: its lanes past stage off, Redis and
 * SQS, in priority order (lower first), the fleet cap, the tasks it does not
 * size, and how to reach Redis while a Redis lane is among them. Throws when no
 * lane is measured, or a Redis lane's host or key prefix is missing (libs/config
 * refuses such a file with a position first).
 */
export function buildControllerConfig(env: EnvironmentConfig, options: ControllerConfigOptions): ControllerConfigInput {
  const lanes = controllerMeasuredLanes(env);
  if (lanes.length === 0) {
    throw new Error('the backlog controller has no lane to measure: no lane is past stage off');
  }
  const redisLanes = lanes.filter((lane) => lane.broker === 'redis');
  return {
    cluster: clusterName(env),
    environment: env.environment,
    fleetMaxTasks: env.fleet.maxTasks,
    reservedTasks: env.reservedTasks,
    ...(redisLanes.length > 0 ? { redis: redisConnection(env, redisLanes, options) } : {}),
    lanes: lanes.map((lane) => ({
      name: lane.name,
      service: serviceName(env, lane.name),
      broker: lane.broker,
      ...(lane.broker === 'sqs' ? { sqs: { deadLetterQueue: deadLetterQueueName(env, lane.name) } } : {}),
      sized: lane.sizedBy === 'controller',
      jobTimeoutSeconds: lane.longestJobTimeout,
      // The observability lib's filter on the lane's job lines: short jobs count as activity.
      finishedJobsMetric: { namespace: logMetricNamespace(DEFAULT_NAMESPACE, env, lane.name), name: LOG_METRIC.finishedJobs },
      // And on those of attempts that threw or failed: a lane failing in a loop is not widened.
      failedJobsMetric: { namespace: logMetricNamespace(DEFAULT_NAMESPACE, env, lane.name), name: LOG_METRIC.failedJobs },
      queues: [...lane.queues],
      min: lane.tasks.min,
      max: lane.tasks.max,
      backlogPerTask: lane.backlogPerTask,
      maxPickupSeconds: lane.maxPickupSeconds,
      workersPerTask: lane.workers,
      drainMinutes: lane.drainMinutes,
      priority: lane.priority,
      ...(lane.warm !== undefined ? { warm: lane.warm } : {}),
    })),
  };
}

/** How the controller reaches the Redis of `lanes` (the measured Redis lanes). */
function redisConnection(env: EnvironmentConfig, lanes: readonly LaneConfig[], options: ControllerConfigOptions): RedisConnectionInput {
  const host = redisHost(env);
  if (host === undefined) {
    throw new Error(
      `redis.host: ${describeLanes(lanes)} past stage off, but no Redis host is configured; set redis.host, or REDIS_HOST under parameters.plain`,
    );
  }
  const keyPrefix = env.redisKeyPrefix;
  if (keyPrefix === undefined) {
    throw new Error(
      `redis.keyPrefix: ${describeLanes(lanes)} past stage off, but no key prefix is configured; set redis.keyPrefix, or REDIS_PREFIX under parameters.plain`,
    );
  }
  const { redis } = env;
  return {
    host,
    port: env.network.redis.port,
    tls: redis.tls,
    keyPrefix,
    retryAfterSeconds: redis.retryAfter,
    prefixProbe: redis.probeOtherPrefixes,
    cluster: redis.cluster,
    database: redis.database,
    ...(redis.username !== undefined ? { username: redis.username } : {}),
    ...(redis.authParameter !== undefined ? { authParameterName: `${options.parameterPathPrefix}/env/${redis.authParameter}` } : {}),
  };
}

type RedisConnectionInput = NonNullable<ControllerConfigInput['redis']>;

/** Parses `config` as the Lambda will; throws naming the problem as the controller would report it. */
export function validateControllerConfig(config: ControllerConfigInput): ControllerConfig {
  try {
    return parseControllerConfig(JSON.stringify(config));
  } catch (error) {
    throw new Error(`the backlog controller would reject its configuration: ${(error as Error).message}`);
  }
}

function describeLanes(lanes: readonly LaneConfig[]): string {
  const names = lanes.map((l) => l.name);
  return names.length === 1 ? `Redis lane ${names[0]} is` : `Redis lanes ${names.join(', ')} are`;
}
