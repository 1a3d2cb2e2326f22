/*
 * @queue-lanes/scaling: the `scaling` stack's per-lane scaling. Redis lanes are
 * measured from stage baseline on and sized at scaling and owned by the backlog
 * controller Lambda (one per environment), SQS lanes by App Auto Scaling on their
 * queue's backlog; lanes at stage baseline keep their fixed count.
 */
export {
  BacklogController,
  CONTROLLER_MEMORY_MB,
  CONTROLLER_RUNTIME,
  CONTROLLER_TIMEOUT_SECONDS,
  SCHEDULE_EXPRESSION,
  type BacklogControllerProps,
} from './backlog-controller';
export {
  controllerArchive,
  findWorkspaceRoot,
  inputsHash,
  type ControllerArchive,
  type ControllerArchiveOptions,
} from './controller-archive';
export { buildControllerConfig, validateControllerConfig, type ControllerConfigOptions } from './controller-config';
export type { PolicyDocument, PolicyStatement } from '@queue-lanes/iam-policy';
export { ECS_SCALING, IDLE_BACKLOG_PER_TASK, SqsLaneScaling, type SqsLaneScalingProps } from './sqs-lane-scaling';
export { WorkerScaling, type WorkerScalingProps } from './worker-scaling';
export { deterministicZip, type ZipEntry } from './zip';
