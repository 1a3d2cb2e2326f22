import { CloudWatchClient, DescribeAlarmsCommand, GetMetricDataCommand, type MetricDataQuery } from '@aws-sdk/client-cloudwatch';
import { DescribeServicesCommand, ECSClient } from '@aws-sdk/client-ecs';
import { CloudWatchLogsClient, FilterLogEventsCommand } from '@aws-sdk/client-cloudwatch-logs';
import { GetParametersCommand, SSMClient } from '@aws-sdk/client-ssm';
import { DEFAULT_NAMESPACE, DIMENSION, LOG_METRIC, METRIC } from '@queue-lanes/contract';
import { AWS_CLIENT_OPTIONS } from '@queue-lanes/backlog-controller/runtime';
import {
  alarmName,
  clusterName,
  controllerLogGroupName,
  laneParameterName,
  logMetricNamespace,
  serviceName,
  type EnvironmentConfig,
  type LaneConfig,
} from '@queue-lanes/config';
import { readJobFigures, renderSizing, sizeLane, type LaneSizing } from './sizing';

/*
 * The daily checks of the runbook in one read, from AWS APIs only (a laptop with the
 * operator's credentials; Redis stays private), of what the stacks already publish:
 * ECS (DescribeServices, ten services a call), CloudWatch (one GetMetricData for every
 * lane's series, one DescribeAlarms), SSM (one GetParameters per ten switches). Every
 * call is bounded in time; a failed read says which and the rest still report.
 */

/** Hours of history the sparklines cover, and the period of their points. */
export const HISTORY_HOURS = 3;
const PERIOD_SECONDS = 300;
/** Attempts in the last five minutes at and past which, mostly failing, a lane is failing in a loop (the controller's hold-failing). */
const FAILING_MIN_ATTEMPTS = 5;
const FAILING_SHARE = 0.8;

export type Verdict = 'healthy' | 'connectivity' | 'failing in a loop' | 'no steady state' | 'not draining' | 'unread';

export interface LaneStatus {
  readonly lane: string;
  readonly stage: string;
  readonly sizedBy: string;
  readonly desired?: number;
  readonly running?: number;
  readonly pending?: number;
  readonly rollout?: string;
  /** The backlog now and its history, oldest first (the controller's Backlog metric); undefined: unread. */
  readonly backlog?: readonly number[];
  readonly oldestRunnableSeconds?: number;
  /** Sums over the history; undefined: CloudWatch unread (never 0 for a figure nobody read). */
  readonly finished?: number;
  readonly failed?: number;
  readonly redisErrors?: number;
  readonly auroraErrors?: number;
  /** The lane's alarms in ALARM, by name; undefined: unread. */
  readonly alarms?: readonly string[];
  readonly hostConsumer?: string;
  /** The controller's last decision for the lane, from its tick log line: `hold-saturated, desired 2`. */
  readonly decision?: string;
  /** Its jobs' runtime and peak memory against its limits; null when no attempt ended lately, absent when unread. */
  readonly sizing?: LaneSizing | null;
  readonly verdict: Verdict;
  readonly why: string;
  /** The runbook's next step for the verdict. */
  readonly next: string;
}

export interface EnvironmentStatus {
  readonly environment: string;
  readonly cluster: string;
  /** `running` is undefined when ECS was not read. */
  readonly fleet: { readonly running?: number; readonly max: number };
  /** `errors` is undefined when CloudWatch's metrics were not read. */
  readonly controller: { readonly lastTick?: string; readonly errors?: number };
  readonly lanes: readonly LaneStatus[];
  /** Reads that failed, one line each, in the order they are made; their lanes report what the others gave. */
  readonly unread: readonly string[];
  /** Set when no read could be signed for want of credentials: the cause and the fix, in one line. */
  readonly credentials?: string;
}

export interface StatusClients {
  readonly ecs: ECSClient;
  readonly cloudwatch: CloudWatchClient;
  readonly ssm: SSMClient;
  readonly logs: CloudWatchLogsClient;
}

export function awsClients(region: string, endpoint?: string): StatusClients {
  const options = { region, ...AWS_CLIENT_OPTIONS, ...(endpoint ? { endpoint } : {}) };
  return {
    ecs: new ECSClient(options),
    cloudwatch: new CloudWatchClient(options),
    ssm: new SSMClient(options),
    logs: new CloudWatchLogsClient(options),
  };
}

/** Reads everything once, then judges each lane. */
export async function readStatus(
  env: EnvironmentConfig,
  clients: StatusClients,
  lanes = env.lanes,
  now = new Date(),
): Promise<EnvironmentStatus> {
  const failures: (Error & { read: Read })[] = [];
  // Undefined when the read failed: what it would have given is unread, not empty.
  const guard = async <T>(what: Read, read: () => Promise<T>): Promise<T | undefined> => {
    try {
      return await read();
    } catch (error) {
      failures.push(Object.assign(error as Error, { read: what }));
      return undefined;
    }
  };
  const [services, metrics, alarms, switches, decisions, jobFigures] = await Promise.all([
    guard(READS[0], () => readServices(env, lanes, clients.ecs)),
    guard(READS[1], () => readMetrics(env, lanes, clients.cloudwatch, now)),
    guard(READS[2], () => readAlarms(env, clients.cloudwatch)),
    guard(READS[3], () => readSwitches(env, lanes, clients.ssm)),
    guard(READS[4], () => readDecisions(env, clients.logs, now)),
    guard(READS[5], () => readJobFigures(env, lanes, clients.logs, now)),
  ]);
  // In the order the reads are listed, whichever answered first: the same failures print the same.
  failures.sort((a, b) => READS.indexOf(a.read) - READS.indexOf(b.read));
  const unread = failures.map((e) => `${e.read}: ${e.name}: ${e.message}`);
  const series = (id: string) => (metrics ? (metrics.get(id) ?? []) : undefined);
  const statuses = lanes.map((lane, i) =>
    judge(lane, {
      counts: services?.get(serviceName(env, lane.name)),
      backlog: series(`b${i}`),
      oldest: series(`o${i}`),
      finished: series(`f${i}`),
      failed: series(`x${i}`),
      redis: series(`r${i}`),
      aurora: series(`a${i}`),
      alarms: alarms?.filter((a) => a.startsWith(alarmName(env, lane.name, ''))),
      hostConsumer: switches?.get(laneParameterName(env, lane.name, 'host-consumer')),
      decision: decisions?.get(lane.name),
    }),
  );
  const sized = jobFigures
    ? statuses.map((status, i) => ({ ...status, sizing: sizeLane(lanes[i], jobFigures.get(lanes[i].name)) ?? null }))
    : statuses;
  // Nothing is healthy by default: a lane judged without every read says so.
  const judged =
    unread.length === 0
      ? sized
      : sized.map((s) =>
          s.verdict === 'healthy'
            ? {
                ...s,
                verdict: 'unread' as const,
                why: `could not read ${unread.map((u) => u.split(':')[0]).join(', ')}`,
                next: 'the unread lines below',
              }
            : s,
        );
  const lastTick = metrics?.get('tick');
  const errors = series('errors');
  const credentials = failures.length === READS.length && failures.every(isMissingCredentials) ? credentialsHint(env) : undefined;
  return {
    environment: env.environment,
    cluster: clusterName(env),
    fleet: { ...(services ? { running: judged.reduce((total, s) => total + (s.running ?? 0), 0) } : {}), max: env.fleet.maxTasks },
    controller: {
      ...(lastTick && lastTick.length > 0 ? { lastTick: new Date(lastTick[lastTick.length - 1] * 1000).toISOString() } : {}),
      ...(errors ? { errors: sum(errors) } : {}),
    },
    lanes: judged,
    unread,
    ...(credentials ? { credentials } : {}),
  };
}

/** The reads status makes, in the order their failures are listed. */
const READS = [
  'ECS DescribeServices',
  'CloudWatch GetMetricData',
  'CloudWatch DescribeAlarms',
  'SSM GetParameters',
  'CloudWatch Logs FilterLogEvents',
  'CloudWatch Logs job lines',
] as const;
type Read = (typeof READS)[number];

/**
 * The SDK found no credentials anywhere it looks (environment, shared config and SSO
 * profiles, container and instance roles): its credential chain's own error
 * (@smithy/property-provider's CredentialsProviderError), raised before any request is sent.
 */
function isMissingCredentials(error: Error): boolean {
  return error.name === 'CredentialsProviderError';
}

function credentialsHint(env: EnvironmentConfig): string {
  return `no AWS credentials: the AWS SDK found none (environment, shared config, SSO profile or role), so nothing was read; sign in to account ${env.allowedAccountIds.join(' or ')} (aws sso login --profile <profile>, then export AWS_PROFILE=<profile>; or export AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY) and run status again`;
}

export interface ServiceCounts {
  readonly desired: number;
  readonly running: number;
  readonly pending: number;
  readonly rollout?: string;
}

async function readServices(env: EnvironmentConfig, lanes: readonly LaneConfig[], ecs: ECSClient): Promise<Map<string, ServiceCounts>> {
  const names = lanes.map((l) => serviceName(env, l.name));
  const out = new Map<string, ServiceCounts>();
  for (let start = 0; start < names.length; start += 10) {
    const page = await ecs.send(new DescribeServicesCommand({ cluster: clusterName(env), services: names.slice(start, start + 10) }));
    for (const s of page.services ?? []) {
      out.set(s.serviceName!, {
        desired: s.desiredCount ?? 0,
        running: s.runningCount ?? 0,
        pending: s.pendingCount ?? 0,
        ...(s.deployments?.[0]?.rolloutState ? { rollout: s.deployments[0].rolloutState } : {}),
      });
    }
  }
  return out;
}

/** One GetMetricData for every lane's series, oldest point first. */
async function readMetrics(
  env: EnvironmentConfig,
  lanes: readonly LaneConfig[],
  cloudwatch: CloudWatchClient,
  now: Date,
): Promise<Map<string, number[]>> {
  const controller = (id: string, name: string, lane: string, stat = 'Maximum'): MetricDataQuery => ({
    Id: id,
    MetricStat: {
      Metric: {
        Namespace: DEFAULT_NAMESPACE,
        MetricName: name,
        Dimensions: [
          { Name: DIMENSION.environment, Value: env.environment },
          { Name: DIMENSION.lane, Value: lane },
        ],
      },
      Period: PERIOD_SECONDS,
      Stat: stat,
    },
  });
  const logged = (id: string, name: string, lane: string): MetricDataQuery => ({
    Id: id,
    MetricStat: {
      Metric: { Namespace: logMetricNamespace(DEFAULT_NAMESPACE, env, lane), MetricName: name },
      Period: PERIOD_SECONDS,
      Stat: 'Sum',
    },
  });
  const queries: MetricDataQuery[] = lanes.flatMap((lane, i) => [
    controller(`b${i}`, METRIC.backlog, lane.name),
    controller(`o${i}`, METRIC.oldestRunnableAgeSeconds, lane.name),
    logged(`f${i}`, LOG_METRIC.finishedJobs, lane.name),
    logged(`x${i}`, LOG_METRIC.failedJobs, lane.name),
    logged(`r${i}`, LOG_METRIC.redisErrors, lane.name),
    logged(`a${i}`, LOG_METRIC.auroraErrors, lane.name),
  ]);
  queries.push({
    Id: 'errors',
    MetricStat: {
      Metric: {
        Namespace: DEFAULT_NAMESPACE,
        MetricName: METRIC.controllerErrors,
        Dimensions: [{ Name: DIMENSION.environment, Value: env.environment }],
      },
      Period: PERIOD_SECONDS,
      Stat: 'Sum',
    },
  });
  const out = new Map<string, number[]>();
  let tick = 0;
  let token: string | undefined;
  do {
    const page = await cloudwatch.send(
      new GetMetricDataCommand({
        MetricDataQueries: queries,
        StartTime: new Date(now.getTime() - HISTORY_HOURS * 3600_000),
        EndTime: now,
        ScanBy: 'TimestampAscending',
        NextToken: token,
      }),
    );
    for (const result of page.MetricDataResults ?? []) {
      const points = (result.Timestamps ?? [])
        .map((t, k) => [new Date(t).getTime(), result.Values?.[k] ?? 0] as const)
        .sort((a, b) => a[0] - b[0]);
      out.set(result.Id!, [...(out.get(result.Id!) ?? []), ...points.map(([, v]) => v)]);
      if (result.Id!.startsWith('b') && points.length > 0) tick = Math.max(tick, points[points.length - 1][0] / 1000);
    }
    token = page.NextToken;
  } while (token);
  if (tick > 0) out.set('tick', [tick]);
  return out;
}

async function readAlarms(env: EnvironmentConfig, cloudwatch: CloudWatchClient): Promise<string[]> {
  const page = await cloudwatch.send(
    new DescribeAlarmsCommand({ AlarmNamePrefix: `${clusterName(env)}-`, StateValue: 'ALARM', MaxRecords: 100 }),
  );
  return (page.MetricAlarms ?? []).map((a) => a.AlarmName!);
}

async function readSwitches(env: EnvironmentConfig, lanes: readonly LaneConfig[], ssm: SSMClient): Promise<Map<string, string>> {
  const names = lanes.map((l) => laneParameterName(env, l.name, 'host-consumer'));
  const out = new Map<string, string>();
  for (let start = 0; start < names.length; start += 10) {
    const page = await ssm.send(new GetParametersCommand({ Names: names.slice(start, start + 10) }));
    for (const p of page.Parameters ?? []) out.set(p.Name!, p.Value!);
  }
  return out;
}

/**
 * Each lane's decision in the controller's last tick: its log line is the TickReport as JSON
 * (libs/backlog-controller), `lanes[].reason` and `desired`. The last 15 minutes, newest wins.
 */
async function readDecisions(env: EnvironmentConfig, logs: CloudWatchLogsClient, now: Date): Promise<Map<string, string>> {
  const page = await logs.send(
    new FilterLogEventsCommand({
      logGroupName: controllerLogGroupName(env),
      startTime: now.getTime() - 15 * 60_000,
      endTime: now.getTime(),
      filterPattern: '{ $.mode = * }',
      limit: 100,
    }),
  );
  const out = new Map<string, string>();
  for (const event of [...(page.events ?? [])].sort((a, b) => (a.timestamp ?? 0) - (b.timestamp ?? 0))) {
    let tick: { lanes?: { lane: string; reason?: string; desired?: number }[] };
    try {
      tick = JSON.parse(event.message ?? '');
    } catch {
      continue;
    }
    for (const lane of tick.lanes ?? []) {
      if (lane.reason) out.set(lane.lane, `${lane.reason}${lane.desired !== undefined ? `, desired ${lane.desired}` : ''}`);
    }
  }
  return out;
}

/** What the reads gave for one lane; a series or list left undefined was not read. */
export interface Observed {
  readonly counts?: ServiceCounts;
  readonly backlog?: readonly number[];
  readonly oldest?: readonly number[];
  readonly finished?: readonly number[];
  readonly failed?: readonly number[];
  readonly redis?: readonly number[];
  readonly aurora?: readonly number[];
  readonly alarms?: readonly string[];
  readonly hostConsumer?: string;
  readonly decision?: string;
}

const sum = (values: readonly number[]) => values.reduce((a, b) => a + b, 0);
const last = (values: readonly number[] | undefined) => values?.[values.length - 1];
/** The sum of a series that was read; undefined for one that was not. */
const total = (values: readonly number[] | undefined) => (values ? sum(values) : undefined);

/** A lane's verdict in the runbook's words, checked in the order an operator would look. */
export function judge(lane: LaneConfig, o: Observed): LaneStatus {
  const recentFailed = last(o.failed) ?? 0;
  const recentFinished = last(o.finished) ?? 0;
  const backlog = last(o.backlog);
  const oldest = last(o.oldest);
  const verdict = ((): [Verdict, string, string] => {
    const errors = (last(o.redis) ?? 0) + (last(o.aurora) ?? 0);
    if (errors > 0) {
      return [
        'connectivity',
        `${last(o.redis) ?? 0} Redis and ${last(o.aurora) ?? 0} Aurora connection errors in the last 5 minutes`,
        'runbook: "Redis and Aurora connectivity"',
      ];
    }
    if (recentFailed >= FAILING_MIN_ATTEMPTS && recentFailed >= FAILING_SHARE * Math.max(recentFinished, recentFailed)) {
      return [
        'failing in a loop',
        `${recentFailed} of ${recentFinished} attempts failed in the last 5 minutes`,
        'runbook: "A lane failing in a loop"',
      ];
    }
    const c = o.counts;
    if (c && (c.rollout === 'FAILED' || (c.desired > c.running && c.pending === 0 && lane.sizedBy !== 'off'))) {
      return [
        'no steady state',
        `${c.running} of ${c.desired} tasks running, ${c.pending} pending${c.rollout ? `, rollout ${c.rollout}` : ''}`,
        'runbook: "Logs and stop reasons"',
      ];
    }
    if (backlog !== undefined && backlog > 0 && oldest !== undefined && oldest > lane.maxPickupSeconds) {
      return [
        'not draining',
        `${backlog} jobs waiting, the oldest runnable ${Math.round(oldest)} s (maxPickupSeconds ${lane.maxPickupSeconds})`,
        'runbook: "Scale one lane by hand"',
      ];
    }
    return ['healthy', 'nothing to look at', ''];
  })();
  return {
    lane: lane.name,
    stage: lane.stage,
    sizedBy: lane.sizedBy,
    ...(o.counts
      ? {
          desired: o.counts.desired,
          running: o.counts.running,
          pending: o.counts.pending,
          ...(o.counts.rollout ? { rollout: o.counts.rollout } : {}),
        }
      : {}),
    ...(o.backlog ? { backlog: o.backlog } : {}),
    ...(oldest !== undefined ? { oldestRunnableSeconds: oldest } : {}),
    ...defined({ finished: total(o.finished), failed: total(o.failed), redisErrors: total(o.redis), auroraErrors: total(o.aurora) }),
    ...(o.alarms ? { alarms: [...o.alarms].sort() } : {}),
    ...(o.hostConsumer ? { hostConsumer: o.hostConsumer } : {}),
    ...(o.decision ? { decision: o.decision } : {}),
    verdict: verdict[0],
    why: verdict[1],
    next: verdict[2],
  };
}

/** The entries whose value is defined: a figure nobody read has no key at all in --json. */
function defined<T extends Record<string, number | undefined>>(figures: T): Partial<T> {
  return Object.fromEntries(Object.entries(figures).filter(([, v]) => v !== undefined)) as Partial<T>;
}

const BARS = '▁▂▃▄▅▆▇█';

/** A sparkline of a series, scaled to its own maximum. */
export function sparkline(values: readonly number[]): string {
  const max = Math.max(0, ...values);
  return values.map((v) => (max === 0 ? BARS[0] : BARS[Math.min(BARS.length - 1, Math.round((v / max) * (BARS.length - 1)))])).join('');
}

/** The screen an operator reads: every figure it shows was read; one that was not says so. */
export function renderStatus(s: EnvironmentStatus): string {
  if (s.credentials) return `${s.cluster}: ${s.credentials}\n`;
  const fleet =
    s.fleet.running === undefined
      ? `fleet unread (at most ${s.fleet.max} tasks)`
      : `fleet ${s.fleet.running} of ${s.fleet.max} tasks running`;
  const errors = s.controller.errors === undefined ? 'errors unread' : `${s.controller.errors} errors in ${HISTORY_HOURS} h`;
  const lines = [`${s.cluster}: ${fleet}; controller last tick ${s.controller.lastTick ?? 'unknown'}, ${errors}`, ''];
  for (const l of s.lanes) lines.push(...laneLines(l), '');
  for (const u of s.unread) lines.push(`unread: ${u}`);
  return `${lines.join('\n').trimEnd()}\n`;
}

function laneLines(l: LaneStatus): string[] {
  const counts =
    l.desired === undefined
      ? 'service unread'
      : `${l.running}/${l.desired} running, ${l.pending} pending${l.rollout ? ` (${l.rollout})` : ''}`;
  const backlog = l.backlog === undefined ? 'backlog unread' : `backlog ${last(l.backlog) ?? '–'} ${sparkline(l.backlog)}`;
  const oldest =
    l.oldestRunnableSeconds !== undefined ? `${Math.round(l.oldestRunnableSeconds)} s` : l.backlog === undefined ? 'unread' : '–';
  const jobs =
    l.finished === undefined
      ? 'finished, failed and connection errors unread'
      : `${l.finished} finished, ${l.failed} failed, ${l.redisErrors} Redis and ${l.auroraErrors} Aurora errors`;
  const alarms = l.alarms === undefined ? 'unread' : l.alarms.length > 0 ? l.alarms.join(', ') : 'none';
  return [
    `${l.lane}: ${l.verdict.toUpperCase()} — ${l.why}`,
    `  ${l.stage}, count set by ${l.sizedBy}${l.decision ? ` (last decision: ${l.decision})` : ''}; ${counts}; host consumers ${l.hostConsumer ?? 'unread'}`,
    `  ${backlog}  oldest runnable ${oldest}`,
    `  ${HISTORY_HOURS} h: ${jobs}; alarms in ALARM: ${alarms}`,
    ...(l.sizing === undefined ? ['  job runtime and memory unread'] : renderSizing(l.sizing ?? undefined)),
    ...(l.next ? [`  next: ${l.next}`] : []),
  ];
}
