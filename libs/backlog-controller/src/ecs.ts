import { DescribeServicesCommand, UpdateServiceCommand, type ECSClient } from '@aws-sdk/client-ecs';

/** DescribeServices takes at most ten services per call. */
export const DESCRIBE_SERVICES_BATCH = 10;

/** The desired counts read, and the services that could not be read (with why). */
export interface DesiredCounts {
  readonly counts: ReadonlyMap<string, number>;
  /** `<service>: <reason>` for every service not in `counts`. */
  readonly problems: readonly string[];
}

/**
 * Each service's desired count, by the name (or ARN) it was asked for. Batches
 * of ten, sent together. A service that is missing, not ACTIVE, or in a batch
 * whose call failed is left out of `counts` and named in `problems`: its lane is
 * not decided on, the others are.
 */
export async function readDesiredCounts(ecs: ECSClient, cluster: string, services: readonly string[]): Promise<DesiredCounts> {
  const batches: string[][] = [];
  for (let i = 0; i < services.length; i += DESCRIBE_SERVICES_BATCH) {
    batches.push(services.slice(i, i + DESCRIBE_SERVICES_BATCH));
  }
  const counts = new Map<string, number>();
  const problems: string[] = [];
  await Promise.all(
    batches.map(async (batch) => {
      let out;
      try {
        out = await ecs.send(new DescribeServicesCommand({ cluster, services: batch }));
      } catch (error) {
        for (const requested of batch) problems.push(`${requested}: DescribeServices failed: ${(error as Error).message}`);
        return;
      }
      for (const requested of batch) {
        const service = out.services?.find((s) => s.serviceName === requested || s.serviceArn === requested);
        if (service === undefined) {
          const failure = out.failures?.find((f) => f.arn === requested || f.arn?.endsWith(`/${requested}`));
          problems.push(`${requested}: ${failure?.reason ?? 'not returned'}`);
        } else if (service.status !== undefined && service.status !== 'ACTIVE') {
          problems.push(`${requested}: status ${service.status}`);
        } else if (typeof service.desiredCount !== 'number') {
          problems.push(`${requested}: no desiredCount`);
        } else {
          counts.set(requested, service.desiredCount);
        }
      }
    }),
  );
  return { counts, problems };
}

/** A desired-count change for one service. */
export interface ServiceChange {
  readonly service: string;
  readonly from: number;
  readonly to: number;
}

/** What applying a tick's changes did. */
export interface AppliedChanges {
  /** The changes ECS accepted. */
  readonly applied: readonly ServiceChange[];
  /** One per change that failed or was not sent. */
  readonly errors: readonly Error[];
}

/**
 * Applies the changes: decreases first, then increases, so the fleet cap holds
 * between the calls. If any decrease fails, no increase is sent: the cap was
 * computed on counts that are now not what ECS runs, and holds only on confirmed
 * ones. The next tick reads the counts afresh and tries again.
 */
export async function applyDesiredCounts(ecs: ECSClient, cluster: string, changes: readonly ServiceChange[]): Promise<AppliedChanges> {
  const applied: ServiceChange[] = [];
  const errors: Error[] = [];
  const what = (change: ServiceChange) => `ECS UpdateService ${change.service} ${change.from} -> ${change.to}`;
  const run = async (group: readonly ServiceChange[]) =>
    Promise.all(
      group.map(async (change) => {
        try {
          await ecs.send(new UpdateServiceCommand({ cluster, service: change.service, desiredCount: change.to }));
          applied.push(change);
        } catch (error) {
          errors.push(new Error(`${what(change)} failed: ${(error as Error).message}`));
        }
      }),
    );
  await run(changes.filter((c) => c.to < c.from));
  const increases = changes.filter((c) => c.to > c.from);
  if (errors.length > 0) {
    for (const change of increases) {
      errors.push(new Error(`${what(change)} not sent: a scale-in failed, so the fleet cap no longer holds on confirmed counts`));
    }
  } else {
    await run(increases);
  }
  // In the order the changes were asked for, whatever order ECS answered in.
  return { applied: changes.filter((c) => applied.includes(c)), errors };
}
