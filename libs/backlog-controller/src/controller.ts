import { CloudWatchClient, GetMetricDataCommand, PutMetricDataCommand, type MetricDataResult } from '@aws-sdk/client-cloudwatch';
import { ECSClient } from '@aws-sdk/client-ecs';
import { SQSClient } from '@aws-sdk/client-sqs';
import { GetParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import {
  CONTROLLER_BROKERS,
  CONTROLLER_CONFIG_ENV,
  parseControllerConfig,
  type ControllerBroker,
  type ControllerConfig,
  type ControllerLaneConfig,
  type RedisConfig,
} from '@queue-lanes/contract';
import { backlogOf, decide, needsDrainHistory, wouldWiden, type DecisionMode, type LaneDecision, type LaneState } from './decide';
import { applyDesiredCounts, readDesiredCounts, type ServiceChange } from './ecs';
import {
  attemptsQuery,
  drainHistories,
  historyQuery,
  isSqsReading,
  recentAttempts,
  runningAges,
  runningQuery,
  tickMetricData,
  type AttemptsRequest,
  type HistoryQuery,
  type HistoryRequest,
  type RunningRequest,
} from './metrics';
import { PrefixProbe } from './prefix-probe';
import { warmTasks, warmWindows, type WarmWindow } from './warm';
import { connectRedis, readLanes, type LaneReading, type LaneReadings, type RedisClient } from './redis';
import { SqsReader } from './sqs';

/*
 * One tick: read every measured lane's queues (Redis: one pipelined round trip;
 * SQS: one GetQueueAttributes per queue) and the desired counts of the lanes it
 * sizes; while a Redis lane reads absent, look for
 * its keys under another prefix (a bounded SCAN, a few minutes apart); read the
 * drain history of the lanes that could go to zero; decide; update the services
 * whose count changes; publish everything in one PutMetricData. Any read failure
 * changes nothing, reports ControllerErrors and fails the invocation.
 */

/** What the controller talks to. Tests and the benchmark pass their own. */
export interface ControllerDeps {
  readonly ecs: ECSClient;
  readonly cloudwatch: CloudWatchClient;
  readonly ssm: SSMClient;
  /** Reads the SQS lanes' queues. @default a client with AWS_CLIENT_OPTIONS */
  readonly sqs?: SQSClient;
  /** Opens the Redis connection. @default connectRedis */
  readonly connectRedis?: (config: RedisConfig, password: string | undefined) => Promise<RedisClient>;
  /** @default () => new Date() */
  readonly now?: () => Date;
  /** One structured line per tick. @default a JSON line on stdout (CloudWatch Logs) */
  readonly log?: (entry: Record<string, unknown>) => void;
}

/** The application's wake-up call after dispatching to a cold lane: `{ "wake": ["image"] }`. */
export interface WakeEvent {
  readonly wake: readonly string[];
}

/** One lane in a tick's report. */
export interface LaneReport {
  readonly lane: string;
  readonly ready: number;
  readonly reserved: number;
  readonly delayed: number;
  readonly delayedDue: number;
  readonly stuckReserved: number;
  readonly backlog: number;
  /** null when a ready job's payload carries no timestamp. */
  readonly oldestReadyAgeSeconds: number | null;
  /** null when only ready jobs of unknown age wait. */
  readonly oldestRunnableAgeSeconds: number | null;
  /** Seconds the oldest running job has run (its live reservation); null when none runs or reservations never expire. */
  readonly oldestRunningSeconds: number | null;
  /** Whether the controller sets this lane's count (false: measured only). */
  readonly sized: boolean;
  /** Prefixes under which the lane's keys were found while it reads absent under the configured one. */
  readonly keysUnderOtherPrefix?: readonly string[];
  readonly current?: number;
  readonly wanted?: number;
  readonly desired?: number;
  readonly held?: number;
  readonly reason?: LaneDecision['reason'];
}

/** What a tick saw and did; the handler's return value and its log line. */
export interface TickReport {
  readonly mode: DecisionMode;
  readonly at: string;
  readonly durationMs: number;
  readonly lanes: readonly LaneReport[];
  /** Desired counts ECS accepted this tick; what failed or was not sent is in `errors`. */
  readonly changes: readonly ServiceChange[];
  /** Lanes named in a wake-up that the controller does not manage. */
  readonly unknownWakeLanes: readonly string[];
  readonly errors: readonly string[];
}

/** How one broker's lanes are read. */
interface BrokerReader {
  /** The measured lanes of this broker. */
  readonly lanes: readonly ControllerLaneConfig[];
  read(nowSeconds: number): Promise<LaneReadings>;
}

/** How errors name each broker's read. */
const BROKER_NAMES: Readonly<Record<ControllerBroker, string>> = { redis: 'Redis', sqs: 'SQS' };

/** What every step of a tick shares: its mode, its clock, and the errors it collects. */
interface TickContext {
  readonly mode: DecisionMode;
  readonly now: Date;
  readonly errors: string[];
}

/** A tick that could not read (or write) what it needs; no count was changed unless `report.changes` says so. */
export class ControllerTickError extends Error {
  constructor(readonly report: TickReport) {
    super(`backlog controller tick failed: ${report.errors.join(' | ')}`);
    this.name = 'ControllerTickError';
  }
}

export class BacklogController {
  private redis?: Promise<RedisClient>;
  private authToken?: Promise<string | undefined>;
  private readonly now: () => Date;
  private readonly log: (entry: Record<string, unknown>) => void;
  /** Looks for Redis lanes' keys under other prefixes; absent without a Redis lane. */
  private readonly probe?: PrefixProbe;
  /** Each broker's measured lanes and how they are read: a broker missing here fails to compile. */
  private readonly readers: Readonly<Record<ControllerBroker, BrokerReader>>;
  /** The lanes whose count the controller sets, in configuration order. */
  private readonly sized: ControllerConfig['lanes'];
  private readonly sizedNames: ReadonlySet<string>;
  /** Each sized lane's warm windows, parsed once. */
  private readonly warm: ReadonlyMap<string, readonly WarmWindow[]>;

  constructor(
    readonly config: ControllerConfig,
    private readonly deps: ControllerDeps,
  ) {
    this.now = deps.now ?? (() => new Date());
    this.log = deps.log ?? ((entry) => console.log(JSON.stringify(entry)));
    const redisLanes = config.lanes.filter((lane) => lane.broker === 'redis');
    if (config.redis !== undefined) this.probe = new PrefixProbe(config.redis, redisLanes);
    const sqsLanes = config.lanes.filter((lane) => lane.broker === 'sqs');
    const sqs = sqsLanes.length > 0 ? new SqsReader(deps.sqs ?? new SQSClient(AWS_CLIENT_OPTIONS)) : undefined;
    this.readers = {
      redis: { lanes: redisLanes, read: (nowSeconds) => this.readRedis(nowSeconds) },
      sqs: { lanes: sqsLanes, read: () => sqs!.read(sqsLanes) },
    };
    this.sized = config.lanes.filter((lane) => lane.sized);
    this.sizedNames = new Set(this.sized.map((lane) => lane.name));
    this.warm = new Map(this.sized.map((lane) => [lane.name, warmWindows(lane)]));
  }

  /** Runs one tick; throws ControllerTickError (after publishing ControllerErrors) if anything failed. */
  async tick(event?: unknown): Promise<TickReport> {
    const started = this.now();
    const nowSeconds = Math.floor(started.getTime() / 1000);
    const wake = wakeLanes(event);
    const mode: DecisionMode = wake === undefined ? 'schedule' : 'wake';
    const errors: string[] = [];

    const { readings, counts } = await this.readState(nowSeconds, errors);
    // The probe never blocks a decision: its failure is reported after the counts are set.
    const redisReadings = readings?.filter((r) => this.readers.redis.lanes.some((lane) => lane.name === r.lane)) ?? [];
    const probeError = redisReadings.length > 0 && mode === 'schedule' ? await this.probePrefixes(redisReadings, nowSeconds) : undefined;
    const { decisions, changes } =
      readings !== undefined && counts !== undefined
        ? await this.decideAndApply(readings, counts, mode, started, errors)
        : { decisions: undefined, changes: [] };
    if (probeError !== undefined) errors.push(probeError);
    await this.publish(readings, errors, started);

    const report: TickReport = {
      mode,
      at: started.toISOString(),
      durationMs: this.now().getTime() - started.getTime(),
      lanes: laneReports(readings, decisions, (lane) => this.probe?.finding(lane)?.otherPrefixes, this.sizedNames),
      changes,
      unknownWakeLanes: (wake ?? []).filter((name) => !this.sizedNames.has(name)),
      errors,
    };
    this.log({ message: errors.length > 0 ? 'tick failed' : 'tick', ...report });
    if (errors.length > 0) throw new ControllerTickError(report);
    return report;
  }

  /**
   * Every measured lane's queues, each broker's at once (Redis: one round trip;
   * SQS: a call per queue), and the sized lanes' desired counts, read together.
   * Failures go to `errors`; a broker or lane that fails leaves only its own
   * lanes without a reading.
   */
  private async readState(
    nowSeconds: number,
    errors: string[],
  ): Promise<{ readings?: readonly LaneReading[]; counts?: ReadonlyMap<string, number> }> {
    const brokers = CONTROLLER_BROKERS.filter((broker) => this.readers[broker].lanes.length > 0);
    const [ecsResult, ...brokerResults] = await Promise.allSettled([
      readDesiredCounts(
        this.deps.ecs,
        this.config.cluster,
        this.sized.map((l) => l.service),
      ),
      ...brokers.map((broker) => this.readers[broker].read(nowSeconds)),
    ]);
    const readings: LaneReading[] = [];
    brokerResults.forEach((result, i) => {
      const what = BROKER_NAMES[brokers[i]];
      if (result.status === 'rejected') errors.push(`${what} read failed: ${message(result.reason)}`);
      else {
        readings.push(...(result.value as LaneReadings).readings);
        errors.push(...(result.value as LaneReadings).failures.map((f) => `${what} read of lane ${f.lane} failed: ${f.error}`));
      }
    });
    if (ecsResult.status === 'rejected') errors.push(message(ecsResult.reason));
    else if (ecsResult.value.problems.length > 0) {
      errors.push(`ECS DescribeServices in cluster ${this.config.cluster} could not read: ${ecsResult.value.problems.join('; ')}`);
    }
    return {
      readings,
      counts: ecsResult.status === 'fulfilled' ? ecsResult.value.counts : undefined,
    };
  }

  /**
   * Decides every lane with a reading and a count and sets the counts that change.
   * A lane without either is not decided on, and its tasks, as far as they are
   * known (else its maximum), stay counted against the cap.
   */
  private async decideAndApply(
    readings: readonly LaneReading[],
    counts: ReadonlyMap<string, number>,
    mode: DecisionMode,
    now: Date,
    errors: string[],
  ): Promise<{ decisions: Map<string, LaneDecision>; changes: ServiceChange[] }> {
    const byLane = new Map(readings.map((r) => [r.lane, r]));
    const decidable = this.sized.filter((lane) => byLane.has(lane.name) && counts.has(lane.service));
    const held = this.sized
      .filter((lane) => !decidable.includes(lane))
      .reduce((sum, lane) => sum + (counts.get(lane.service) ?? lane.max), 0);
    let states: LaneState[] = decidable.map((lane) => ({
      policy: lane,
      backlog: byLane.get(lane.name)!,
      current: counts.get(lane.service)!,
      keysElsewhere: this.probe?.finding(lane.name) !== undefined,
      warmTasks: warmTasks(this.warm.get(lane.name)!, now, lane.lookaheadSeconds),
    }));
    states = await this.withRunningAges(states, decidable, { mode, now, errors });
    states = await this.withHistories(states, decidable, { mode, now, errors });
    states = await this.withAttempts(states, decidable, { mode, now, errors });
    const decided = decide({
      lanes: states,
      fleetMaxTasks: this.config.fleetMaxTasks,
      reservedTasks: this.config.reservedTasks + held,
      mode,
    });
    const wanted = decided
      .map((d, i) => ({ service: decidable[i].service, from: d.current, to: d.desired }))
      .filter((c) => c.from !== c.to);
    const result = await applyDesiredCounts(this.deps.ecs, this.config.cluster, wanted);
    // The report lists what ECS took; what failed or was held back is in errors.
    errors.push(...result.errors.map((e) => e.message));
    return { decisions: new Map(decided.map((d) => [d.lane, d])), changes: [...result.applied] };
  }

  /**
   * How long the running jobs of SQS lanes with jobs waiting have run at least
   * (SQS gives no age of a message in flight): what the pickup bound sizes by.
   * Unread, a lane sizes by its count, as a lane with no job running does.
   */
  private async withRunningAges(states: LaneState[], lanes: ControllerConfig['lanes'], { now, errors }: TickContext): Promise<LaneState[]> {
    const requests: RunningRequest[] = lanes.flatMap((lane, i) => {
      const { backlog } = states[i];
      const waiting = backlog.ready + backlog.delayedDue > 0 && backlog.reserved > 0;
      return lane.broker === 'sqs' && lane.maxPickupSeconds !== undefined && lane.finishedJobsMetric && waiting
        ? [{ lane: lane.name, finishedJobs: lane.finishedJobsMetric }]
        : [];
    });
    if (requests.length === 0) return states;
    try {
      const ages = runningAges(
        requests,
        await this.metricData(runningQuery(this.config.namespace, this.config.environment, requests, now)),
        now,
      );
      return states.map((state) => {
        const age = ages.get(state.policy.name);
        return age === undefined || age === 0 ? state : { ...state, backlog: { ...state.backlog, oldestRunningSeconds: age } };
      });
    } catch (error) {
      errors.push(`CloudWatch GetMetricData (running jobs) failed: ${message(error)}`);
      return states;
    }
  }

  /** The drain history of the lanes that could go to zero this tick; without it no lane goes to zero (hold-one-no-history). */
  private async withHistories(
    states: LaneState[],
    lanes: ControllerConfig['lanes'],
    { mode, now, errors }: TickContext,
  ): Promise<LaneState[]> {
    const requests: HistoryRequest[] = lanes
      .filter((_lane, i) => needsDrainHistory(states[i], mode))
      .map((lane) => ({
        lane: lane.name,
        drainMinutes: lane.drainMinutes,
        ...(lane.finishedJobsMetric ? { finishedJobs: lane.finishedJobsMetric } : {}),
      }));
    if (requests.length === 0) return states;
    try {
      const histories = drainHistories(
        requests,
        await this.metricData(historyQuery(this.config.namespace, this.config.environment, requests, now)),
        now,
      );
      return states.map((state) => ({ ...state, history: histories.get(state.policy.name) }));
    } catch (error) {
      errors.push(`CloudWatch GetMetricData failed: ${message(error)}`);
      return states;
    }
  }

  /** The recent attempts of the lanes a decision would widen, so a lane failing in a loop is held. */
  private async withAttempts(
    states: LaneState[],
    lanes: ControllerConfig['lanes'],
    { mode, now, errors }: TickContext,
  ): Promise<LaneState[]> {
    const { namespace, environment } = this.config;
    const widening: AttemptsRequest[] = lanes.flatMap((lane, i) => {
      if (!lane.finishedJobsMetric || !lane.failedJobsMetric || !wouldWiden(states[i], mode)) return [];
      const reading = states[i].backlog as LaneReading;
      const deadLetters = isSqsReading(reading) ? { deadLetters: { namespace, environment, now: reading.deadLetters } } : {};
      return [{ lane: lane.name, finishedJobs: lane.finishedJobsMetric, failedJobs: lane.failedJobsMetric, ...deadLetters }];
    });
    if (widening.length === 0) return states;
    try {
      const attempts = recentAttempts(widening, await this.metricData(attemptsQuery(widening, now)));
      return states.map((state) => ({ ...state, attempts: attempts.get(state.policy.name) }));
    } catch (error) {
      // Unread, a lane scales out as its backlog asks: a failed read must not hold work back.
      errors.push(`CloudWatch GetMetricData (recent attempts) failed: ${message(error)}`);
      return states;
    }
  }

  /** Everything the tick measured, and whether it failed, in one PutMetricData. */
  private async publish(readings: readonly LaneReading[] | undefined, errors: string[], now: Date): Promise<void> {
    try {
      await this.deps.cloudwatch.send(
        new PutMetricDataCommand({
          Namespace: this.config.namespace,
          MetricData: tickMetricData(
            this.config.environment,
            readings,
            errors.length > 0,
            now,
            (lane) => this.probe?.finding(lane) !== undefined,
          ),
        }),
      );
    } catch (error) {
      errors.push(`CloudWatch PutMetricData failed: ${message(error)}`);
    }
  }

  /**
   * Updates what is known of lanes that read absent; logs each lane whose finding
   * changed. Returns the failure, if any, as a report line.
   */
  private async probePrefixes(readings: readonly LaneReading[], nowSeconds: number): Promise<string | undefined> {
    const probe = this.probe;
    if (probe === undefined) return undefined;
    const { forgotten, walk } = probe.observe(readings, nowSeconds);
    let failure: string | undefined;
    let changed: string[] = [];
    if (walk) {
      try {
        changed = await probe.walkStep(await this.client(), nowSeconds);
      } catch (error) {
        failure = `the key-prefix probe failed: ${message(error)}`;
      }
    }
    const prefix = this.config.redis?.keyPrefix;
    for (const lane of [...forgotten, ...changed]) {
      const found = probe.finding(lane)?.otherPrefixes;
      this.log(
        found
          ? {
              message: 'key prefix mismatch',
              lane,
              configuredPrefix: prefix,
              foundPrefixes: found,
              action: `every queue of lane ${lane} reads absent under ${JSON.stringify(prefix)} while its keys exist under ${found.map((p) => JSON.stringify(p)).join(', ')}: set redis.keyPrefix to the prefix the application prints (php artisan tinker --execute="echo config('database.redis.options.prefix');"); the lane's count is held until then`,
            }
          : { message: 'key prefix confirmed', lane, configuredPrefix: prefix },
      );
    }
    return failure;
  }

  /** Closes the Redis connection (the Lambda never needs to; tests and the benchmark do). */
  async close(): Promise<void> {
    const redis = this.redis;
    this.redis = undefined;
    if (redis) await redis.then((client) => client.quit()).catch(() => undefined);
  }

  private async readRedis(nowSeconds: number): Promise<LaneReadings> {
    const client = await this.client();
    try {
      return await readLanes(client, this.readers.redis.lanes, this.redisConfig(), nowSeconds);
    } catch (error) {
      // A connection that failed once is not trusted with the next tick.
      this.redis = undefined;
      client.disconnect();
      throw error;
    }
  }

  /** The Redis settings; only read while a Redis lane is measured, which the schema requires them for. */
  private redisConfig(): RedisConfig {
    if (this.config.redis === undefined) throw new Error('no Redis is configured');
    return this.config.redis;
  }

  /** The Redis connection, opened on first use and kept while the container lives. */
  private async client(): Promise<RedisClient> {
    const open = this.redis;
    if (open !== undefined) {
      const client = await open.catch(() => undefined);
      if (client !== undefined && (client.status === 'ready' || client.status === 'connect')) return client;
      client?.disconnect();
    }
    const connect = this.deps.connectRedis ?? connectRedis;
    const next = this.token().then((password) => connect(this.redisConfig(), password));
    this.redis = next;
    try {
      return await next;
    } catch (error) {
      this.redis = undefined;
      // The token may have been rotated: read it again next time.
      this.authToken = undefined;
      throw error;
    }
  }

  /** The AUTH token from SSM (SecureString, decrypted), read once per cold start. */
  private token(): Promise<string | undefined> {
    const name = this.redisConfig().authParameterName;
    if (name === undefined) return Promise.resolve(undefined);
    this.authToken ??= this.deps.ssm
      .send(new GetParameterCommand({ Name: name, WithDecryption: true }))
      .then((out) => {
        const value = out.Parameter?.Value;
        if (value === undefined || value === '') throw new Error(`SSM parameter ${name} has no value`);
        return value;
      })
      .catch((error: unknown) => {
        this.authToken = undefined;
        throw new Error(`reading the Redis AUTH token from SSM parameter ${name} failed: ${message(error)}`);
      });
    return this.authToken;
  }

  /** Every page of one GetMetricData request. */
  private async metricData(query: HistoryQuery): Promise<MetricDataResult[]> {
    const results: MetricDataResult[] = [];
    let NextToken: string | undefined;
    do {
      const out = await this.deps.cloudwatch.send(
        new GetMetricDataCommand({
          MetricDataQueries: query.queries,
          StartTime: query.startTime,
          EndTime: query.endTime,
          NextToken,
        }),
      );
      results.push(...(out.MetricDataResults ?? []));
      NextToken = out.NextToken;
    } while (NextToken !== undefined);
    return results;
  }
}

function laneReports(
  readings: readonly LaneReading[] | undefined,
  decisions: ReadonlyMap<string, LaneDecision> | undefined,
  keysElsewhere: (lane: string) => readonly string[] | undefined,
  sized: ReadonlySet<string>,
): LaneReport[] {
  return (readings ?? []).map((r) => {
    const d = decisions?.get(r.lane);
    const found = keysElsewhere(r.lane);
    return {
      lane: r.lane,
      ready: r.ready,
      reserved: r.reserved,
      delayed: r.delayed,
      delayedDue: r.delayedDue,
      stuckReserved: r.stuckReserved,
      backlog: backlogOf(r),
      oldestReadyAgeSeconds: r.oldestReadyAgeSeconds ?? null,
      oldestRunnableAgeSeconds: r.oldestRunnableAgeSeconds ?? null,
      oldestRunningSeconds: r.oldestRunningSeconds ?? null,
      sized: sized.has(r.lane),
      ...(found && { keysUnderOtherPrefix: found }),
      ...(d && { current: d.current, wanted: d.wanted, desired: d.desired, held: d.held, reason: d.reason }),
    };
  });
}

/** The lanes a wake-up names, or undefined for a scheduled tick (any event without `wake`). */
export function wakeLanes(event: unknown): string[] | undefined {
  if (event === null || typeof event !== 'object' || !('wake' in event)) return undefined;
  const { wake } = event as { wake: unknown };
  const names = Array.isArray(wake) ? wake : [wake];
  return names.filter((name): name is string => typeof name === 'string');
}

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * Every AWS client's bounds: a hung endpoint fails its call within about 8 s
 * (two attempts of a 1 s connect and a 3 s answer), so a tick's few sequential
 * calls end well inside the function's 50 s, and a failed tick still publishes
 * ControllerErrors instead of being cut off by the Lambda timeout.
 */
export const AWS_CLIENT_OPTIONS = {
  maxAttempts: 2,
  // Without throwOnRequestTimeout the handler only logs a warning and keeps waiting.
  requestHandler: { connectionTimeout: 1000, requestTimeout: 3000, throwOnRequestTimeout: true },
} as const;

/** Options for createHandler; the Lambda passes none. */
export interface HandlerOptions {
  /** @default process.env */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** Clients and hooks; AWS clients default to the Lambda's region and credentials. */
  readonly deps?: Partial<ControllerDeps>;
}

/**
 * The Lambda handler. Validates CONTROLLER_CONFIG now, at cold start (a bad
 * configuration fails the function's init with every problem listed); the Redis
 * connection and the AUTH token are opened on the first invocation and reused.
 */
export function createHandler(options: HandlerOptions = {}): ControllerHandler {
  const env = options.env ?? process.env;
  const config = parseControllerConfig(env[CONTROLLER_CONFIG_ENV]);
  const controller = new BacklogController(config, {
    ...options.deps,
    ecs: options.deps?.ecs ?? new ECSClient(AWS_CLIENT_OPTIONS),
    cloudwatch: options.deps?.cloudwatch ?? new CloudWatchClient(AWS_CLIENT_OPTIONS),
    ssm: options.deps?.ssm ?? new SSMClient(AWS_CLIENT_OPTIONS),
    sqs: options.deps?.sqs ?? new SQSClient(AWS_CLIENT_OPTIONS),
  });
  return Object.assign((event?: unknown) => controller.tick(event), { controller });
}

/** The Lambda handler, with the controller behind it (for tests: `handler.controller.close()`). */
export type ControllerHandler = ((event?: unknown) => Promise<TickReport>) & { readonly controller: BacklogController };
