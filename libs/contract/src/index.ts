/*
 * @queue-lanes/contract: what the stacks write and the backlog controller reads,
 * declared once, below both. The controller's configuration schema (its lane
 * policy and bounds), metric names and dimensions, Laravel's Redis key layout and
 * the controller's clock. The Lambda bundles this entry, so it loads no cdktf,
 * no zod classic API and no AWS SDK.
 */
export {
  CONTROLLER_BROKERS,
  CONTROLLER_CONFIG_ENV,
  ControllerConfigError,
  DEFAULT_NAMESPACE,
  DEFLATED_CONFIG_PREFIX,
  encodeControllerConfig,
  MAX_CONTROLLER_LANES,
  parseControllerConfig,
  type ControllerBroker,
  type ControllerConfig,
  type ControllerConfigInput,
  type ControllerLaneConfig,
  type RedisConfig,
} from './controller-config';
export { DIMENSION, LOG_METRIC, METRIC } from './metrics';
export { hasHashTag, parseQueueKey, payloadQueuedAt, queueKeys, type QueueKeys } from './laravel';
export { COLD_PICKUP_SECONDS, TASK_START_SECONDS, TICK_SECONDS } from './timing';
