import { DIMENSION, METRIC, queueKeys } from '@queue-lanes/contract';
import { redisHost, runtimeParameterName, type EnvironmentConfig } from '@queue-lanes/config';
import type { PolicyStatement } from '@queue-lanes/iam-policy';
import {
  CONNECTIVITY_FIRST,
  shellQuote,
  type QueueInspection,
  type AlarmSpec,
  type BrokerModule,
  type MetricLine,
  type QueueSignalContext,
  type QueueSignals,
  type SignalLane,
} from './broker';

/**
 * Redis: Laravel's Redis queue on the application's own Redis, which the network
 * admits (libs/networking), so the task role needs no grant. The backlog
 * controller measures the lanes from Laravel's keys and publishes their backlog;
 * a lane it does not measure has no queue alarms.
 */
export const redis: BrokerModule = {
  broker: 'redis',
  taskStatements: (): PolicyStatement[] => [],
  queueSignals: redisSignals,
  queueInspection: redisInspection,
};

/** redis-cli on the queue connection (as `rq`), and per lane the lengths of Laravel's keys for each queue. */
function redisInspection(env: EnvironmentConfig, region: string): QueueInspection | undefined {
  const host = redisHost(env);
  if (host === undefined) return undefined;
  const flags = [
    `-h ${host}`,
    `-p ${env.network.redis.port}`,
    ...(env.redis.tls ? ['--tls'] : []),
    ...(env.redis.cluster ? ['-c'] : env.redis.database ? [`-n ${env.redis.database}`] : []),
    ...(env.redis.username ? [`--user ${env.redis.username}`] : []),
  ];
  return {
    intro: "Read a queue the way the controller does (Laravel's keys under the connection's prefix):",
    setup: [
      ...(env.redis.authParameter
        ? [
            `export REDISCLI_AUTH="$(aws ssm get-parameter ${region} --with-decryption --name ${runtimeParameterName(env, env.redis.authParameter)} --query Parameter.Value --output text)"`,
          ]
        : []),
      `rq() { redis-cli ${flags.join(' ')} "$@"; }`,
    ],
    laneLines: (lane) =>
      lane.queues.map((queue) => {
        const keys = queueKeys(queue, env.redisKeyPrefix ?? '', env.redis.cluster);
        return `rq LLEN ${shellQuote(keys.ready)}; rq ZCARD ${shellQuote(keys.reserved)}; rq ZCARD ${shellQuote(keys.delayed)}`;
      }),
  };
}

function redisSignals(context: QueueSignalContext): QueueSignals {
  const dashboard = redisDashboard(context);
  if (!context.controllerMeasured) return { measured: false, queueAlarms: [], failureAlarms: [], dashboard };
  const alarms = [backlogAlarm(context), oldestJobAlarm(context), keyPrefixAlarm(context)];
  if (context.env.redis.retryAfter === null) alarms.push(stuckJobsAlarm(context));
  return { measured: true, queueAlarms: alarms, failureAlarms: [], dashboard };
}

/** The lane's graph lines, from what the controller publishes (empty graphs while it does not measure the lane). */
function redisDashboard(context: QueueSignalContext): QueueSignals['dashboard'] {
  const { env, lane, namespace } = context;
  const dims = [DIMENSION.environment, env.environment, DIMENSION.lane, lane.name];
  const line = (name: string, label: string): MetricLine => [namespace, name, ...dims, { label }];
  return {
    backlog: [
      line(METRIC.ready, 'ready'),
      line(METRIC.reserved, 'reserved'),
      line(METRIC.delayed, 'delayed'),
      line(METRIC.delayedDue, 'delayed, due'),
      line(METRIC.backlog, 'backlog (ready + reserved + due)'),
      line(METRIC.stuckReserved, 'stuck reservations'),
    ],
    age: [line(METRIC.oldestRunnableAgeSeconds, 'oldest runnable job'), line(METRIC.oldestReadyAgeSeconds, 'oldest ready job')],
    oldestNoun: 'runnable job',
    failed: [],
  };
}

/** One of the lane's metrics the controller publishes, as an alarm reads it: its per-minute maximum. */
function controllerMetric(context: QueueSignalContext, metricName: string) {
  const dimensions = { [DIMENSION.environment]: context.env.environment, [DIMENSION.lane]: context.lane.name };
  return { namespace: context.namespace, metricName, dimensions, period: 60, statistic: 'Maximum' };
}

/** What holds a lane's count where it is, by who sizes it: the first thing to check when its backlog grows. */
function whatHoldsItBack(lane: SignalLane): string {
  if (lane.sizedBy === 'controller') {
    return `desired at tasks.max (${lane.tasks.max}): the lane is saturated, raise tasks.max; desired below it: the controller holds it back (fleet.maxTasks, or see controller-failing)`;
  }
  if (lane.sizedBy === 'operator') {
    return 'the lane is paused, so only an operator changes its count: raise it with aws ecs update-service --desired-count, or unpause the lane';
  }
  return `the lane runs a fixed ${lane.tasks.baseline} at stage baseline and the host consumers still take its jobs: check they run, or raise tasks.baseline`;
}

function backlogAlarm(context: QueueSignalContext): AlarmSpec {
  const { lane, thresholds: t } = context;
  return {
    kind: 'backlog',
    config: {
      alarmDescription: `${lane.name}: backlog (ready + reserved + due delayed jobs) above ${t.backlog} for ${t.backlogMinutes} min. Check first: desired vs running tasks on dashboard ${context.dashboardName}: ${whatHoldsItBack(lane)}; running below desired: tasks fail to start (see restarts); ${CONNECTIVITY_FIRST}.`,
      ...controllerMetric(context, METRIC.backlog),
      comparisonOperator: 'GreaterThanThreshold',
      threshold: t.backlog,
      evaluationPeriods: t.backlogMinutes,
      datapointsToAlarm: t.backlogMinutes,
      // A gap is a missed controller tick, not an empty lane (controller-not-running reports those): keep the state.
      treatMissingData: 'ignore',
    },
  };
}

function oldestJobAlarm(context: QueueSignalContext): AlarmSpec {
  const { lane, thresholds: t } = context;
  return {
    kind: 'oldest-job',
    config: {
      alarmDescription: `${lane.name}: the oldest job a worker could run now in ${lane.queues.join(', ')} (ready, delayed and due, or a reservation that expired because its worker died) has waited over ${t.oldestJobSeconds} s for ${t.oldestJobMinutes} min. Check first: whether workers take jobs at all (running tasks on dashboard ${context.dashboardName}, the failed-jobs and restarts alarms); with a small backlog, one long job may be holding a worker (job.timeout ${lane.longestJobTimeout} s).`,
      ...controllerMetric(context, METRIC.oldestRunnableAgeSeconds),
      comparisonOperator: 'GreaterThanThreshold',
      threshold: t.oldestJobSeconds,
      evaluationPeriods: t.oldestJobMinutes,
      datapointsToAlarm: t.oldestJobMinutes,
      // Missing while only ready jobs of unknown age wait, or a tick was missed: keep the state.
      treatMissingData: 'ignore',
    },
  };
}

function keyPrefixAlarm(context: QueueSignalContext): AlarmSpec {
  const { env, lane } = context;
  return {
    kind: 'key-prefix',
    config: {
      alarmDescription: `${lane.name}: every queue of the lane (${lane.queues.join(', ')}) reads empty under the configured Redis key prefix ${JSON.stringify(env.redisKeyPrefix ?? '')} while its keys exist under another one, so the controller sees no jobs and holds the lane's count. Check first: the controller log /aws/lambda/${context.controllerFunctionName} ("key prefix mismatch" names the prefix found); set redis.keyPrefix to what php artisan tinker --execute="echo config('database.redis.options.prefix');" prints in the application, and deploy.`,
      ...controllerMetric(context, METRIC.keysUnderOtherPrefix),
      comparisonOperator: 'GreaterThanOrEqualToThreshold',
      threshold: 1,
      evaluationPeriods: 2,
      datapointsToAlarm: 2,
      treatMissingData: 'ignore',
    },
  };
}

/** Only with redis.retryAfter null, where Laravel never hands an expired reservation out again. */
function stuckJobsAlarm(context: QueueSignalContext): AlarmSpec {
  const { lane } = context;
  return {
    kind: 'stuck-jobs',
    config: {
      alarmDescription: `${lane.name}: jobs reserved longer than job.timeout (${lane.longestJobTimeout} s) plus a minute in ${lane.queues.join(', ')}. With redis.retryAfter null Laravel never hands them out again, so they never finish and never fail. Check first: the worker log ${context.logGroupName} for tasks killed mid-job (stopTimeout, out of memory); move them back by hand (ZRANGE …:reserved, RPUSH onto the queue) once the cause is known, or set retry_after on the connection.`,
      ...controllerMetric(context, METRIC.stuckReserved),
      comparisonOperator: 'GreaterThanThreshold',
      threshold: 0,
      evaluationPeriods: 5,
      datapointsToAlarm: 5,
      treatMissingData: 'ignore',
    },
  };
}
