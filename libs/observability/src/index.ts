/*
 * @queue-lanes/observability: the scaling stack's dashboard, alarm topic, log
 * metric filters and alarms for the lanes and the backlog controller.
 */
export { AlarmTopic, type AlarmTopicProps } from './alarm-topic';
export {
  LOG_METRIC,
  dashboardBody,
  laneProcesses,
  type Annotation,
  type DashboardBody,
  type DashboardInput,
  type DashboardLane,
  type MetricWidgetProperties,
  type Widget,
} from './dashboard';
export {
  AURORA_ERROR_PATTERN,
  AURORA_ERROR_PHRASES,
  FAILED_JOB_PATTERN,
  FAILED_JOB_REGEX,
  FINISHED_JOB_PATTERN,
  FINISHED_JOB_REGEX,
  REDIS_ERROR_PATTERN,
  REDIS_ERROR_PHRASES,
  anyPhrase,
  jsonEquals,
  matchesFilterPattern,
  regexPattern,
} from './filter-patterns';
export { DEFAULT_NAMESPACE } from '@queue-lanes/backlog-controller';
export {
  CONTROLLER_FAILING_MINUTES,
  CONTROLLER_SILENT_MINUTES,
  CRASH_STOP_CODES,
  Observability,
  type ControllerAlarms,
  type LaneAlarms,
  type LaneMetricFilters,
  type LaneObservability,
  type ObservabilityProps,
  type SchedulerAlarms,
} from './observability';
export {
  CONNECTION_ERROR_MINUTES,
  FAILED_JOB_MINUTES,
  MIN_DEFAULT_OLDEST_JOB_SECONDS,
  OLDEST_JOB_MINUTES,
  laneAlarmThresholds,
  type AlarmThresholds,
} from './thresholds';
