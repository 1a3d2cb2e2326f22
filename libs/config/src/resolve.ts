import type { EnvironmentFile, LaneFile, Stage } from './schema';
import { DEFAULT_OLDEST_MESSAGE_STEPS, STAGES } from './schema';

export interface CapacityStrategyItem {
  readonly provider: 'FARGATE' | 'FARGATE_SPOT';
  readonly base: number;
  readonly weight: number;
}

export interface SqsSettings {
  readonly visibilityTimeout: number;
  readonly maxReceiveCount: number;
  readonly messageRetentionSeconds: number;
  /** Scale-out steps on the age of the oldest message, youngest first. */
  readonly oldestMessageSteps: readonly { readonly ageSeconds: number; readonly addTasks: number }[];
}

/** A lane with every default applied and its derived values filled in. */
export interface LaneConfig
  extends Omit<LaneFile, 'capacity' | 'priority' | 'connection' | 'spot' | 'sqs'> {
  readonly name: string;
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
}

const SQS_DEFAULTS: SqsSettings = {
  visibilityTimeout: 300,
  maxReceiveCount: 5,
  messageRetentionSeconds: 345600,
  oldestMessageSteps: DEFAULT_OLDEST_MESSAGE_STEPS,
};

export function resolveEnvironment(file: EnvironmentFile, source: string): EnvironmentConfig {
  const lanes = Object.entries(file.lanes).map(([name, lane], index) => resolveLane(name, lane, index));
  lanes.sort((a, b) => a.priority - b.priority || a.name.localeCompare(b.name));
  return { ...file, source, state: resolveState(file), lanes };
}

function resolveLane(name: string, lane: LaneFile, index: number): LaneConfig {
  const { capacity, priority, connection, sqs, ...rest } = lane;
  return {
    ...rest,
    name,
    connection: connection ?? lane.broker,
    // File order, spaced so a later edit can slot a lane between two others.
    priority: priority ?? (index + 1) * 10,
    capacity:
      capacity ??
      (lane.spot
        ? [{ provider: 'FARGATE_SPOT', base: 0, weight: 1 }]
        : [{ provider: 'FARGATE', base: 0, weight: 1 }]),
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

/** Position of a stage in the rollout order: off 0, baseline 1, scaling 2, owned 3. */
export function stageIndex(stage: Stage): number {
  return STAGES.indexOf(stage);
}

/** Lanes that run on ECS (every stage but off). */
export function activeLanes(env: EnvironmentConfig): LaneConfig[] {
  return env.lanes.filter((l) => l.stage !== 'off');
}

/** Whether the lane's task count is driven by scaling rather than fixed. */
export function isScaled(lane: Pick<LaneConfig, 'stage'>): boolean {
  return lane.stage === 'scaling' || lane.stage === 'owned';
}
