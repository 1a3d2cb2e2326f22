import { LANE_ALARM_LIMITS, type LaneConfig } from '@queue-lanes/config';

/** A lane's alarm thresholds, every one resolved (`lanes.<lane>.alarms` in the environment file). */
export interface AlarmThresholds {
  /** Backlog (ready + reserved + due delayed jobs) above which the backlog alarm fires. */
  readonly backlog: number;
  /** Minutes in a row the backlog must stay above {@link backlog}. */
  readonly backlogMinutes: number;
  /** Age of the oldest ready job, seconds, above which the oldest-job alarm fires. */
  readonly oldestJobSeconds: number;
  /** Tasks that may stop on their own within {@link restartWindowMinutes}; one more fires the restarts alarm. */
  readonly restarts: number;
  readonly restartWindowMinutes: number;
  /** Redis (or Aurora) connection-error log lines within 5 minutes that fire redis-errors (aurora-errors). */
  readonly connectionErrors: number;
  /** Failed job attempts a minute that, for {@link FAILED_JOB_MINUTES} minutes in a row, fire failed-jobs. */
  readonly failedJobsPerMinute: number;
}

/** The window of the Redis and Aurora connection-error alarms, minutes. */
export const CONNECTION_ERROR_MINUTES = 5;
/** Minutes in a row the failed-job rate must hold. */
export const FAILED_JOB_MINUTES = 5;
/** Minutes in a row the oldest ready job must be over its limit (the age already says how long it waited). */
export const OLDEST_JOB_MINUTES = 3;
/** The oldest-job default never goes below this: room for a cold start from zero tasks and a queue of short jobs. */
export const MIN_DEFAULT_OLDEST_JOB_SECONDS = 900;

/**
 * The lane's thresholds with the derived defaults filled in:
 * - backlog: backlogPerTask × the most tasks the lane runs (tasks.baseline at stage
 *   baseline, tasks.max when scaled), i.e. more work than the lane is sized for;
 * - oldestJobSeconds: 10 × job.timeout, at least 900 s, so a cold start plus a few
 *   of the longest allowed jobs ahead of the oldest one stay below it.
 * (Resolved here rather than in libs/config, so a derived default never shows up as
 * a lane change in the rollout guard.)
 */
export function laneAlarmThresholds(
  lane: Pick<LaneConfig, 'alarms' | 'stage' | 'tasks' | 'backlogPerTask' | 'longestJobTimeout'>,
): AlarmThresholds {
  const { backlog, oldestJobSeconds, ...rest } = lane.alarms;
  const ceiling = lane.stage === 'baseline' ? lane.tasks.baseline : lane.tasks.max;
  return {
    ...rest,
    backlog: backlog ?? lane.backlogPerTask * Math.max(1, ceiling),
    oldestJobSeconds: oldestJobSeconds ?? Math.max(MIN_DEFAULT_OLDEST_JOB_SECONDS, 10 * lane.longestJobTimeout),
  };
}

/** Problems with thresholds given by a caller that did not come through the config schema. */
export function thresholdProblems(lane: string, t: AlarmThresholds): string[] {
  const limits: Readonly<Record<keyof AlarmThresholds, readonly [number, number]>> = LANE_ALARM_LIMITS;
  const problems: string[] = [];
  for (const key of Object.keys(limits) as (keyof AlarmThresholds)[]) {
    const [min, max] = limits[key];
    const value = t[key];
    if (!Number.isInteger(value) || value < min || value > max) {
      problems.push(`lanes.${lane}.alarms.${key}: ${value} is not a whole number from ${min} to ${max}`);
    }
  }
  return problems;
}
