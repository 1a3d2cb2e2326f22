/*
 * Metric names and dimensions: what the controller publishes and reads back, what
 * the workers' log lines are counted as, and what the dashboard, alarms, status
 * screen and cost report read. Declared once here, below every one of them.
 */

/** Metric names, per lane (dimensions Environment, Lane) unless noted. */
export const METRIC = {
  ready: 'Ready',
  reserved: 'Reserved',
  delayed: 'Delayed',
  delayedDue: 'DelayedDue',
  backlog: 'Backlog',
  oldestReadyAgeSeconds: 'OldestReadyAgeSeconds',
  /** The oldest job a worker could run now: ready head, due delayed job, expired reservation. */
  oldestRunnableAgeSeconds: 'OldestRunnableAgeSeconds',
  /** Reservations no worker holds and Laravel never hands out again (retry_after null). */
  stuckReserved: 'StuckReserved',
  /** 1 while every queue of the lane reads absent and its keys were found under another prefix. */
  keysUnderOtherPrefix: 'KeysUnderOtherPrefix',
  /** SQS lanes: messages in the lane's dead-letter queue (received maxReceiveCount times, never deleted). */
  deadLetters: 'DeadLetters',
  /** Per environment (dimension Environment only): 1 for a failed tick, 0 for a good one. */
  controllerErrors: 'ControllerErrors',
} as const;

export const DIMENSION = { environment: 'Environment', lane: 'Lane' } as const;

/** Log-derived metric names (namespace `<namespace>/<app>-<env>/<lane>`). */
export const LOG_METRIC = {
  stoppedTasks: 'StoppedTasks',
  redisErrors: 'RedisConnectionErrors',
  auroraErrors: 'AuroraConnectionErrors',
  /** Job attempts that threw or failed (the worker entry point's job lines, `error` true). */
  failedJobs: 'FailedJobs',
  /** Every job attempt that ended (the worker entry point's job lines): the backlog controller's activity signal. */
  finishedJobs: 'FinishedJobs',
  /** Seconds each attempt ran (percentiles against job.timeout). */
  jobRuntime: 'JobRuntime',
  /** Each attempt's peak PHP memory, MiB (percentiles against job.memory and memory_limit). */
  jobPeakMemory: 'JobPeakMemory',
  /** Attempts by Queue and Outcome (finished, released, failed). */
  jobAttempts: 'JobAttempts',
} as const;
