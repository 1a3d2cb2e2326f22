import type { EnvironmentFile } from './schema';

/*
 * Every resource name of an environment, in one place (the operators' runbook
 * depends on them): the libs, the tools and the tests compute names here and
 * nowhere else, the way terraform-aws-modules keep them in `locals`.
 */

type EnvNames = Pick<EnvironmentFile, 'app' | 'environment'>;

/** The workload name of the scheduler singleton (its service, log group and roles). */
export const SCHEDULER = 'scheduler';

/** The last segment of the ECS Exec session log group. */
export const ECS_EXEC = 'ecs-exec';

/** IAM allows at most 64 characters in a role name. */
export const MAX_ROLE_NAME = 64;

/** The stacks of one environment, in the order they deploy: each reads only those before it. */
export const STACK_ROLES = ['networking', 'parameters', 'workers', 'scaling'] as const;
export type StackRole = (typeof STACK_ROLES)[number];

/** `<app>-<env>`: the environment's ECS cluster, and the stem of every per-environment name. */
export function clusterName(env: EnvNames): string {
  return `${env.app}-${env.environment}`;
}

/** `<app>-<env>-<role>`: one stack of the environment (networking, parameters, workers, scaling). */
export function stackName(env: EnvNames, role: StackRole): string {
  return `${clusterName(env)}-${role}`;
}

/** `<app>-<env>-*`: the cdktf stack pattern that names every stack of the environment (`cdktf deploy '<pattern>'`). */
export function stacksPattern(env: EnvNames): string {
  return `${clusterName(env)}-*`;
}

/** `<workspacePrefix>-<role>`: the Terraform Cloud workspace of one stack (state.backend cloud). */
export function cloudWorkspaceName(state: { readonly workspacePrefix: string }, role: StackRole): string {
  return `${state.workspacePrefix}-${role}`;
}

/** `/<app>/<env>`: the prefix of every SSM parameter of the environment. */
export function parameterPathPrefix(env: EnvNames): string {
  return `/${env.app}/${env.environment}`;
}

/** `/<app>/<env>/env/<NAME>`: one runtime variable of the workers (parameters.plain or parameters.secure). */
export function runtimeParameterName(env: EnvNames, name: string): string {
  return `${parameterPathPrefix(env)}/env/${name}`;
}

/**
 * `/<app>/<env>/lanes/<lane>/<switch>`: a lane's `stage`, or its `host-consumer`
 * switch the web hosts' agent reads; `*` as the lane gives the IAM pattern of all lanes.
 */
export function laneParameterName(env: EnvNames, lane: string, kind: 'stage' | 'host-consumer'): string {
  return `${parameterPathPrefix(env)}/lanes/${lane}/${kind}`;
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

/** `<app>-<env>-queue-lanes`: the environment's dashboard. */
export function dashboardName(env: EnvNames): string {
  return `${clusterName(env)}-queue-lanes`;
}

/** `<app>-<env>-alarms`: the topic every alarm notifies (and its key's alias, `alias/<app>-<env>-alarms`). */
export function alarmTopicName(env: EnvNames): string {
  return `${clusterName(env)}-alarms`;
}

/** `<app>-<env>-<lane>-<kind>` for a lane's alarm, `<app>-<env>-controller-<kind>` for the controller's. */
export function alarmName(env: EnvNames, owner: string, kind: string): string {
  return `${clusterName(env)}-${owner}-${kind}`;
}

/**
 * `/aws/events/<app>-<env>/ecs-task-stopped`: where EventBridge writes the lanes'
 * crashed and failed-to-start tasks (EventBridge log targets live under /aws/events/).
 */
export function stoppedTasksLogGroupName(env: EnvNames): string {
  return `/aws/events/${clusterName(env)}/ecs-task-stopped`;
}

/** `<app>-<env>-ecs-task-stopped`: the EventBridge rule and the log resource policy that lets it write. */
export function stoppedTasksRuleName(env: EnvNames): string {
  return `${clusterName(env)}-ecs-task-stopped`;
}

/**
 * `<namespace>/<app>-<env>/<lane>`: the namespace of a lane's log-derived metrics
 * (StoppedTasks, RedisConnectionErrors, AuroraConnectionErrors, FailedJobs,
 * FinishedJobs). Metric filters cannot set fixed dimensions, so the environment
 * and lane are part of the namespace instead.
 */
export function logMetricNamespace(namespace: string, env: EnvNames, lane: string): string {
  return `${namespace}/${clusterName(env)}/${lane}`;
}
