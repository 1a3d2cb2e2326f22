import type { CloudwatchLogGroup } from '@cdktf/provider-aws/lib/cloudwatch-log-group';
import type { EcsService } from '@cdktf/provider-aws/lib/ecs-service';
import type { EcsTaskDefinition } from '@cdktf/provider-aws/lib/ecs-task-definition';
import type { IamRole } from '@cdktf/provider-aws/lib/iam-role';
import type { IamRolePolicy } from '@cdktf/provider-aws/lib/iam-role-policy';
import { Construct } from 'constructs';
import { SCHEDULER_COMMAND } from './command';
import { SCHEDULER, serviceName } from '@queue-lanes/config';
import { createWorkload, workloadDefaults, validateContext, validateSpec, type WorkloadContext, type WorkloadSpec } from './workload';

/** The scheduler container's name. */
export const SCHEDULER_CONTAINER = 'scheduler';

/**
 * Fargate allows at most 120 s between SIGTERM and SIGKILL; the scheduler uses
 * all of it so a scheduled command running in the foreground can finish.
 */
const SCHEDULER_STOP_TIMEOUT = 120;

export type SchedulerServiceProps = WorkloadContext;

/**
 * The Laravel scheduler as a singleton service `<app>-scheduler` running
 * `php artisan schedule:work`: exactly one task, never a scaling target, and
 * deployed stop-then-start (minimum healthy 0 %, maximum 100 %) so a rollout
 * never runs two schedulers at once. It runs on regular Fargate (an
 * interrupted Spot task would skip scheduled minutes) and x86_64.
 */
export class SchedulerService extends Construct {
  /** `<app>-scheduler`. */
  readonly serviceName: string;
  /** `php artisan schedule:work`. */
  readonly command: readonly string[];
  /** Always 1. */
  readonly desiredCount: number;

  /** `/ecs/<app>-<env>/scheduler`. */
  readonly logGroup: CloudwatchLogGroup;
  readonly executionRole: IamRole;
  readonly executionPolicy: IamRolePolicy;
  readonly parameterReadPolicy: IamRolePolicy;
  /** The application's role: storage access and ECS Exec, as the lanes have. */
  readonly taskRole: IamRole;
  readonly taskPolicy?: IamRolePolicy;
  readonly taskDefinition: EcsTaskDefinition;
  readonly service: EcsService;

  constructor(scope: Construct, id: string, props: SchedulerServiceProps) {
    super(scope, id);
    const { env } = props;
    if (!env.scheduler.service.enabled) {
      throw new Error('scheduler.service.enabled is false; create SchedulerService only when the scheduler runs on ECS');
    }
    validateContext(props);
    const spec: WorkloadSpec = {
      name: SCHEDULER,
      tags: {},
      cpu: env.scheduler.service.cpu,
      memory: env.scheduler.service.memory,
      architecture: 'x86_64',
      containers: [{ name: SCHEDULER_CONTAINER, command: SCHEDULER_COMMAND }],
      containersKey: ['scheduler', 'service'],
      stopTimeout: SCHEDULER_STOP_TIMEOUT,
      environment: { ...workloadDefaults(env), APP_ENV: env.environment },
      desiredCount: 1,
      ignoreDesiredCount: false,
      minimumHealthyPercent: 0,
      maximumPercent: 100,
      capacity: [{ provider: 'FARGATE', base: 0, weight: 1 }],
      taskStatements: [],
    };
    validateSpec(env, spec, props.secrets);

    this.serviceName = serviceName(env, SCHEDULER);
    this.command = SCHEDULER_COMMAND;
    this.desiredCount = 1;

    const r = createWorkload(this, props, spec);
    this.logGroup = r.logGroup;
    this.executionRole = r.executionRole;
    this.executionPolicy = r.executionPolicy;
    this.parameterReadPolicy = r.parameterReadPolicy;
    this.taskRole = r.taskRole;
    this.taskPolicy = r.taskPolicy;
    this.taskDefinition = r.taskDefinition;
    this.service = r.service;
  }
}
