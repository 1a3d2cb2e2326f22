/*
 * @queue-lanes/scaling: the `scaling` stack's per-lane scaling. Every lane, Redis
 * or SQS, is measured from stage baseline on and sized at scaling and owned by
 * the backlog controller Lambda (one per environment); SQS lanes' queues live
 * here too; lanes at stage baseline keep their fixed count.
 */
export { BacklogControllerFunction, type BacklogControllerFunctionProps } from './backlog-controller-function';
export { type ControllerArchive, type ControllerArchiveOptions } from './controller-archive';
export { type ControllerConfigOptions } from '@queue-lanes/contract/environment';
export type { PolicyDocument, PolicyStatement } from '@queue-lanes/iam-policy';
export { SqsLaneQueues, type SqsLaneQueuesProps } from './sqs-lane-queues';
export {
  WorkerScaling,
  workerScalingProps,
  type ScalingLane,
  type WorkerScalingProps,
  type WorkerScalingResources,
} from './worker-scaling';
export { type ZipEntry } from './zip';
