/*
 * @queue-lanes/scaling: the `scaling` stack's per-lane scaling. Redis lanes are
 * measured from stage baseline on and sized at scaling and owned by the backlog
 * controller Lambda (one per environment), SQS lanes by App Auto Scaling on their
 * queue's backlog; lanes at stage baseline keep their fixed count.
 */
export { BacklogControllerFunction, type BacklogControllerFunctionProps } from './backlog-controller-function';
export { type ControllerArchive, type ControllerArchiveOptions } from './controller-archive';
export { type ControllerConfigOptions } from '@queue-lanes/contract/environment';
export type { PolicyDocument, PolicyStatement } from '@queue-lanes/iam-policy';
export { SqsLaneScaling, type SqsLaneScalingProps } from './sqs-lane-scaling';
export { WorkerScaling, type WorkerScalingProps } from './worker-scaling';
export { type ZipEntry } from './zip';
