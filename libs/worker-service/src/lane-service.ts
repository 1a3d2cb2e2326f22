import { brokerOf } from '@queue-lanes/brokers';
import {
  DEPLOYMENT_DEFAULTS,
  ON_DEMAND_CAPACITY,
  SettingError,
  isScaled,
  type Broker,
  type CapacityStrategyItem,
  type LaneSizing,
  type ProcessGroup,
  type Stage,
} from '@queue-lanes/config';
import type { Construct } from 'constructs';
import { DEFAULT_WORKER_COMMAND, renderCommand } from './command';
import { WORKER_ENTRY_SCRIPT, throughWorkerEntry } from './container';
import { WorkloadService, clusterTaskArns, workloadDefaults, type WorkloadContext, type WorkloadSpec } from './workload';

/** What a lane service reads of one lane (libs/config resolves it from the file's `lanes.<lane>`). */
export interface LaneSettings {
  /** The lane's name: the last part of its service, family, role and log group names, and its LANE variable. */
  readonly name: string;
  /** Every queue the lane consumes, in priority order: its LANE_QUEUES variable. */
  readonly queues: readonly string[];
  /** The process groups: one container per process, each running queue:work on its group's queues and job settings. */
  readonly groups: readonly ProcessGroup[];
  /**
   * Whether the file gives `groups`: an over-size task definition then points at `groups`, else at `workers`.
   * @default false
   */
  readonly grouped?: boolean;
  /**
   * The command template each container runs (placeholders in ./command).
   * @default DEFAULT_WORKER_COMMAND, one queue:work per container
   */
  readonly command?: readonly string[];
  /** The Laravel queue connection passed to queue:work. */
  readonly connection: string;
  /** Where the lane's jobs wait: an SQS lane's task role may use its own queue. */
  readonly broker: Broker;
  /** The rollout stage: at `scaling` and `owned` the scaling stack owns desired_count. */
  readonly stage: Stage;
  /** Who sets the task count: `off` holds 0 tasks, `operator` (a paused lane) leaves the count alone. */
  readonly sizedBy: LaneSizing;
  /** Task counts: `baseline` at stage baseline, `min` the start of a scaled lane. */
  readonly tasks: { readonly baseline: number; readonly min: number };
  /** Task CPU units, a Fargate size. */
  readonly cpu: number;
  /** Task memory, MiB; each container gets an equal share as its hard limit. */
  readonly memory: number;
  /** The image's CPU architecture. */
  readonly architecture: 'x86_64' | 'arm64';
  /** Seconds between SIGTERM and SIGKILL; Fargate allows at most 120. */
  readonly stopTimeout: number;
  /**
   * The worker entry point protects the task from scale-in while a job runs.
   * @default false
   */
  readonly scaleInProtection?: boolean;
  /**
   * Deployment bounds, percent of the desired count.
   * @default DEPLOYMENT_DEFAULTS (libs/config: ECS's 100 minimum healthy, 200 maximum)
   */
  readonly deployment?: { readonly minimumHealthyPercent: number; readonly maximumPercent: number };
  /**
   * The capacity provider strategy.
   * @default ON_DEMAND_CAPACITY (libs/config: FARGATE only)
   */
  readonly capacity?: readonly CapacityStrategyItem[];
}

export interface LaneServiceProps extends WorkloadContext {
  /** The lane, at any stage (at `off` the service is kept at 0 tasks). */
  readonly lane: LaneSettings;
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
  /** The lane as given. */
  readonly lane: LaneSettings;
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
function laneDesiredCount(lane: LaneSettings): number {
  if (lane.sizedBy === 'off') return 0;
  return isScaled(lane) ? lane.tasks.min : lane.tasks.baseline;
}

/** The lane's workload: one container per process of each group, its sizing, its grants. */
function laneSpec(props: LaneServiceProps): WorkloadSpec {
  const { lane } = props;
  const containers = laneContainers(lane);
  const scaled = isScaled(lane);
  const deployment = lane.deployment ?? DEPLOYMENT_DEFAULTS;
  const protection = lane.scaleInProtection ?? false;
  const spec: WorkloadSpec = {
    name: lane.name,
    tags: { lane: lane.name },
    cpu: lane.cpu,
    memory: lane.memory,
    architecture: lane.architecture,
    containers,
    containersKey: ['lanes', lane.name, lane.grouped === true ? 'groups' : 'workers'],
    stopTimeout: lane.stopTimeout,
    worker: { protection },
    environment: { ...workloadDefaults(props), APP_ENV: props.environment, LANE: lane.name, LANE_QUEUES: lane.queues.join(',') },
    desiredCount: laneDesiredCount(lane),
    // Scaled lanes' counts belong to their scaler, a paused lane's to the operator.
    ignoreDesiredCount: scaled || lane.sizedBy === 'operator',
    minimumHealthyPercent: deployment.minimumHealthyPercent,
    maximumPercent: deployment.maximumPercent,
    capacity: lane.capacity ?? ON_DEMAND_CAPACITY,
    taskStatements: [
      ...(protection
        ? [
            {
              // The worker entry point protects its own task while a job runs (ECS agent endpoint), so scale-in skips it.
              Sid: 'ProtectOwnTasks',
              Effect: 'Allow' as const,
              Action: ['ecs:GetTaskProtection', 'ecs:UpdateTaskProtection'],
              Resource: clusterTaskArns(props),
            },
          ]
        : []),
      ...brokerOf(lane).taskStatements(props, lane, props.kmsKeyArn),
    ],
  };
  return spec;
}

/** One container per process of each group, each running queue:work on its group's queue chain. */
function laneContainers(lane: LaneSettings): { name: string; command: string[] }[] {
  // Each process group fills the template with its own queue chain and job settings.
  return lane.groups.flatMap((group) => {
    const command = renderCommand(lane.command ?? DEFAULT_WORKER_COMMAND, {
      name: lane.name,
      connection: lane.connection,
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
