export { type RuntimeVolume } from './container';
export { LaneService, type LaneServiceProps } from './lane-service';
export { SchedulerService, type SchedulerServiceProps } from './scheduler-service';
export { WorkerService, type WorkerServiceProps } from './worker-service';
export type { WorkloadContext } from './workload';
