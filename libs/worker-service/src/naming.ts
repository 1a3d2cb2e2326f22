import type { EnvironmentConfig } from '@queue-lanes/config';

/*
 * Names the operators' runbook depends on (DESIGN.md, "Naming"). Every name the
 * worker stack gives a resource comes from here, so tests and other stacks can
 * compute them without synthesizing.
 */

type EnvNames = Pick<EnvironmentConfig, 'app' | 'environment'>;

/** The workload name of the scheduler singleton (its service, log group and roles). */
export const SCHEDULER = 'scheduler';

/** The last segment of the ECS Exec session log group. */
export const ECS_EXEC = 'ecs-exec';

/** IAM allows at most 64 characters in a role name. */
export const MAX_ROLE_NAME = 64;

/** `<app>-<env>`: the environment's ECS cluster. */
export function clusterName(env: EnvNames): string {
  return `${env.app}-${env.environment}`;
}

/** `<app>-<lane>`, or `<app>-scheduler` for the scheduler. */
export function serviceName(env: EnvNames, workload: string): string {
  return `${env.app}-${workload}`;
}

/** `/ecs/<app>-<env>/<lane>`, `/ecs/<app>-<env>/scheduler` and `/ecs/<app>-<env>/ecs-exec`. */
export function logGroupName(env: EnvNames, workload: string): string {
  return `/ecs/${clusterName(env)}/${workload}`;
}

/** `<app>-<env>-<lane>`: the task-definition family (families are per account and region, so the environment is part of it). */
export function taskFamily(env: EnvNames, workload: string): string {
  return `${clusterName(env)}-${workload}`;
}

/** `<app>-<env>-<lane>`: an SQS lane's queue (queue names are per account and region). */
export function queueName(env: EnvNames, lane: string): string {
  return `${clusterName(env)}-${lane}`;
}

/** `<app>-<env>-<lane>-dlq`: where an SQS lane's queue moves messages after sqs.maxReceiveCount receives. */
export function deadLetterQueueName(env: EnvNames, lane: string): string {
  return `${queueName(env, lane)}-dlq`;
}

/** `<app>-<env>-<lane>-execution` and `<app>-<env>-<lane>-task`: role names are per account. */
export function roleName(env: EnvNames, workload: string, kind: 'execution' | 'task'): string {
  return `${clusterName(env)}-${workload}-${kind}`;
}
