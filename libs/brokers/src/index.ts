/*
 * @queue-lanes/brokers: what each broker means (its task grants, its queue
 * alarms and dashboard lines), one module per broker, looked up by the lane's
 * `broker`. A new broker is a new file here plus its entry in BROKER_MODULES.
 */
import type { Broker, LaneConfig } from '@queue-lanes/config';
import type { BrokerModule } from './broker';
import { redis } from './redis';
import { sqs } from './sqs';

/** Every broker's module, keyed by the schema's broker names: one missing is a compile error. */
export const BROKER_MODULES: Readonly<Record<Broker, BrokerModule>> = { redis, sqs };

/** The module of the lane's broker. */
export function brokerOf(lane: Pick<LaneConfig, 'broker'>): BrokerModule {
  return BROKER_MODULES[lane.broker];
}

export {
  type AlarmSpec,
  type AlarmSpecConfig,
  type BrokerModule,
  type MetricLine,
  type MetricOptions,
  shellQuote,
  type QueueAlarmKind,
  type QueueInspection,
  type QueueSignalContext,
  type QueueSignals,
  type QueueThresholds,
  type SignalEnvironment,
  type SignalLane,
} from './broker';
