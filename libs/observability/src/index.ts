/*
 * @queue-lanes/observability: the scaling stack's dashboard, alarm topic, log
 * metric filters and alarms for the lanes and the backlog controller.
 */
export { AlarmTopic, type AlarmTopicProps } from './alarm-topic';
export {
  laneProcesses,
  type Annotation,
  type DashboardBody,
  type DashboardInput,
  type DashboardLane,
  type DashboardLaneConfig,
  type MetricWidgetProperties,
  type Widget,
} from './dashboard';
export {
  AURORA_ERROR_PATTERN,
  FAILED_JOB_PATTERN,
  FINISHED_JOB_PATTERN,
  REDIS_ERROR_PATTERN,
  jsonEquals,
  matchesFilterPattern,
} from './filter-patterns';
export {
  Observability,
  observabilityProps,
  type ControllerAlarms,
  type LaneAlarms,
  type LaneMetricFilters,
  type LaneObservability,
  type ObservabilityProps,
  type ObservabilityResources,
  type ObservedLane,
  type SchedulerAlarms,
} from './observability';
export { laneAlarmThresholds, type AlarmThresholds } from './thresholds';
