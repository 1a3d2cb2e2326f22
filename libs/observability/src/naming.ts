import type { EnvironmentConfig } from '@queue-lanes/config';

/*
 * Names of the observability resources (the operators' runbook and the alarm
 * descriptions depend on them). Everything is per environment, `<app>-<env>-…`,
 * so two environments in one account never share a dashboard, topic or metric.
 */

type EnvNames = Pick<EnvironmentConfig, 'app' | 'environment'>;

/** The backlog controller's namespace (its `namespace` setting defaults to this). */
export const DEFAULT_NAMESPACE = 'QueueLanes';

/** The controller's metric and dimension names: one definition, in the controller. */
export { DIMENSION, METRIC } from '@queue-lanes/backlog-controller';

/** `<app>-<env>-queue-lanes`: the environment's dashboard. */
export function dashboardName(env: EnvNames): string {
  return `${env.app}-${env.environment}-queue-lanes`;
}

/** `<app>-<env>-alarms`: the topic every alarm notifies (and its key's alias, `alias/<app>-<env>-alarms`). */
export function alarmTopicName(env: EnvNames): string {
  return `${env.app}-${env.environment}-alarms`;
}

/** `<app>-<env>-<lane>-<kind>` for a lane's alarm, `<app>-<env>-controller-<kind>` for the controller's. */
export function alarmName(env: EnvNames, owner: string, kind: string): string {
  return `${env.app}-${env.environment}-${owner}-${kind}`;
}

/** `<app>-<env>-backlog-controller`: the controller Lambda (libs/scaling names it so). */
export function controllerFunctionName(env: EnvNames): string {
  return `${env.app}-${env.environment}-backlog-controller`;
}

/** `<app>-<env>-<lane>`: an SQS lane's queue (libs/worker-service and libs/scaling name it so). */
export function laneQueueName(env: EnvNames, lane: string): string {
  return `${env.app}-${env.environment}-${lane}`;
}

/** `<app>-<env>-<lane>-dlq`: an SQS lane's dead-letter queue (libs/worker-service and libs/scaling name it so). */
export function deadLetterQueueName(env: EnvNames, lane: string): string {
  return `${env.app}-${env.environment}-${lane}-dlq`;
}

/**
 * `/aws/events/<app>-<env>/ecs-task-stopped`: where EventBridge writes the lanes'
 * crashed and failed-to-start tasks (EventBridge log targets live under /aws/events/).
 */
export function stoppedTasksLogGroupName(env: EnvNames): string {
  return `/aws/events/${env.app}-${env.environment}/ecs-task-stopped`;
}

/** `<app>-<env>-ecs-task-stopped`: the EventBridge rule and the log resource policy that lets it write. */
export function stoppedTasksRuleName(env: EnvNames): string {
  return `${env.app}-${env.environment}-ecs-task-stopped`;
}

/**
 * `<namespace>/<app>-<env>/<lane>`: the namespace of a lane's log-derived metrics
 * (StoppedTasks, RedisConnectionErrors, AuroraConnectionErrors, FailedJobs).
 * Metric filters cannot set fixed dimensions, so the environment and lane are part
 * of the namespace instead.
 */
export function logMetricNamespace(namespace: string, env: EnvNames, lane: string): string {
  return `${namespace}/${env.app}-${env.environment}/${lane}`;
}
