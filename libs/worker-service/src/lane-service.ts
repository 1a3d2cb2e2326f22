import { brokerOf } from '@queue-lanes/brokers';
import { SettingError, isScaled, type LaneConfig } from '@queue-lanes/config';
import type { Construct } from 'constructs';
import { DEFAULT_WORKER_COMMAND, renderCommand } from './command';
import { WORKER_ENTRY_SCRIPT, throughWorkerEntry } from './container';
import { WorkloadService, clusterTaskArns, workloadDefaults, type WorkloadContext, type WorkloadSpec } from './workload';

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
export class LaneService extends WorkloadService {
  /** The lane as configured. */
  readonly lane: LaneConfig;
  /** The queue:work command line of the first process group's containers (every container's, without groups), placeholders filled. */
  readonly command: readonly string[];
  /** Worker containers: `worker-1` … `worker-<workers>`, or `<group>-1` … per process group, each with its command. */
  readonly containers: readonly { readonly name: string; readonly command: readonly string[] }[];
  /** The containers' names. */
  readonly containerNames: readonly string[];
  /** Whether something other than Terraform (the scaling stack) owns desired_count. */
  readonly scaled: boolean;

  constructor(scope: Construct, id: string, props: LaneServiceProps) {
    super(scope, id, props, laneSpec(props));
    const { lane } = props;
    this.lane = lane;
    const containers = laneContainers(lane);
    this.command = containers[0].command;
    this.containers = containers;
    this.containerNames = containers.map((c) => c.name);
    this.scaled = isScaled(lane);
  }
}

/** What Terraform sets desired_count to (and, unless the lane is scaled or paused, holds it at). */
function laneDesiredCount(lane: LaneConfig): number {
  if (lane.sizedBy === 'off') return 0;
  return isScaled(lane) ? lane.tasks.min : lane.tasks.baseline;
}

/** The lane's workload: one container per process of each group, its sizing, its grants. */
function laneSpec(props: LaneServiceProps): WorkloadSpec {
  const { lane, env } = props;
  const containers = laneContainers(lane);
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
    worker: { protection: lane.scaleInProtection },
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
              // The worker entry point protects its own task while a job runs (ECS agent endpoint), so scale-in skips it.
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
  return spec;
}

/** One container per process of each group, each running queue:work on its group's queue chain. */
function laneContainers(lane: LaneConfig): { name: string; command: string[] }[] {
  // Each process group fills the template with its own queue chain and job settings.
  return lane.groups.flatMap((group) => {
    const command = renderCommand(lane.command ?? DEFAULT_WORKER_COMMAND, {
      ...lane,
      queues: group.queues,
      job: group.job,
      groups: [group],
    });
    if (!throughWorkerEntry(command)) {
      throw new SettingError(
        ['lanes', lane.name, 'command'],
        `${JSON.stringify(command.join(' '))} runs no artisan: a lane's workers run artisan through the queue-lanes worker entry point (${WORKER_ENTRY_SCRIPT}), which counts their jobs from Laravel's queue events; run php artisan queue:work`,
      );
    }
    return Array.from({ length: group.processes }, (_, i) => ({ name: `${group.name}-${i + 1}`, command }));
  });
}
