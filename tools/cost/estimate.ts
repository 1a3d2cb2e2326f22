/*
 * Monthly cost of one environment's lanes, in three scenarios (idle, baseline,
 * max), from the list prices in prices.json and the assumptions below. Pure
 * arithmetic on a validated EnvironmentConfig; report.ts renders it.
 */
import { z } from 'zod';
import { METRIC } from '@queue-lanes/contract';
import { SCHEDULER, alarmName, type EnvironmentConfig, type LaneConfig } from '@queue-lanes/config';
import pricesFile from './prices.json';

const rate = z.number().nonnegative();
const fargateRates = z.object({ vcpuHour: rate, gbHour: rate }).strict();
const fargateArch = z.object({ onDemand: fargateRates, spot: fargateRates }).strict();

const regionPricesSchema = z
  .object({
    name: z.string().min(1),
    fargate: z.object({ x86_64: fargateArch, arm64: fargateArch }).strict(),
    lambda: z
      .object({
        x86_64: z.object({ gbSecond: rate }).strict(),
        arm64: z.object({ gbSecond: rate }).strict(),
        requestsPerMillion: rate,
      })
      .strict(),
    cloudwatch: z
      .object({
        metricMonth: rate,
        alarmMonth: rate,
        dashboardMonth: rate,
        logIngestionGb: rate,
        apiRequestsPerThousand: rate,
      })
      .strict(),
  })
  .strict();

/** The shape of tools/cost/prices.json. */
export const priceTableSchema = z
  .object({
    description: z.string(),
    currency: z.literal('USD'),
    sourceDate: z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'must be a date like 2026-11-22'),
    sources: z.record(z.string(), z.string().min(1)),
    notes: z.array(z.string()),
    regions: z.record(z.string(), regionPricesSchema),
  })
  .strict();

export type PriceTable = z.infer<typeof priceTableSchema>;
export type RegionPrices = z.infer<typeof regionPricesSchema>;

/** prices.json, validated. */
export function defaultPrices(): PriceTable {
  return priceTableSchema.parse(pricesFile);
}

/** A cost that cannot be estimated (no prices for the region); the CLI prints the message. */
export class CostError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CostError';
  }
}

export function regionPrices(prices: PriceTable, region: string): RegionPrices {
  const found = prices.regions[region];
  if (!found) {
    const known = Object.keys(prices.regions).sort().join(', ');
    throw new CostError(
      `no prices for region ${region} in tools/cost/prices.json; known regions: ${known}. Add the region's rates there (see its sources)`,
    );
  }
  return found;
}

/** What the estimate assumes beyond the configuration; every figure is printed in the report. */
export interface CostAssumptions {
  readonly hoursPerMonth: number;
  /** The backlog controller Lambda (one per environment). */
  readonly controller: {
    readonly invocationsPerMinute: number;
    readonly durationSeconds: number;
    readonly memoryMb: number;
    readonly architecture: 'x86_64' | 'arm64';
    /** PutMetricData calls per invocation. */
    readonly putMetricDataPerInvocation: number;
    /** Environment-wide custom metrics (ControllerErrors). */
    readonly metrics: number;
    readonly logGbPerMonth: number;
  };
  /** Custom metrics the controller publishes per lane it manages. */
  readonly metricsPerControllerLane: number;
  readonly dashboards: number;
  /** Log ingestion per running task (lane or scheduler) per month. */
  readonly logGbPerTaskMonth: number;
}

export const DEFAULT_ASSUMPTIONS: CostAssumptions = {
  hoursPerMonth: 730,
  controller: {
    invocationsPerMinute: 1,
    durationSeconds: 1,
    memoryMb: 256,
    architecture: 'x86_64',
    putMetricDataPerInvocation: 1,
    metrics: 1,
    logGbPerMonth: 0.1,
  },
  // Every controller metric is per lane but ControllerErrors, and a lane has either
  // KeysUnderOtherPrefix (Redis) or DeadLetters (SQS).
  metricsPerControllerLane: Object.values(METRIC).length - 2,
  dashboards: 1,
  logGbPerTaskMonth: 1,
};

/** An alarm the synthesized stacks create, and the lane its `lane` tag names, if any. */
export interface SynthesizedAlarm {
  readonly name: string;
  readonly lane?: string;
}

/**
 * The alarms of an environment's synthesized stacks (their cdk.tf.json), counted
 * from what synth wrote rather than from a second copy of which alarms a lane gets.
 */
export function synthesizedAlarms(stacks: readonly unknown[]): SynthesizedAlarm[] {
  type Alarm = { alarm_name: string; tags?: Record<string, string> };
  return stacks.flatMap((stack) =>
    Object.values(
      (stack as { resource?: { aws_cloudwatch_metric_alarm?: Record<string, Alarm> } }).resource?.aws_cloudwatch_metric_alarm ?? {},
    ).map((a) => ({ name: a.alarm_name, ...(a.tags?.lane !== undefined ? { lane: a.tags.lane } : {}) })),
  );
}

export const SCENARIOS = ['idle', 'baseline', 'max'] as const;
export type Scenario = (typeof SCENARIOS)[number];
export type PerScenario<T> = Record<Scenario, T>;

/** What bills each line item, in the order the report lists them. */
export const SERVICES = [
  'Fargate on-demand',
  'Fargate Spot',
  'Lambda',
  'CloudWatch metrics',
  'CloudWatch alarms',
  'CloudWatch dashboard',
  'CloudWatch Logs ingestion',
  'CloudWatch API requests',
] as const;
export type Service = (typeof SERVICES)[number];

/** One priced quantity: who it belongs to, which service bills it, what it costs a month per scenario. */
export interface LineItem {
  /** Who it belongs to, as printed: a lane name, "backlog controller", "scheduler service" or "environment". */
  readonly owner: string;
  /** The lane, for a lane's items. */
  readonly lane?: string;
  readonly service: Service;
  readonly monthly: PerScenario<number>;
}

export interface LaneEstimate {
  readonly lane: LaneConfig;
  /** Tasks the lane runs in each scenario (after the fleet cap; fractions never occur here). */
  readonly tasks: PerScenario<number>;
  /** Scenarios in which fleet.maxTasks held the lane below what it asks for. */
  readonly capped: readonly Scenario[];
  /** Whether the backlog controller sets this lane's task count (Redis, scaling or owned). */
  readonly controllerManaged: boolean;
  readonly monthly: PerScenario<number>;
}

export interface CostEstimate {
  readonly env: EnvironmentConfig;
  readonly regionName: string;
  readonly sourceDate: string;
  readonly assumptions: CostAssumptions;
  readonly lanes: readonly LaneEstimate[];
  readonly items: readonly LineItem[];
  /** Worker tasks (lanes only) per scenario. */
  readonly tasks: PerScenario<number>;
  readonly total: PerScenario<number>;
  /** Whether the environment runs the backlog controller and the scheduler service. */
  readonly controller: boolean;
  readonly scheduler: boolean;
  /** Alarms the synthesized stacks create. */
  readonly alarms: number;
}

function perScenario<T>(f: (s: Scenario) => T): PerScenario<T> {
  return Object.fromEntries(SCENARIOS.map((s) => [s, f(s)])) as PerScenario<T>;
}
const constant = (value: number) => perScenario(() => value);

/** Tasks a lane asks for in a scenario, before the fleet cap. */
export function wantedTasks(lane: LaneConfig, scenario: Scenario): number {
  const { baseline, min, max } = lane.tasks;
  if (lane.stage === 'off') return 0;
  if (lane.stage === 'baseline') return baseline;
  if (scenario === 'idle') return min;
  if (scenario === 'max') return max;
  return Math.min(max, Math.max(min, baseline));
}

/**
 * Splits a task count over a capacity-provider strategy as ECS does: each
 * provider's `base` first, in order, then the rest by weight (fractions kept,
 * this is a monthly average).
 */
export function splitByCapacity(tasks: number, capacity: LaneConfig['capacity']): { onDemand: number; spot: number } {
  const out = { onDemand: 0, spot: 0 };
  const key = (provider: string) => (provider === 'FARGATE_SPOT' ? 'spot' : 'onDemand');
  let rest = tasks;
  for (const item of capacity) {
    const base = Math.min(item.base, rest);
    out[key(item.provider)] += base;
    rest -= base;
  }
  const weights = capacity.reduce((sum, item) => sum + item.weight, 0);
  for (const item of capacity) {
    if (weights > 0) out[key(item.provider)] += (rest * item.weight) / weights;
  }
  return out;
}

/**
 * Applies fleet.maxTasks the way the environment runs: fixed tasks (lanes at
 * baseline, paused lanes) first, then the controller's
 * lanes in priority order with what is left.
 */
function allocate(env: EnvironmentConfig, scenario: Scenario, managed: (lane: LaneConfig) => boolean): Map<string, number> {
  const out = new Map<string, number>();
  let fixed = 0;
  for (const lane of env.lanes) {
    if (!managed(lane)) {
      out.set(lane.name, wantedTasks(lane, scenario));
      fixed += wantedTasks(lane, scenario);
    }
  }
  let left = Math.max(0, env.fleet.maxTasks - fixed);
  for (const lane of env.lanes) {
    if (!managed(lane)) continue;
    const tasks = Math.min(wantedTasks(lane, scenario), left);
    out.set(lane.name, tasks);
    left -= tasks;
  }
  return out;
}

export function estimateCost(
  env: EnvironmentConfig,
  alarms: readonly SynthesizedAlarm[],
  prices: PriceTable = defaultPrices(),
  assumptions: CostAssumptions = DEFAULT_ASSUMPTIONS,
): CostEstimate {
  const region = regionPrices(prices, env.region);
  const hours = assumptions.hoursPerMonth;
  const cw = region.cloudwatch;
  const items: LineItem[] = [];
  const add = (owner: string, service: Service, monthly: PerScenario<number>, lane?: string) => {
    if (SCENARIOS.some((s) => monthly[s] !== 0)) items.push({ owner, service, monthly, ...(lane ? { lane } : {}) });
  };
  const taskMonth = (cpu: number, memory: number, rates: { vcpuHour: number; gbHour: number }) =>
    ((cpu / 1024) * rates.vcpuHour + (memory / 1024) * rates.gbHour) * hours;

  const isManaged = (lane: LaneConfig) => lane.sizedBy === 'controller';
  const allocations = perScenario((s) => allocate(env, s, isManaged));

  const lanes: LaneEstimate[] = env.lanes.map((lane) => {
    const tasks = perScenario((s) => allocations[s].get(lane.name) ?? 0);
    const capped = SCENARIOS.filter((s) => tasks[s] < wantedTasks(lane, s));
    const fargate = region.fargate[lane.architecture];
    const split = (s: Scenario) => splitByCapacity(tasks[s], lane.capacity);
    const addLane = (service: Service, monthly: PerScenario<number>) => add(lane.name, service, monthly, lane.name);
    addLane(
      'Fargate on-demand',
      perScenario((s) => split(s).onDemand * taskMonth(lane.cpu, lane.memory, fargate.onDemand)),
    );
    addLane(
      'Fargate Spot',
      perScenario((s) => split(s).spot * taskMonth(lane.cpu, lane.memory, fargate.spot)),
    );
    addLane(
      'CloudWatch Logs ingestion',
      perScenario((s) => tasks[s] * assumptions.logGbPerTaskMonth * cw.logIngestionGb),
    );
    const controllerManaged = isManaged(lane);
    if (lane.controllerMeasured) addLane('CloudWatch metrics', constant(assumptions.metricsPerControllerLane * cw.metricMonth));
    // A lane at off keeps its alarms (quiet), and CloudWatch bills them all the same.
    const laneAlarms = alarms.filter((a) => a.lane === lane.name).length;
    addLane('CloudWatch alarms', constant(laneAlarms * cw.alarmMonth));
    return { lane, tasks, capped, controllerManaged, monthly: constant(0) };
  });

  const scheduler = env.scheduler.service.enabled;
  if (scheduler) {
    const { cpu, memory } = env.scheduler.service;
    add('scheduler service', 'Fargate on-demand', constant(taskMonth(cpu, memory, region.fargate.x86_64.onDemand)));
    add('scheduler service', 'CloudWatch Logs ingestion', constant(assumptions.logGbPerTaskMonth * cw.logIngestionGb));
  }

  const controller = env.lanes.some((lane) => lane.controllerMeasured);
  if (controller) {
    const c = assumptions.controller;
    const invocations = c.invocationsPerMinute * 60 * hours;
    const gbSeconds = invocations * c.durationSeconds * (c.memoryMb / 1024);
    const owner = 'backlog controller';
    add(
      owner,
      'Lambda',
      constant(gbSeconds * region.lambda[c.architecture].gbSecond + (invocations / 1e6) * region.lambda.requestsPerMillion),
    );
    add(owner, 'CloudWatch API requests', constant(((invocations * c.putMetricDataPerInvocation) / 1000) * cw.apiRequestsPerThousand));
    add(owner, 'CloudWatch metrics', constant(c.metrics * cw.metricMonth));
    add(owner, 'CloudWatch Logs ingestion', constant(c.logGbPerMonth * cw.logIngestionGb));
  }
  // Alarms without a lane, by whose they are: the scheduler's, the controller's, the rest the environment's.
  const unowned = alarms.filter((a) => a.lane === undefined);
  const ownedBy = (prefix: string) => unowned.filter((a) => a.name.startsWith(prefix)).length;
  const schedulerAlarms = ownedBy(alarmName(env, SCHEDULER, ''));
  const controllerAlarms = ownedBy(alarmName(env, 'controller', ''));
  add('scheduler service', 'CloudWatch alarms', constant(schedulerAlarms * cw.alarmMonth));
  add('backlog controller', 'CloudWatch alarms', constant(controllerAlarms * cw.alarmMonth));
  add('environment', 'CloudWatch alarms', constant((unowned.length - schedulerAlarms - controllerAlarms) * cw.alarmMonth));
  add('environment', 'CloudWatch dashboard', constant(assumptions.dashboards * cw.dashboardMonth));

  const sumOf = (filter: (item: LineItem) => boolean) =>
    perScenario((s) => items.filter(filter).reduce((sum, item) => sum + item.monthly[s], 0));
  return {
    env,
    regionName: region.name,
    sourceDate: prices.sourceDate,
    assumptions,
    lanes: lanes.map((l) => ({ ...l, monthly: sumOf((item) => item.lane === l.lane.name) })),
    items,
    tasks: perScenario((s) => lanes.reduce((sum, l) => sum + l.tasks[s], 0)),
    total: sumOf(() => true),
    controller,
    scheduler,
    alarms: alarms.length,
  };
}
