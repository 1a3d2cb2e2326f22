import { FilterLogEventsCommand, type CloudWatchLogsClient } from '@aws-sdk/client-cloudwatch-logs';
import { logGroupName, type EnvironmentConfig, type LaneConfig } from '@queue-lanes/config';
import { FINISHED_JOB_PATTERN } from '../../libs/observability/src/filter-patterns';

/*
 * Right-sizing: what a lane's jobs use against the limits its environment file sets. The
 * figures are the job lines the worker entry point writes when an attempt ends
 * (libs/worker-service/src/worker.php), read from the lane's log group: exact percentiles
 * of the last hour's attempts (up to one page of FilterLogEvents each), which the
 * dashboard graphs as the JobRuntime and JobPeakMemory metrics.
 */

/** Minutes of job lines read. */
export const SIZING_MINUTES = 60;
/** Lines read per lane (one FilterLogEvents page at most). */
const MAX_LINES = 10_000;
/** A figure at or past this share of its limit is too close to it. */
const CLOSE_SHARE = 0.8;
/** A limit this many times the largest figure is far above what the jobs use… */
const FAR_FACTOR = 4;
/** …judged only on this many attempts at least. */
const FAR_MIN_ATTEMPTS = 20;

/** A lane's job figures and what they say about its limits. */
export interface LaneSizing {
  readonly attempts: number;
  /** Seconds: p50, p95, max. */
  readonly runtime: Percentiles;
  /** MiB: p50, p95, max. */
  readonly memory: Percentiles;
  /** job.timeout, job.memory (--memory) and PHP's memory_limit, as the lane sets them. */
  readonly limits: { readonly timeout: number; readonly memory: number; readonly memoryLimit: number };
  /** The limits far above or too close to what the jobs use, one line each: `bulk: p95 job memory 410 MiB of 512 (job.memory)`. */
  readonly findings: readonly string[];
}

export interface Percentiles {
  readonly p50: number;
  readonly p95: number;
  readonly max: number;
}

/** Each lane's job lines of the last SIZING_MINUTES, runtime and peak memory, by lane name. */
export async function readJobFigures(
  env: EnvironmentConfig,
  lanes: readonly LaneConfig[],
  logs: CloudWatchLogsClient,
  now: Date,
): Promise<Map<string, { runtime: number[]; memory: number[] }>> {
  const out = new Map<string, { runtime: number[]; memory: number[] }>();
  for (const lane of lanes) {
    const events = await jobLineEvents(logs, logGroupName(env, lane.name), now);
    const figures = { runtime: [] as number[], memory: [] as number[] };
    for (const event of events) {
      const line = parseJobLine(event.message ?? '');
      if (!line) continue;
      figures.runtime.push(line.runtimeSeconds);
      figures.memory.push(line.peakMemoryMiB);
    }
    out.set(lane.name, figures);
  }
  return out;
}

/** One page of the log group's job lines in the window; none when the group does not exist (a lane not deployed yet). */
async function jobLineEvents(logs: CloudWatchLogsClient, group: string, now: Date): Promise<{ message?: string }[]> {
  try {
    const page = await logs.send(
      new FilterLogEventsCommand({
        logGroupName: group,
        startTime: now.getTime() - SIZING_MINUTES * 60_000,
        endTime: now.getTime(),
        filterPattern: FINISHED_JOB_PATTERN,
        limit: MAX_LINES,
      }),
    );
    return page.events ?? [];
  } catch (error) {
    if ((error as Error).name === 'ResourceNotFoundException') return [];
    throw error;
  }
}

/** A job line's figures; undefined for any other event. */
function parseJobLine(message: string): { runtimeSeconds: number; peakMemoryMiB: number } | undefined {
  try {
    const line = JSON.parse(message) as { queueLanes?: unknown; runtimeSeconds?: unknown; peakMemoryMiB?: unknown };
    if (line.queueLanes !== 'job' || typeof line.runtimeSeconds !== 'number' || typeof line.peakMemoryMiB !== 'number') return undefined;
    return { runtimeSeconds: line.runtimeSeconds, peakMemoryMiB: line.peakMemoryMiB };
  } catch {
    return undefined;
  }
}

/** The nearest-rank percentiles of the values (none: undefined). */
export function percentiles(values: readonly number[]): Percentiles | undefined {
  if (values.length === 0) return undefined;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = (p: number) => sorted[Math.max(0, Math.ceil((p / 100) * sorted.length) - 1)];
  return { p50: rank(50), p95: rank(95), max: sorted[sorted.length - 1] };
}

/** The lane's figures against its limits; undefined when no attempt ended in the window. */
export function sizeLane(
  lane: LaneConfig,
  figures: { runtime: readonly number[]; memory: readonly number[] } | undefined,
): LaneSizing | undefined {
  const runtime = percentiles(figures?.runtime ?? []);
  const memory = percentiles(figures?.memory ?? []);
  if (!runtime || !memory) return undefined;
  const limits = { timeout: lane.job.timeout, memory: lane.job.memory, memoryLimit: lane.groups[0].phpMemoryLimit };
  const attempts = figures!.runtime.length;
  const name = lane.name;
  const findings = [
    ...(runtime.p95 >= CLOSE_SHARE * limits.timeout
      ? [`${name}: p95 job runtime ${whole(runtime.p95)} s of ${limits.timeout} (job.timeout)`]
      : []),
    ...(memory.p95 >= CLOSE_SHARE * limits.memory
      ? [`${name}: p95 job memory ${whole(memory.p95)} MiB of ${limits.memory} (job.memory)`]
      : []),
    ...(memory.max >= CLOSE_SHARE * limits.memoryLimit
      ? [`${name}: max job memory ${whole(memory.max)} MiB of ${limits.memoryLimit} (PHP memory_limit)`]
      : []),
    ...(attempts >= FAR_MIN_ATTEMPTS && limits.timeout >= FAR_FACTOR * Math.max(runtime.max, 1)
      ? [
          `${name}: job.timeout ${limits.timeout} s is ${whole(limits.timeout / Math.max(runtime.max, 1))}× the longest job (${whole(runtime.max)} s)`,
        ]
      : []),
    ...(attempts >= FAR_MIN_ATTEMPTS && limits.memory >= FAR_FACTOR * Math.max(memory.max, 1)
      ? [
          `${name}: job.memory ${limits.memory} MiB is ${whole(limits.memory / Math.max(memory.max, 1))}× the largest job (${whole(memory.max)} MiB)`,
        ]
      : []),
  ];
  return { attempts, runtime, memory, limits, findings };
}

const whole = (value: number) => Math.round(value);

/** The status screen's lines for a lane's sizing. */
export function renderSizing(s: LaneSizing | undefined): string[] {
  if (!s) return [`  jobs (${SIZING_MINUTES} min): no attempt ended`];
  return [
    `  jobs (${SIZING_MINUTES} min, ${s.attempts} attempts): runtime p50 ${s.runtime.p50} s, p95 ${s.runtime.p95} s, max ${s.runtime.max} s of job.timeout ${s.limits.timeout} s; ` +
      `peak memory p95 ${s.memory.p95} MiB, max ${s.memory.max} MiB of job.memory ${s.limits.memory} MiB and memory_limit ${s.limits.memoryLimit} MiB`,
    ...s.findings.map((f) => `  sizing: ${f}`),
  ];
}
