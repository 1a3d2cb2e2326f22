import { GetMetricDataCommand, PutMetricDataCommand, type CloudWatchClient, type MetricDataResult } from '@aws-sdk/client-cloudwatch';
import { DescribeServicesCommand, UpdateServiceCommand, type ECSClient } from '@aws-sdk/client-ecs';
import type { SSMClient } from '@aws-sdk/client-ssm';

/*
 * ECS and CloudWatch as the controller sees them, in virtual time. ECS keeps
 * each service's desired count and tells the fleet when it changes; CloudWatch
 * keeps every datapoint PutMetricData sends and answers GetMetricData with
 * one-minute maxima, the way the controller reads its drain window back.
 */

export class SimulatedEcs {
  readonly desired = new Map<string, number>();
  /** UpdateService calls that changed a count, by service. */
  readonly updates = new Map<string, number>();

  constructor(
    services: readonly string[],
    private readonly onChange: (service: string, desired: number) => void,
  ) {
    for (const service of services) this.desired.set(service, 0);
  }

  /** Sets a service's desired count, as UpdateService (or App Auto Scaling) does. */
  update(service: string, desired: number): void {
    if (this.desired.get(service) !== desired) this.updates.set(service, (this.updates.get(service) ?? 0) + 1);
    this.desired.set(service, desired);
    this.onChange(service, desired);
  }

  client(): ECSClient {
    const send = async (command: unknown) => {
      if (command instanceof DescribeServicesCommand) {
        const names = command.input.services ?? [];
        return {
          services: names
            .filter((name) => this.desired.has(name))
            .map((name) => ({ serviceName: name, status: 'ACTIVE', desiredCount: this.desired.get(name) })),
          failures: names.filter((name) => !this.desired.has(name)).map((name) => ({ arn: name, reason: 'MISSING' })),
        };
      }
      if (command instanceof UpdateServiceCommand) {
        const { service, desiredCount } = command.input;
        if (service === undefined || !this.desired.has(service) || desiredCount === undefined)
          throw new Error(`ServiceNotFoundException: ${service}`);
        this.update(service, desiredCount);
        return {};
      }
      throw new Error(`the simulated ECS has no ${(command as object).constructor.name}`);
    };
    return { send } as unknown as ECSClient;
  }
}

interface Datapoint {
  /** Namespace, name and dimensions: what identifies a metric. */
  readonly id: string;
  readonly at: number;
  readonly value: number;
}

function metricId(
  namespace: string | undefined,
  name: string | undefined,
  dimensions: readonly { Name?: string; Value?: string }[] = [],
): string {
  const dims = [...dimensions].map((d) => `${d.Name}=${d.Value}`).sort();
  return [namespace, name, ...dims].join('|');
}

/** How a minute's datapoints combine, per statistic the controller asks for. */
const COMBINE: Readonly<Record<string, (a: number, b: number) => number>> = { Maximum: Math.max, Minimum: Math.min, Sum: (a, b) => a + b };

export class SimulatedCloudWatch {
  private readonly points: Datapoint[] = [];

  /** A datapoint from outside the controller (what a log metric filter publishes). */
  put(namespace: string, name: string, at: Date, value: number): void {
    this.points.push({ id: metricId(namespace, name), at: at.getTime(), value });
  }

  client(): CloudWatchClient {
    const send = async (command: unknown) => {
      if (command instanceof PutMetricDataCommand) {
        for (const datum of command.input.MetricData ?? []) {
          if (datum.Value === undefined) continue;
          const id = metricId(command.input.Namespace, datum.MetricName, datum.Dimensions);
          this.points.push({ id, at: datum.Timestamp!.getTime(), value: datum.Value });
        }
        return {};
      }
      if (command instanceof GetMetricDataCommand) {
        const start = command.input.StartTime!.getTime();
        const end = command.input.EndTime!.getTime();
        const results: MetricDataResult[] = (command.input.MetricDataQueries ?? []).map((query) => {
          const metric = query.MetricStat!.Metric!;
          const id = metricId(metric.Namespace, metric.MetricName, metric.Dimensions);
          const stat = query.MetricStat!.Stat;
          const combine = stat === undefined ? undefined : COMBINE[stat];
          if (combine === undefined) throw new Error(`the simulated CloudWatch has no statistic ${stat}`);
          const byMinute = new Map<number, number>();
          for (const p of this.points) {
            if (p.id !== id || p.at < start || p.at >= end) continue;
            const minute = Math.floor(p.at / 60_000) * 60_000;
            const before = byMinute.get(minute);
            byMinute.set(minute, before === undefined ? p.value : combine(before, p.value));
          }
          const minutes = [...byMinute.keys()].sort((a, b) => b - a);
          return {
            Id: query.Id,
            StatusCode: 'Complete',
            Timestamps: minutes.map((m) => new Date(m)),
            Values: minutes.map((m) => byMinute.get(m)!),
          };
        });
        return { MetricDataResults: results };
      }
      throw new Error(`the simulated CloudWatch has no ${(command as object).constructor.name}`);
    };
    return { send } as unknown as CloudWatchClient;
  }
}

/** The controller needs SSM only for a Redis AUTH token, which the simulation has none of. */
export function noSsm(): SSMClient {
  return { send: async () => Promise.reject(new Error('the simulation has no SSM')) } as unknown as SSMClient;
}
