import { isScaled, type LaneConfig } from '@queue-lanes/config';
import type { CloudwatchLogGroup } from '@cdktf/provider-aws/lib/cloudwatch-log-group';
import type { EcsService } from '@cdktf/provider-aws/lib/ecs-service';
import type { EcsTaskDefinition } from '@cdktf/provider-aws/lib/ecs-task-definition';
import type { IamRole } from '@cdktf/provider-aws/lib/iam-role';
import type { IamRolePolicy } from '@cdktf/provider-aws/lib/iam-role-policy';
import { Construct } from 'constructs';
import { DEFAULT_WORKER_COMMAND, renderCommand } from './command';
import type { RuntimeVolume } from './container';
import { brokerOf } from '@queue-lanes/brokers';
import { serviceName } from '@queue-lanes/config';
import {
  clusterTaskArns,
  createWorkload,
  validateContext,
  validateSpec,
  workloadDefaults,
  type WorkloadContext,
  type WorkloadSpec,
} from './workload';

export interface LaneServiceProps extends WorkloadContext {
  /** The lane, at any stage (at `off` the service is kept at 0 tasks). */
  readonly lane: LaneConfig;
}

/**
 * One lane's ECS service on Fargate: a task definition running `workers`
 * queue:work containers, its log group, an execution role and a task role.
 *
 * Stage `off` holds the service at 0 tasks and keeps everything else, so the
 * logs, task definition and stop reasons of a rolled-back lane are still there
 * to diagnose; `baseline` fixes it at `tasks.baseline` tasks; `scaling` and
 * `owned` start at `tasks.min` and leave `desired_count` to the scaling stack
 * (lifecycle ignore_changes), so Terraform never fights the scaler.
 */
export class LaneService extends Construct {
  /** The lane as configured. */
  readonly lane: LaneConfig;
  /** `<app>-<lane>`. */
  readonly serviceName: string;
  /** The queue:work command line of the first process group's containers (every container's, without groups), placeholders filled. */
  readonly command: readonly string[];
  /** Worker containers: `worker-1` … `worker-<workers>`, or `<group>-1` … per process group, each with its command. */
  readonly containers: readonly { readonly name: string; readonly command: readonly string[] }[];
  /** The containers' names. */
  readonly containerNames: readonly string[];
  /** Hard memory limit of each worker container, MiB (task memory / workers). */
  readonly containerMemory: number;
  /** The count Terraform sets: 0 at off, tasks.baseline at baseline, tasks.min (the initial count only) when scaled. */
  readonly desiredCount: number;
  /** Whether something other than Terraform (the scaling stack) owns desired_count. */
  readonly scaled: boolean;
  /** The writable volumes every container mounts (the root filesystem is read-only). */
  readonly volumes: readonly RuntimeVolume[];

  /** `/ecs/<app>-<env>/<lane>`, KMS-encrypted, retention from `logs.retentionDays`. */
  readonly logGroup: CloudwatchLogGroup;
  /** Lets ECS pull the image, write the log group and read the parameters. */
  readonly executionRole: IamRole;
  /** ECR pull and log writing, on the execution role. */
  readonly executionPolicy: IamRolePolicy;
  /** The parameters lib's read policy, on the execution role. */
  readonly parameterReadPolicy: IamRolePolicy;
  /** The application's role: storage access, task scale-in protection, ECS Exec. */
  readonly taskRole: IamRole;
  /** The task role's policy; absent when the lane needs no AWS access. */
  readonly taskPolicy?: IamRolePolicy;
  readonly taskDefinition: EcsTaskDefinition;
  /** The lane service; the scaling stack targets `service.name` in the cluster. */
  readonly service: EcsService;

  constructor(scope: Construct, id: string, props: LaneServiceProps) {
    super(scope, id);
    const { lane, env } = props;
    validateContext(props);
    // Each process group fills the template with its own queue chain and job settings.
    const containers = lane.groups.flatMap((group) => {
      const command = renderCommand(lane.command ?? DEFAULT_WORKER_COMMAND, { ...lane, queues: group.queues, job: group.job });
      return Array.from({ length: group.processes }, (_, i) => ({ name: `${group.name}-${i + 1}`, command }));
    });
    const scaled = isScaled(lane);
    const spec: WorkloadSpec = {
      name: lane.name,
      tags: { lane: lane.name },
      cpu: lane.cpu,
      memory: lane.memory,
      architecture: lane.architecture,
      containers,
      containersKey: ['lanes', lane.name, lane.grouped ? 'groups' : 'workers'],
      stopTimeout: lane.stopTimeout,
      environment: { ...workloadDefaults(env), APP_ENV: env.environment, LANE: lane.name, LANE_QUEUES: lane.queues.join(',') },
      desiredCount: laneDesiredCount(lane),
      // Scaled lanes' counts belong to their scaler, a paused lane's to the operator.
      ignoreDesiredCount: scaled || lane.sizedBy === 'operator',
      minimumHealthyPercent: lane.deployment.minimumHealthyPercent,
      maximumPercent: lane.deployment.maximumPercent,
      capacity: lane.capacity,
      taskStatements: [
        ...(lane.scaleInProtection
          ? [
              {
                // Workers protect their own task while a job runs (ECS agent endpoint), so scale-in skips it.
                Sid: 'ProtectOwnTasks',
                Effect: 'Allow' as const,
                Action: ['ecs:GetTaskProtection', 'ecs:UpdateTaskProtection'],
                Resource: clusterTaskArns(env),
              },
            ]
          : []),
        ...brokerOf(lane).taskStatements(env, lane, props.kmsKeyArn),
      ],
    };
    validateSpec(env, spec, props.secrets);

    this.lane = lane;
    this.serviceName = serviceName(env, lane.name);
    this.command = containers[0].command;
    this.containers = containers;
    this.containerNames = containers.map((c) => c.name);
    this.desiredCount = spec.desiredCount;
    this.scaled = scaled;

    const r = createWorkload(this, props, spec);
    this.containerMemory = r.containerMemory;
    this.volumes = r.volumes;
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

/** What Terraform sets desired_count to (and, unless the lane is scaled or paused, holds it at). */
function laneDesiredCount(lane: LaneConfig): number {
  if (lane.sizedBy === 'off') return 0;
  return isScaled(lane) ? lane.tasks.min : lane.tasks.baseline;
}
