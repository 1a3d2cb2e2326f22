import { SCHEDULER } from '@queue-lanes/config';
import type { Construct } from 'constructs';
import { SCHEDULER_COMMAND } from './command';
import { WorkloadService, workloadDefaults, type WorkloadContext, type WorkloadSpec } from './workload';

/** The scheduler container's name. */
export const SCHEDULER_CONTAINER = 'scheduler';

/**
 * Fargate allows at most 120 s between SIGTERM and SIGKILL; the scheduler uses
 * all of it so a scheduled command running in the foreground can finish.
 */
const SCHEDULER_STOP_TIMEOUT = 120;

/** The scheduler task's size. */
export interface SchedulerSettings {
  /** The scheduler task's CPU units (256, 512 or 1024). */
  readonly cpu: number;
  /** The scheduler task's memory, MiB. */
  readonly memory: number;
}

export interface SchedulerServiceProps extends WorkloadContext {
  /** The scheduler task's size. */
  readonly scheduler: SchedulerSettings;
}

/**
 * The Laravel scheduler as a singleton service `<app>-scheduler` running
 * `php artisan schedule:work`: exactly one task, never a scaling target, and
 * deployed stop-then-start (minimum healthy 0 %, maximum 100 %) so a rollout
 * never runs two schedulers at once. It runs on regular Fargate (an
 * interrupted Spot task would skip scheduled minutes) and x86_64.
 */
export class SchedulerService extends WorkloadService {
  /** `php artisan schedule:work`. */
  readonly command: readonly string[];

  constructor(scope: Construct, id: string, props: SchedulerServiceProps) {
    super(scope, id, props, schedulerSpec(props));
    this.command = SCHEDULER_COMMAND;
  }
}

/** One scheduler container on regular Fargate, replaced stop-then-start. */
function schedulerSpec(props: SchedulerServiceProps): WorkloadSpec {
  const spec: WorkloadSpec = {
    name: SCHEDULER,
    tags: {},
    cpu: props.scheduler.cpu,
    memory: props.scheduler.memory,
    architecture: 'x86_64',
    containers: [{ name: SCHEDULER_CONTAINER, command: SCHEDULER_COMMAND }],
    containersKey: ['scheduler', 'service'],
    stopTimeout: SCHEDULER_STOP_TIMEOUT,
    environment: { ...workloadDefaults(props), APP_ENV: props.environment },
    desiredCount: 1,
    ignoreDesiredCount: false,
    minimumHealthyPercent: 0,
    maximumPercent: 100,
    capacity: [{ provider: 'FARGATE', base: 0, weight: 1 }],
    taskStatements: [],
  };
  return spec;
}
