export { ConfigError, formatProblem, type Problem } from './errors';
export { environmentJsonSchema } from './json-schema';
export { loadEnvironment, parseEnvironment } from './load';
export { PRINT_PREFIX_COMMAND, derivedPrefixes } from './laravel';
export {
  ECS_EXEC,
  MAX_ROLE_NAME,
  SCHEDULER,
  alarmName,
  alarmTopicName,
  clusterName,
  controllerDeadLetterQueueName,
  controllerLogGroupName,
  controllerName,
  dashboardName,
  laneParameterName,
  deadLetterQueueName,
  laneScalingName,
  logGroupName,
  logMetricNamespace,
  parameterPathPrefix,
  queueName,
  roleName,
  scheduleDeadLetterQueueName,
  scheduleRoleName,
  serviceName,
  stackName,
  stoppedTasksLogGroupName,
  stoppedTasksRuleName,
  taskFamily,
} from './names';
export {
  controllerMeasuredLanes,
  isScaled,
  laneSizing,
  logGroupRetention,
  redisHost,
  stageIndex,
  type CapacityStrategyItem,
  type EnvironmentConfig,
  type LaneConfig,
  type LaneSizing,
  type ResolvedState,
  type SqsSettings,
} from './resolve';
export {
  ARCHITECTURES,
  BROKERS,
  CAPACITY_PROVIDERS,
  FARGATE_CPUS,
  FARGATE_MEMORY,
  STAGES,
  environmentSchema,
  type AlarmSubscription,
  type Broker,
  type EnvironmentInput,
  type Stage,
} from './schema';
export { SAMPLE_BLOCKS, sampleEnvironment } from './testing';
