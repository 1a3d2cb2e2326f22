/*
 * The controller's runtime, for callers that run it outside the Lambda (the
 * simulator): the class behind the handler and what it talks to. This entry loads
 * ioredis and the AWS SDK; synth-time callers use src/index.ts instead.
 */
export {
  AWS_CLIENT_OPTIONS,
  BacklogController,
  ControllerTickError,
  type ControllerDeps,
  type LaneReport,
  type TickReport,
} from './controller';
export type { RedisClient } from './redis';
