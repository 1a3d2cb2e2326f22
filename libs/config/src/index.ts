export { ConfigError, SettingError, formatProblem, type Problem } from './errors';
export { environmentJsonSchema } from './json-schema';
export { loadEnvironment, locateSettingError, parseEnvironment } from './load';

export {
  ECS_EXEC,
  MAX_ROLE_NAME,
  SCHEDULER,
  alarmName,
  alarmTopicName,
  clusterName,
  cloudWorkspaceName,
  controllerDeadLetterQueueName,
  controllerLogGroupName,
  controllerName,
  dashboardName,
  laneParameterName,
  runtimeParameterName,
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
  STACK_ROLES,
  stackName,
  stacksPattern,
  type StackRole,
  stoppedTasksLogGroupName,
  stoppedTasksRuleName,
  taskFamily,
} from './names';
export {
  controllerMeasuredLanes,
  isScaled,
  type JobSettings,
  type ProcessGroup,
  logGroupRetention,
  ON_DEMAND_CAPACITY,
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
  BROKERS,
  DEPLOYMENT_DEFAULTS,
  LANE_ALARM_LIMITS,
  STAGES,
  type AlarmSubscription,
  type Broker,
  type EnvironmentInput,
  type Stage,
} from './schema';
export { KEY_DELETION_WINDOW_DAYS, KMS_KEY_ARN, STATE_KMS_KEY, keyDeletionWindowProblem } from './kms';
export { NAME_PATTERN, NAME_RULE, PREFIX_LIST_ID, SECURITY_GROUP_ID, SUBNET_ID, VPC_ID } from './ids';
export { PHP_PROCESS_OVERHEAD_MIB, TASK_PROTECTION_OVERHEAD_MIB, containerMemoryLimit, maxWorkerMemory, phpMemoryLimit } from './memory';
