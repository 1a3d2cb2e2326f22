import type { Dimension, MetricDataQuery, MetricDataResult, MetricDatum } from '@aws-sdk/client-cloudwatch';
import { DIMENSION, METRIC } from '@queue-lanes/contract';
import { FAILING_WINDOW_MINUTES, backlogOf, type DrainHistory, type RecentAttempts } from './decide';
import type { LaneReading } from './redis';
import type { SqsLaneReading } from './sqs';

/*
 * The controller's CloudWatch metrics: what each tick publishes (one
 * PutMetricData), and how the drain window is read back from them
 * (GetMetricData), which keeps the function stateless.
 */

/** The one-minute resolution the drain window is read at. */
const PERIOD_SECONDS = 60;

export function laneDimensions(environment: string, lane: string): Dimension[] {
  return [
    { Name: DIMENSION.environment, Value: environment },
    { Name: DIMENSION.lane, Value: lane },
  ];
}

/**
 * A tick's metrics: nine per lane (an age is left out while it is unknown;
 * CloudWatch has no "unknown"; an SQS lane has DeadLetters where a Redis lane
 * has KeysUnderOtherPrefix), and ControllerErrors.
 */
export function tickMetricData(
  environment: string,
  readings: readonly LaneReading[] | undefined,
  failed: boolean,
  timestamp: Date,
  keysElsewhere: (lane: string) => boolean = () => false,
): MetricDatum[] {
  const data: MetricDatum[] = [];
  for (const r of readings ?? []) {
    const Dimensions = laneDimensions(environment, r.lane);
    const add = (MetricName: string, Value: number, Unit: 'Count' | 'Seconds' = 'Count') =>
      data.push({ MetricName, Dimensions, Value, Unit, Timestamp: timestamp });
    add(METRIC.ready, r.ready);
    add(METRIC.reserved, r.reserved);
    add(METRIC.delayed, r.delayed);
    add(METRIC.delayedDue, r.delayedDue);
    add(METRIC.backlog, backlogOf(r));
    if (r.oldestReadyAgeSeconds !== undefined) add(METRIC.oldestReadyAgeSeconds, r.oldestReadyAgeSeconds, 'Seconds');
    if (r.oldestRunnableAgeSeconds !== undefined) add(METRIC.oldestRunnableAgeSeconds, r.oldestRunnableAgeSeconds, 'Seconds');
    add(METRIC.stuckReserved, r.stuckReserved);
    if (isSqsReading(r)) add(METRIC.deadLetters, r.deadLetters);
    else add(METRIC.keysUnderOtherPrefix, keysElsewhere(r.lane) ? 1 : 0);
  }
  data.push({
    MetricName: METRIC.controllerErrors,
    Dimensions: [{ Name: DIMENSION.environment, Value: environment }],
    Value: failed ? 1 : 0,
    Unit: 'Count',
    Timestamp: timestamp,
  });
  return data;
}

/** Whether the reading is an SQS lane's (it counts its dead letters). */
export function isSqsReading(reading: LaneReading): reading is SqsLaneReading {
  return 'deadLetters' in reading;
}

/** A lane whose drain window is to be read. */
export interface HistoryRequest {
  readonly lane: string;
  readonly drainMinutes: number;
  /** Where the lane's finished job attempts are counted (its workers' job lines), if anywhere. */
  readonly finishedJobs?: { readonly namespace: string; readonly name: string };
}

/** One GetMetricData request covering every lane's window (the longest one; each lane is cut to its own). */
export interface HistoryQuery {
  readonly startTime: Date;
  readonly endTime: Date;
  readonly queries: MetricDataQuery[];
}

/**
 * Maximum of Backlog and of Delayed per minute, from the start of the minute
 * `drainMinutes` before now up to now: the previous ticks only, since this
 * tick publishes after it decides.
 */
export function historyQuery(namespace: string, environment: string, lanes: readonly HistoryRequest[], now: Date): HistoryQuery {
  const longest = Math.max(...lanes.map((l) => l.drainMinutes));
  const stat =
    (Stat: 'Maximum' | 'Sum') =>
    (Id: string, metric: NonNullable<MetricDataQuery['MetricStat']>['Metric']): MetricDataQuery => ({
      Id,
      MetricStat: { Metric: metric, Period: PERIOD_SECONDS, Stat },
      ReturnData: true,
    });
  const [maximum, sum] = [stat('Maximum'), stat('Sum')];
  const queries = lanes.flatMap((lane, i): MetricDataQuery[] => [
    maximum(`b${i}`, { Namespace: namespace, MetricName: METRIC.backlog, Dimensions: laneDimensions(environment, lane.lane) }),
    maximum(`d${i}`, { Namespace: namespace, MetricName: METRIC.delayed, Dimensions: laneDimensions(environment, lane.lane) }),
    ...(lane.finishedJobs ? [sum(`f${i}`, { Namespace: lane.finishedJobs.namespace, MetricName: lane.finishedJobs.name })] : []),
  ]);
  return { startTime: windowStart(now, longest), endTime: now, queries };
}

function windowStart(now: Date, minutes: number): Date {
  const minute = Math.floor(now.getTime() / 60_000) * 60_000;
  return new Date(minute - minutes * 60_000);
}

/** Throws when CloudWatch reports it could not answer a query: data it cannot vouch for is not data. */
function answered(result: MetricDataResult): void {
  if (result.StatusCode === 'InternalError' || result.StatusCode === 'Forbidden') {
    throw new Error(`GetMetricData could not answer ${result.Id}: ${result.StatusCode}`);
  }
}

type Series = { timestamps: number[]; values: number[] };
/** A metric's value per unix minute. */
type PerMinute = Map<number, number>;

/**
 * Each lane's DrainHistory from the GetMetricData results (all pages). Throws if
 * CloudWatch reports a query it could not answer: history it cannot vouch for is
 * not history.
 */
export function drainHistories(
  lanes: readonly HistoryRequest[],
  results: readonly MetricDataResult[],
  now: Date,
): Map<string, DrainHistory> {
  const series = seriesById(results);
  const histories = new Map<string, DrainHistory>();
  lanes.forEach((lane, i) => {
    const from = windowStart(now, lane.drainMinutes).getTime();
    const cut = (id: string) => perMinute(series.get(id), from, now.getTime());
    const [backlog, delayed, finished] = [cut(`b${i}`), cut(`d${i}`), cut(`f${i}`)];
    const max = (m: PerMinute) => Math.max(0, ...m.values());
    histories.set(lane.lane, {
      minutesWithData: Math.min(backlog.size, delayed.size),
      maxBacklog: max(backlog),
      maxDelayed: max(delayed),
      ...(lane.finishedJobs
        ? { maxFinished: max(finished), ...activity(backlog, finished, Math.floor(from / 60_000), Math.floor(now.getTime() / 60_000) - 1) }
        : {}),
    });
  });
  return histories;
}

/** Every result's datapoints by query id, pages joined. */
function seriesById(results: readonly MetricDataResult[]): Map<string, Series> {
  const series = new Map<string, Series>();
  for (const result of results) {
    answered(result);
    const entry = series.get(result.Id!) ?? { timestamps: [], values: [] };
    (result.Timestamps ?? []).forEach((t, i) => {
      entry.timestamps.push(t.getTime());
      entry.values.push(result.Values?.[i] ?? Number.NaN);
    });
    series.set(result.Id!, entry);
  }
  return series;
}

/** Per minute from `from` up to (not including) `to`: the series' maximum, missing minutes absent, a value CloudWatch could not give read as infinite. */
function perMinute(series: Series | undefined, from: number, to: number): PerMinute {
  const byMinute: PerMinute = new Map();
  series?.timestamps.forEach((t, j) => {
    if (t < from || t >= to) return;
    const minute = Math.floor(t / 60_000);
    const value = Number.isFinite(series.values[j]) ? series.values[j] : Number.POSITIVE_INFINITY;
    byMinute.set(minute, Math.max(byMinute.get(minute) ?? 0, value));
  });
  return byMinute;
}

/**
 * The window's runs of active minutes (backlog, or a job finished) from minute
 * `first` to `last`, and the idle stretches around them (see DrainHistory).
 */
function activity(
  backlog: PerMinute,
  finished: PerMinute,
  first: number,
  last: number,
): Pick<DrainHistory, 'activeRuns' | 'idleMinutes' | 'idleGaps' | 'leadingIdle' | 'arrivals'> {
  let [runs, idle, arrivals] = [0, 0, 0];
  const gaps: number[] = [];
  let leading: number | undefined;
  // Jobs that arrived while a run went on: each run's finished jobs beyond those it
  // started with (its first minute's backlog, and the jobs that finished in that
  // minute before the tick read it).
  let [startBacklog, runFinished] = [0, 0];
  for (let minute = first; minute <= last; minute += 1) {
    const active = (backlog.get(minute) ?? 0) > 0 || (finished.get(minute) ?? 0) > 0;
    if (active && (minute === first || idle > 0)) {
      runs += 1;
      arrivals += Math.max(0, runFinished - startBacklog);
      [startBacklog, runFinished] = [(backlog.get(minute) ?? 0) + (finished.get(minute) ?? 0), 0];
      if (idle > 0 && runs > 1) gaps.push(idle);
      if (idle > 0 && runs === 1) leading = idle;
    }
    if (active) runFinished += finished.get(minute) ?? 0;
    idle = active ? 0 : idle + 1;
  }
  return {
    activeRuns: runs,
    idleMinutes: idle,
    idleGaps: gaps,
    ...(leading !== undefined ? { leadingIdle: leading } : {}),
    arrivals: arrivals + Math.max(0, runFinished - startBacklog),
  };
}

/** A lane whose recent attempts are read: where its job lines, and those of attempts that threw or failed, are counted. */
export interface AttemptsRequest {
  readonly lane: string;
  readonly finishedJobs: { readonly namespace: string; readonly name: string };
  readonly failedJobs: { readonly namespace: string; readonly name: string };
  /**
   * An SQS lane's dead letters now, and where the controller published them: the
   * messages that reached the dead-letter queue over the window are attempts that
   * failed without a FAIL line (a worker killed mid-job, maxReceiveCount times).
   */
  readonly deadLetters?: { readonly namespace: string; readonly environment: string; readonly now: number };
}

/** Sums of finished and failed attempts over the last FAILING_WINDOW_MINUTES whole minutes, one query of each per lane. */
export function attemptsQuery(lanes: readonly AttemptsRequest[], now: Date): HistoryQuery {
  const sum = (Id: string, metric: { readonly namespace: string; readonly name: string }): MetricDataQuery => ({
    Id,
    MetricStat: { Metric: { Namespace: metric.namespace, MetricName: metric.name }, Period: PERIOD_SECONDS, Stat: 'Sum' },
    ReturnData: true,
  });
  return {
    startTime: windowStart(now, FAILING_WINDOW_MINUTES),
    endTime: now,
    queries: lanes.flatMap((lane, i) => [
      sum(`n${i}`, lane.finishedJobs),
      sum(`x${i}`, lane.failedJobs),
      ...(lane.deadLetters ? [deadLettersQuery(`q${i}`, lane.lane, lane.deadLetters)] : []),
    ]),
  };
}

/** The least DeadLetters the controller published per minute over the window. */
function deadLettersQuery(Id: string, lane: string, at: NonNullable<AttemptsRequest['deadLetters']>): MetricDataQuery {
  const metric = { Namespace: at.namespace, MetricName: METRIC.deadLetters, Dimensions: laneDimensions(at.environment, lane) };
  return { Id, MetricStat: { Metric: metric, Period: PERIOD_SECONDS, Stat: 'Minimum' }, ReturnData: true };
}

/**
 * Each lane's attempts from the GetMetricData results; throws if CloudWatch could
 * not answer a query. An SQS lane's dead letters added since the window's fewest
 * count as failed attempts that finished.
 */
export function recentAttempts(lanes: readonly AttemptsRequest[], results: readonly MetricDataResult[]): Map<string, RecentAttempts> {
  const totals = new Map<string, number>();
  const least = new Map<string, number>();
  for (const result of results) {
    answered(result);
    const values = (result.Values ?? []).filter((v) => Number.isFinite(v));
    totals.set(result.Id!, (totals.get(result.Id!) ?? 0) + values.reduce((a, b) => a + b, 0));
    if (values.length > 0) least.set(result.Id!, Math.min(least.get(result.Id!) ?? Infinity, ...values));
  }
  return new Map(
    lanes.map((lane, i) => {
      const grown = lane.deadLetters ? Math.max(0, lane.deadLetters.now - (least.get(`q${i}`) ?? lane.deadLetters.now)) : 0;
      return [lane.lane, { finished: (totals.get(`n${i}`) ?? 0) + grown, failed: (totals.get(`x${i}`) ?? 0) + grown }];
    }),
  );
}

/** Minutes an SQS lane's running jobs are looked back on (see {@link runningQuery}). */
export const RUNNING_LOOKBACK_MINUTES = 30;

/** An SQS lane whose running jobs' age is read: where its finished attempts are counted. */
export interface RunningRequest {
  readonly lane: string;
  readonly finishedJobs: { readonly namespace: string; readonly name: string };
}

/**
 * Per lane, the least Reserved the controller published each minute and the
 * finished attempts (DONE and FAIL lines) each minute, over RUNNING_LOOKBACK_MINUTES.
 */
export function runningQuery(namespace: string, environment: string, lanes: readonly RunningRequest[], now: Date): HistoryQuery {
  const stat = (Id: string, Metric: NonNullable<MetricDataQuery['MetricStat']>['Metric'], Stat: 'Minimum' | 'Sum'): MetricDataQuery => ({
    Id,
    MetricStat: { Metric, Period: PERIOD_SECONDS, Stat },
    ReturnData: true,
  });
  return {
    startTime: windowStart(now, RUNNING_LOOKBACK_MINUTES),
    endTime: now,
    queries: lanes.flatMap((lane, i) => [
      stat(`r${i}`, { Namespace: namespace, MetricName: METRIC.reserved, Dimensions: laneDimensions(environment, lane.lane) }, 'Minimum'),
      stat(`f${i}`, { Namespace: lane.finishedJobs.namespace, MetricName: lane.finishedJobs.name }, 'Sum'),
    ]),
  };
}

/**
 * A lower bound on how long each lane's oldest running job has run, seconds. SQS
 * tells nothing of a message's age in flight, but a job that was in flight at a
 * minute's tick, with no attempt finished since, is still running: so the run of
 * latest whole minutes with a job in flight at every tick (Reserved at least 1)
 * and none finished, less the minute the first tick may have come late in. Throws
 * if CloudWatch could not answer a query.
 */
export function runningAges(lanes: readonly RunningRequest[], results: readonly MetricDataResult[], now: Date): Map<string, number> {
  const series = seriesById(results);
  const last = Math.floor(now.getTime() / 60_000) - 1;
  const from = windowStart(now, RUNNING_LOOKBACK_MINUTES).getTime();
  return new Map(
    lanes.map((lane, i) => {
      const reserved = perMinute(series.get(`r${i}`), from, now.getTime());
      const finished = perMinute(series.get(`f${i}`), from, now.getTime());
      let minutes = 0;
      while (minutes < RUNNING_LOOKBACK_MINUTES && (reserved.get(last - minutes) ?? 0) >= 1 && (finished.get(last - minutes) ?? 0) === 0) {
        minutes += 1;
      }
      return [lane.lane, Math.max(0, minutes - 1) * 60];
    }),
  );
}
