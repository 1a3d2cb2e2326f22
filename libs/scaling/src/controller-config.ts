import { isScaled, redisHost, type EnvironmentConfig, type LaneConfig } from '@queue-lanes/config';
import {
  laravelDefaultRedisPrefix,
  parseControllerConfig,
  type ControllerConfig,
  type ControllerConfigInput,
} from '@queue-lanes/backlog-controller';
import { clusterName, serviceName } from '@queue-lanes/worker-service';

/*
 * The backlog controller's CONTROLLER_CONFIG, derived from the environment file
 * at synth time and validated with the controller's own schema, so a config the
 * Lambda would reject at cold start fails the synth instead.
 */

/** Redis lanes at stage scaling or owned: the lanes the backlog controller sizes. */
export function controllerLanes(env: Pick<EnvironmentConfig, 'lanes'>): LaneConfig[] {
  return env.lanes.filter((lane) => lane.broker === 'redis' && isScaled(lane));
}

/**
 * Tasks the controller does not size but that count against fleet.maxTasks:
 * every lane at stage baseline runs tasks.baseline, and App Auto Scaling may run
 * an SQS lane at scaling or owned up to tasks.max (the same sum libs/config
 * holds under fleet.maxTasks).
 */
export function reservedTasks(env: Pick<EnvironmentConfig, 'lanes'>): number {
  let total = 0;
  for (const lane of env.lanes) {
    if (lane.stage === 'baseline') total += lane.tasks.baseline;
    else if (lane.broker === 'sqs' && isScaled(lane)) total += lane.tasks.max;
  }
  return total;
}

/**
 * The queue connection's key prefix: redis.keyPrefix, else the workers'
 * REDIS_PREFIX, else what a Laravel ≤12 config/database.php derives from
 * APP_NAME (the workers' APP_NAME, else the app name): `<slug with _>_database_`.
 */
export function redisKeyPrefix(env: Pick<EnvironmentConfig, 'app' | 'redis' | 'parameters'>): string {
  const plain = env.parameters.plain;
  if (env.redis.keyPrefix !== undefined) return env.redis.keyPrefix;
  if (plain.REDIS_PREFIX !== undefined) return String(plain.REDIS_PREFIX);
  return laravelDefaultRedisPrefix(plain.APP_NAME === undefined ? env.app : String(plain.APP_NAME), 'laravel-12');
}

export interface ControllerConfigOptions {
  /** `/<app>/<env>`: the parameters lib's path prefix; the AUTH token is `<prefix>/env/<redis.authParameter>`. */
  readonly parameterPathPrefix: string;
}

/**
 * The controller's configuration for `env`: its lanes in priority order (lower
 * first), the fleet cap, the tasks it does not manage, and how to reach Redis.
 * Throws when no lane is controller-managed or no Redis host is configured.
 */
export function buildControllerConfig(env: EnvironmentConfig, options: ControllerConfigOptions): ControllerConfigInput {
  const lanes = controllerLanes(env);
  if (lanes.length === 0) {
    throw new Error('the backlog controller has no lane to manage: no Redis lane is at stage scaling or owned');
  }
  const host = redisHost(env);
  if (host === undefined) {
    throw new Error(
      `redis.host: ${describeLanes(lanes)} at stage scaling or owned, so the backlog controller reads the queues from Redis, but no Redis host is configured; set redis.host, or REDIS_HOST under parameters.plain`,
    );
  }
  const { redis } = env;
  return {
    cluster: clusterName(env),
    environment: env.environment,
    fleetMaxTasks: env.fleet.maxTasks,
    reservedTasks: reservedTasks(env),
    redis: {
      host,
      port: env.network.redis.port,
      tls: redis.tls,
      keyPrefix: redisKeyPrefix(env),
      cluster: redis.cluster,
      database: redis.database,
      ...(redis.username !== undefined ? { username: redis.username } : {}),
      ...(redis.authParameter !== undefined
        ? { authParameterName: `${options.parameterPathPrefix}/env/${redis.authParameter}` }
        : {}),
    },
    lanes: lanes.map((lane) => ({
      name: lane.name,
      service: serviceName(env, lane.name),
      queues: [...lane.queues],
      min: lane.tasks.min,
      max: lane.tasks.max,
      backlogPerTask: lane.backlogPerTask,
      drainMinutes: lane.drainMinutes,
      priority: lane.priority,
    })),
  };
}

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
