/*
 * @queue-lanes/backlog-controller: the Lambda that measures Redis lanes'
 * backlogs, publishes them and sets the lanes' desired counts.
 *
 * This entry is for synth-time callers (the scaling and observability libs): the
 * configuration schema, metric names, Laravel's key layout, the pure decision and
 * bundleController. It loads neither ioredis nor the AWS SDK; the Lambda's own
 * entry is src/handler.ts, which bundleController builds.
 */
export {
  CONTROLLER_CONFIG_ENV,
  ControllerConfigError,
  DEFAULT_NAMESPACE,
  encodeControllerConfig,
  MAX_CONTROLLER_LANES,
  parseControllerConfig,
  type ControllerConfig,
  type ControllerConfigInput,
  type ControllerLaneConfig,
  type RedisConfig,
} from './config';
export {
  decide,
  type DecisionInput,
  type DecisionMode,
  type DecisionReason,
  type DrainHistory,
  type LaneBacklog,
  type LaneDecision,
  type LanePolicy,
  type LaneState,
} from './decide';
export { queueKeys, type QueueKeys } from './laravel';
export { DIMENSION, METRIC } from './metrics';
export { bundleController, type ControllerBundle } from './bundle';
export type { LaneReport, TickReport, WakeEvent } from './controller';
