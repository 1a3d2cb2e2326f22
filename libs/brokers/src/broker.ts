import type { CloudwatchMetricAlarmConfig } from '@cdktf/provider-aws/lib/cloudwatch-metric-alarm';
import type { Broker, EnvironmentConfig, LaneConfig } from '@queue-lanes/config';
import type { PolicyStatement } from '@queue-lanes/iam-policy';

/*
 * What a broker means to the rest of the product, behind one interface: the
 * task role's grants on its queues, and the signals that say a lane is behind
 * (alarms and dashboard lines). Each broker is one file implementing it,
 * registered in index.ts's table, which is typed by the schema's broker list:
 * a broker the schema accepts and no module implements fails to compile.
 */

/** A metric line of a dashboard graph: namespace, name, dimension name/value pairs, then rendering options. */
export type MetricLine = (string | MetricOptions)[];

export interface MetricOptions {
  readonly label?: string;
  readonly stat?: string;
  readonly period?: number;
  readonly yAxis?: 'left' | 'right';
}

/** An alarm as a broker describes it; the caller names it, tags it and wires its actions. */
export type AlarmSpecConfig = Omit<CloudwatchMetricAlarmConfig, 'alarmName' | 'alarmActions' | 'okActions' | 'actionsEnabled' | 'tags'>;

export interface AlarmSpec {
  /** The alarm's kind, the last part of its name (`<app>-<env>-<lane>-<kind>`). */
  readonly kind: QueueAlarmKind;
  readonly config: AlarmSpecConfig;
}

/** Alarm kinds a broker can contribute. */
export type QueueAlarmKind = 'backlog' | 'oldest-job' | 'key-prefix' | 'stuck-jobs' | 'dead-letters';

/** The thresholds of a lane's queue alarms, derived defaults filled in. */
export interface QueueThresholds {
  readonly backlog: number;
  readonly backlogMinutes: number;
  readonly oldestJobSeconds: number;
  /** Minutes the oldest job must stay over oldestJobSeconds. */
  readonly oldestJobMinutes: number;
}

/** What a broker's queue signals read of the environment: its names, and the Redis queue connection's settings. */
export type SignalEnvironment = Pick<EnvironmentConfig, 'app' | 'environment' | 'redisKeyPrefix'> & {
  /** Only a retry_after of null (reservations never expire) changes the signals; absent, reservations expire. */
  readonly redis: Partial<Pick<EnvironmentConfig['redis'], 'retryAfter'>>;
};

/** What a broker's queue signals read of a lane. */
export type SignalLane = Pick<LaneConfig, 'name' | 'broker' | 'queues' | 'sizedBy' | 'tasks' | 'longestJobTimeout' | 'sqs'>;

export interface QueueSignalContext {
  readonly env: SignalEnvironment;
  readonly lane: SignalLane;
  readonly thresholds: QueueThresholds;
  /** The backlog controller's CloudWatch namespace. */
  readonly namespace: string;
  /** The environment's dashboard, which alarm descriptions point at. */
  readonly dashboardName: string;
  /** The lane's worker log group (may be a token). */
  readonly logGroupName: string;
  /** The backlog controller function; absent when the environment has none. */
  readonly controllerFunctionName?: string;
  /** Whether the backlog controller publishes this lane's backlog. */
  readonly controllerMeasured: boolean;
  /** The queues the workers consume, when the caller has them (a broker with its own queues names them otherwise). */
  readonly queueNames?: readonly string[];
  /** The lane's dead-letter queue, when the caller has it. */
  readonly deadLetterQueueName?: string;
}

/** How a lane's queue is watched. */
export interface QueueSignals {
  /** Whether anything publishes the lane's backlog at its stage. */
  readonly measured: boolean;
  /** Alarms that say the queue is behind, created before the lane's log-derived alarms. */
  readonly queueAlarms: readonly AlarmSpec[];
  /** Alarms on where jobs end up when they fail beyond Laravel's failed_jobs, created after them. */
  readonly failureAlarms: readonly AlarmSpec[];
  readonly dashboard: {
    /** The backlog graph's lines. */
    readonly backlog: MetricLine[];
    /** The oldest-job graph's lines. */
    readonly age: MetricLine[];
    /** What the oldest-job graph measures the age of ("message", "runnable job"). */
    readonly oldestNoun: string;
    /** Lines added to the failed-jobs graph (right axis). */
    readonly failed: MetricLine[];
  };
}

/** How an operator reads a lane's queue from a shell, as the product reads it. */
export interface QueueInspection {
  /** Said once before the lanes' commands, with {@link setup}. */
  readonly intro?: string;
  /** Shell lines run once (a login, a shell function the lane lines use). */
  readonly setup: readonly string[];
  /** The lines that show one lane's queues. */
  laneLines(lane: LaneConfig): string[];
}

/** The names and places of an environment a broker's grants are built from (an EnvironmentConfig is one). */
export interface BrokerPlace {
  readonly app: string;
  readonly environment: string;
  readonly region: string;
  readonly allowedAccountIds: readonly string[];
}

export interface BrokerModule {
  readonly broker: Broker;
  /** Statements a lane's task role needs to consume and dispatch on its queues (none where the network alone admits it). */
  taskStatements(env: BrokerPlace, lane: Pick<LaneConfig, 'name'>, kmsKeyArn: string): PolicyStatement[];
  /** The lane's queue alarms and dashboard lines. */
  queueSignals(context: QueueSignalContext): QueueSignals;
  /** Reading the queues by hand (the runbook); undefined where the file does not say where they are. `region` is the CLI's `--region …`. */
  queueInspection(env: EnvironmentConfig, region: string): QueueInspection | undefined;
}

/** `text` as one single-quoted shell word. */
export function shellQuote(text: string): string {
  return `'${text.replace(/'/g, `'\\''`)}'`;
}

/** Said in every "behind" alarm: adding workers does not help a lane cut off from its stores. */
export const CONNECTIVITY_FIRST = 'if redis-errors or aurora-errors also fire, fix connectivity before adding workers';
