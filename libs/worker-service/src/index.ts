export { COMMAND_PLACEHOLDERS, DEFAULT_WORKER_COMMAND, SCHEDULER_COMMAND, healthCheckCommand, renderCommand } from './command';
export { ECS_EXEC_DIRECTORIES, INIT_CONTAINER, RUNTIME_DIRECTORIES, type RuntimeVolume } from './container';
export { LaneService, type LaneServiceProps } from './lane-service';
export { SCHEDULER_CONTAINER, SchedulerService, type SchedulerServiceProps } from './scheduler-service';
export { WorkerService, type WorkerServiceProps } from './worker-service';
export type { WorkloadContext } from './workload';
