/*
 * An environment's lanes, Redis and SQS, as the simulator takes them (every stage taken as
 * scaled), run through the standard workloads. The controller runs on what synth
 * writes for the file (buildControllerConfig), so every policy key the file sets
 * reaches the simulated controller with no code here.
 */
import { parameterPathPrefix, type EnvironmentConfig } from '@queue-lanes/config';
import type { ControllerConfigInput } from '@queue-lanes/contract';
import { buildControllerConfig } from '@queue-lanes/contract/environment';
import { simulate, standardWorkloads, workloadLanes as lanesOf, type SimulationResult, type WorkloadLane } from '@queue-lanes/simulator';

/**
 * The controller's configuration as synth would write it were every lane
 * scaled: a lane still at off or baseline is judged as it would run once it scales.
 */
export function simulatedController(env: EnvironmentConfig): ControllerConfigInput {
  const scaled: EnvironmentConfig = {
    ...env,
    lanes: env.lanes.map((lane) =>
      lane.sizedBy !== 'controller'
        ? { ...lane, stage: lane.stage === 'owned' ? 'owned' : 'scaling', sizedBy: 'controller', controllerMeasured: true }
        : lane,
    ),
  };
  return buildControllerConfig(scaled, { parameterPathPrefix: parameterPathPrefix(env) });
}

/** A lane of the file as the simulator takes it: its workers, and the bounds the workload and the foresight bound read. */
export function workloadLanes(env: EnvironmentConfig): WorkloadLane[] {
  return env.lanes.map((lane) => ({
    name: lane.name,
    queues: lane.queues,
    ...(lane.sqs !== undefined
      ? { broker: 'sqs' as const, sqs: { visibilityTimeout: lane.sqs.visibilityTimeout, maxReceiveCount: lane.sqs.maxReceiveCount } }
      : {}),
    min: lane.tasks.min,
    max: lane.tasks.max,
    workers: lane.workers,
    tries: lane.job.tries,
    backoff: lane.job.backoff[0],
    jobTimeout: lane.longestJobTimeout,
    stopTimeout: lane.stopTimeout,
    scaleInProtection: lane.scaleInProtection,
    ...(lane.grouped ? { groups: lane.groups.map((g) => ({ queues: g.queues, processes: g.processes })) } : {}),
    ...(lane.warm !== undefined ? { warm: lane.warm } : {}),
  }));
}

export async function simulateEnvironment(
  env: EnvironmentConfig,
  options: { lane?: string; workload?: string; wake?: boolean } = {},
): Promise<SimulationResult[]> {
  const lanes = workloadLanes(env).filter((l) => options.lane === undefined || l.name === options.lane);
  if (lanes.length === 0) {
    const known = workloadLanes(env).map((l) => l.name);
    throw new Error(
      options.lane ? `no lane "${options.lane}"; lanes: ${known.join(', ') || 'none'}` : 'the environment has no lane to simulate',
    );
  }
  const controller = simulatedController(env);
  const results: SimulationResult[] = [];
  for (const lane of lanes) {
    for (const workload of standardWorkloads([lane, ...lanes.filter((l) => l !== lane)])) {
      if (options.workload !== undefined && workload.name !== options.workload) continue;
      const together = lanesOf(workload).length > 1;
      if (together && lane !== lanes[0]) continue;
      results.push(
        await simulate({
          lanes: together ? lanes.slice(0, 2) : [lane],
          controller,
          fleetMaxTasks: env.fleet.maxTasks,
          workload,
          wake: options.wake ?? false,
          retryAfter: env.redis.retryAfter,
        }),
      );
    }
  }
  return results;
}
