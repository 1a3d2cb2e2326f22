/*
 * @queue-lanes/backlog-controller: the Lambda that measures lanes' backlogs,
 * Redis and SQS, publishes them and sets the lanes' desired counts.
 *
 * This entry is for the two projects that take the Lambda itself: the scaling lib,
 * which packages it (bundleController), and the simulator, which drives it. What
 * the stacks and the Lambda agree on (its configuration, metric names, Laravel's
 * key layout) is @queue-lanes/contract's. This entry loads neither ioredis nor the
 * AWS SDK; the Lambda's own entry is src/handler.ts, which bundleController builds.
 */
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
export { CONTROLLER_ENTRY, bundleController, type ControllerBundle } from './bundle';
export type { LaneReport, TickReport, WakeEvent } from './controller';
