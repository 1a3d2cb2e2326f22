import { createHash } from 'node:crypto';
import type { EnvironmentFile, LaneFile, Stage } from './schema';
import { SQS_DEFAULTS, STAGES } from './schema';
import { containerMemoryLimit, phpMemoryLimit } from './memory';

export interface CapacityStrategyItem {
  readonly provider: 'FARGATE' | 'FARGATE_SPOT';
  readonly base: number;
  readonly weight: number;
}

/** The capacity of a lane that names none and is not on Spot: regular Fargate only. */
export const ON_DEMAND_CAPACITY: readonly CapacityStrategyItem[] = [{ provider: 'FARGATE', base: 0, weight: 1 }];

export interface SqsSettings {
  readonly visibilityTimeout: number;
  readonly maxReceiveCount: number;
  readonly messageRetentionSeconds: number;
}

/**
 * Who sets a lane's task count, derived once here and read everywhere:
 * - `off`: nobody; the lane runs no tasks (stage off);
 * - `fixed`: Terraform, at tasks.baseline (stage baseline);
 * - `controller`: the backlog controller, from the lane's backlog (a lane at scaling or owned, Redis or SQS);
 * - `operator`: a person, by hand (a lane with `paused: true`).
 */
export type LaneSizing = 'off' | 'fixed' | 'controller' | 'operator';

/** How a lane at `stage` is sized: the same for every broker. */
export function laneSizing(lane: Pick<LaneFile, 'stage' | 'paused'>): LaneSizing {
  if (lane.stage === 'off') return 'off';
  if (lane.paused) return 'operator';
  if (lane.stage === 'baseline') return 'fixed';
  return 'controller';
}

export interface ReservedTasks {
  readonly lane: string;
  readonly tasks: number;
  readonly sizedBy: LaneSizing;
}

/**
 * Tasks nothing caps at run time, which count against fleet.maxTasks before the
 * controller hands out the rest: fixed lanes at tasks.baseline, paused lanes up
 * to tasks.max.
 */
export function reservedTaskParts(lanes: Readonly<Record<string, Pick<LaneFile, 'stage' | 'tasks' | 'paused'>>>): ReservedTasks[] {
  return Object.entries(lanes).flatMap(([lane, l]): ReservedTasks[] => {
    const sizedBy = laneSizing(l);
    if (sizedBy === 'fixed') return [{ lane, tasks: l.tasks.baseline, sizedBy }];
    // A paused lane runs what an operator set; tasks.max is what the cap counts for it.
    if (sizedBy === 'operator') return [{ lane, tasks: l.tasks.max, sizedBy }];
    return [];
  });
}

export type JobSettings = LaneFile['job'];

/** One set of a lane's queue:work processes: its queue chain, how many per task, and their job settings. */
export interface ProcessGroup {
  /** Names the containers, `<name>-1` … (`worker` for a lane without groups). */
  readonly name: string;
  readonly queues: readonly string[];
  readonly processes: number;
  /** The lane's job with the group's own settings over it. */
  readonly job: JobSettings;
  /** PHP's memory_limit for its processes, MiB: between job.memory and the container's hard limit (./memory). */
  readonly phpMemoryLimit: number;
}

/** The group a lane without `groups` is: `workers` processes taking every queue of `queues`. */
const SINGLE_GROUP = 'worker';

/**
 * A lane's process groups: its `groups` with the lane's job under each, or the one
 * group of `workers` processes on `queues`. Empty when the lane gives neither
 * (the rules report it).
 */
export function laneGroups(lane: Pick<LaneFile, 'queues' | 'groups' | 'workers' | 'job' | 'memory' | 'scaleInProtection'>): ProcessGroup[] {
  const processes = lane.groups ? lane.groups.reduce((sum, group) => sum + group.processes, 0) : (lane.workers ?? 1);
  const memoryLimit = phpMemoryLimit(containerMemoryLimit(lane.memory, processes), lane.scaleInProtection);
  if (lane.groups) {
    return lane.groups.map((group) => ({
      name: group.name,
      queues: group.queues,
      processes: group.processes,
      job: { ...lane.job, ...group.job },
      phpMemoryLimit: memoryLimit,
    }));
  }
  return lane.queues
    ? [{ name: SINGLE_GROUP, queues: lane.queues, processes: lane.workers ?? 1, job: lane.job, phpMemoryLimit: memoryLimit }]
    : [];
}

/** Every queue a lane's groups take, each once, in the order they first appear. */
export function groupQueues(groups: readonly ProcessGroup[]): string[] {
  return [...new Set(groups.flatMap((group) => group.queues))];
}

/** A lane with every default applied and its derived values filled in. */
export interface LaneConfig extends Omit<
  LaneFile,
  'capacity' | 'priority' | 'connection' | 'spot' | 'sqs' | 'queues' | 'workers' | 'groups'
> {
  readonly name: string;
  /** Every queue the lane consumes, each once, in priority order (its groups' chains joined). */
  readonly queues: readonly string[];
  /** queue:work processes per task, every group's together. */
  readonly workers: number;
  /** Its process groups; one (`worker`) for a lane that gives queues and workers. */
  readonly groups: readonly ProcessGroup[];
  /** Whether the file gives `groups` (else the lane is its queues and workers, one group). */
  readonly grouped: boolean;
  /** The longest job.timeout of its groups: what stopTimeout, retry_after and SQS visibility must cover. */
  readonly longestJobTimeout: number;
  /** Who sets the lane's task count. */
  readonly sizedBy: LaneSizing;
  /**
   * The backlog controller reads this lane's queues and publishes its metrics
   * (every lane past stage off, baseline included, Redis or SQS); it sizes only
   * those with sizedBy `controller`.
   */
  readonly controllerMeasured: boolean;
  /** Laravel connection the workers pass to queue:work. */
  readonly connection: string;
  /** Lower is served first when the fleet cap is reached. */
  readonly priority: number;
  readonly spot: boolean;
  readonly capacity: readonly CapacityStrategyItem[];
  /** Present exactly when broker is sqs. */
  readonly sqs?: SqsSettings;
}

export type ResolvedState =
  | { readonly backend: 'local'; readonly directory: string }
  | {
      readonly backend: 's3';
      readonly bucket: string;
      readonly region: string;
      readonly keyPrefix: string;
      readonly dynamodbTable?: string;
      readonly kmsKeyId?: string;
    }
  | {
      readonly backend: 'cloud';
      readonly organization: string;
      readonly project?: string;
      readonly hostname: string;
      readonly workspacePrefix: string;
    };

/** One environment, validated, with defaults applied: what the cdktf libs consume. */
export interface EnvironmentConfig extends Omit<EnvironmentFile, 'lanes' | 'state'> {
  /** The file it came from, as shown in messages. */
  readonly source: string;
  readonly state: ResolvedState;
  /** Lanes in priority order (then by name), stage off included. */
  readonly lanes: readonly LaneConfig[];
  /** Tasks counted against fleet.maxTasks that the controller does not size (see {@link reservedTaskParts}). */
  readonly reservedTasks: number;
  /**
   * A digest of the runtime parameters (plain values, secret names): the workers
   * carry it in their environment, so a changed value is a new task definition and
   * the services roll onto it instead of keeping the old value until they restart.
   */
  readonly parametersDigest: string;
  /**
   * The Laravel queue connection's key prefix: redis.keyPrefix, else
   * parameters.plain.REDIS_PREFIX; never derived from APP_NAME. The rules
   * require it while a lane is controllerMeasured.
   */
  readonly redisKeyPrefix?: string;
}

export function resolveEnvironment(file: EnvironmentFile, source: string): EnvironmentConfig {
  const lanes = Object.entries(file.lanes).map(([name, lane], index) => resolveLane(name, lane, index));
  lanes.sort((a, b) => a.priority - b.priority || a.name.localeCompare(b.name));
  const reservedTasks = reservedTaskParts(file.lanes).reduce((sum, part) => sum + part.tasks, 0);
  const prefix = redisKeyPrefix(file);
  return {
    ...file,
    source,
    state: resolveState(file),
    lanes,
    reservedTasks,
    parametersDigest: parametersDigest(file),
    ...(prefix !== undefined ? { redisKeyPrefix: prefix } : {}),
  };
}

function resolveLane(name: string, lane: LaneFile, index: number): LaneConfig {
  const { capacity, priority, connection, sqs, ...rest } = lane;
  const sizedBy = laneSizing(lane);
  const groups = laneGroups(lane);
  return {
    ...rest,
    name,
    // queues, workers and groups: what the groups resolve to.
    queues: groupQueues(groups),
    workers: groups.reduce((sum, group) => sum + group.processes, 0),
    groups,
    grouped: lane.groups !== undefined,
    longestJobTimeout: Math.max(...groups.map((group) => group.job.timeout)),
    sizedBy,
    controllerMeasured: sizedBy !== 'off',
    connection: connection ?? lane.broker,
    // File order, spaced so a later edit can slot a lane between two others.
    priority: priority ?? (index + 1) * 10,
    capacity: capacity ?? (lane.spot ? [{ provider: 'FARGATE_SPOT', base: 0, weight: 1 }] : ON_DEMAND_CAPACITY),
    ...(lane.broker === 'sqs' ? { sqs: { ...SQS_DEFAULTS, ...sqs } } : {}),
  };
}

function resolveState(file: EnvironmentFile): ResolvedState {
  const state = file.state;
  switch (state.backend) {
    case 'local':
      return state;
    case 's3':
      return {
        ...state,
        region: state.region ?? file.region,
        keyPrefix: state.keyPrefix ?? `${file.app}/${file.environment}`,
      };
    case 'cloud':
      return { ...state, workspacePrefix: state.workspacePrefix ?? `${file.app}-${file.environment}` };
  }
}

/**
 * The Redis endpoint the backlog controller reads: redis.host, else the workers'
 * own REDIS_HOST (parameters.plain); undefined when neither is set.
 */
export function redisHost(env: Pick<EnvironmentFile, 'redis' | 'parameters'>): string | undefined {
  const plain = env.parameters.plain.REDIS_HOST;
  return env.redis.host ?? (plain === undefined ? undefined : String(plain));
}

/** The first 16 hex digits of a SHA-256 over the plain values and the secret names, in name order. */
function parametersDigest(file: Pick<EnvironmentFile, 'parameters'>): string {
  const plain = Object.keys(file.parameters.plain)
    .sort()
    .map((name) => [name, String(file.parameters.plain[name])]);
  const body = JSON.stringify({ plain, secure: [...file.parameters.secure].sort() });
  return createHash('sha256').update(body).digest('hex').slice(0, 16);
}

/** redis.keyPrefix, else the workers' REDIS_PREFIX; undefined when neither is set. */
export function redisKeyPrefix(env: Pick<EnvironmentFile, 'redis' | 'parameters'>): string | undefined {
  const plain = env.parameters.plain.REDIS_PREFIX;
  return env.redis.keyPrefix ?? (plain === undefined ? undefined : String(plain));
}

/**
 * How every log group of an environment keeps its logs: for `retentionDays` (the
 * file's logs.retentionDays), and past its own resource (skip_destroy), so removing
 * a lane or destroying a stack never deletes what a diagnosis needs; CloudWatch expires them.
 */
export function logGroupRetention(retentionDays: number): { retentionInDays: number; skipDestroy: true } {
  return { retentionInDays: retentionDays, skipDestroy: true };
}

/** Position of a stage in the rollout order: off 0, baseline 1, scaling 2, owned 3. */
export function stageIndex(stage: Stage): number {
  return STAGES.indexOf(stage);
}

/** Whether the lane's task count is driven by scaling rather than fixed. */
export function isScaled(lane: Pick<LaneConfig, 'stage'>): boolean {
  return lane.stage === 'scaling' || lane.stage === 'owned';
}

/** Lanes the backlog controller measures (every lane past off), in priority order. */
export function controllerMeasuredLanes(env: Pick<EnvironmentConfig, 'lanes'>): LaneConfig[] {
  return env.lanes.filter((lane) => lane.controllerMeasured);
}
