import type { EnvironmentConfig } from '@queue-lanes/config';
import { clusterName } from '@queue-lanes/worker-service';

/*
 * Names of the scaling stack's resources. Queue names come from the worker
 * lib (its task roles are granted the queues by name), the rest from here.
 */

type EnvNames = Pick<EnvironmentConfig, 'app' | 'environment'>;

/** `<app>-<env>-backlog-controller`: the Lambda function and its role (at most 60 characters). */
export function controllerName(env: EnvNames): string {
  return `${clusterName(env)}-backlog-controller`;
}

/** `/aws/lambda/<function>`: where Lambda writes the controller's logs. */
export function controllerLogGroupName(env: EnvNames): string {
  return `/aws/lambda/${controllerName(env)}`;
}

/** `<app>-<env>-backlog-controller-dlq`: failed asynchronous invocations (ticks and wake-ups). */
export function controllerDeadLetterQueueName(env: EnvNames): string {
  return `${controllerName(env)}-dlq`;
}

/** `<app>-<env>-controller-schedule`: the schedule's role (kept within IAM's 64 characters). */
export function scheduleRoleName(env: EnvNames): string {
  return `${clusterName(env)}-controller-schedule`;
}

/** `<app>-<env>-controller-schedule-dlq`: ticks EventBridge Scheduler could not deliver. */
export function scheduleDeadLetterQueueName(env: EnvNames): string {
  return `${scheduleRoleName(env)}-dlq`;
}

/** `<app>-<env>-<lane>-<what>`: an SQS lane's scaling policies and alarms. */
export function laneScalingName(env: EnvNames, lane: string, what: string): string {
  return `${clusterName(env)}-${lane}-${what}`;
}
