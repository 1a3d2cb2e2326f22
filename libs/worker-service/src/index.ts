export { type RuntimeVolume } from './container';
export { LaneService, type LaneServiceProps, type LaneSettings } from './lane-service';
export { SchedulerService, type SchedulerServiceProps, type SchedulerSettings } from './scheduler-service';
export { WorkerService, workerServiceProps, type WorkerServiceProps, type WorkerServiceResources } from './worker-service';
export type { WorkloadContext, WorkloadImage, WorkloadSettings, WorkloadStorage } from './workload';
