import type { ControllerLaneConfig } from '@queue-lanes/contract';
import type { Bound, LaneResult, TimelinePoint } from './simulate';
import type { WorkloadLane } from './workloads';

/*
 * What one row of a simulation tells the operator: whether the lane's jobs start
 * within its maxPickupSeconds and how far off they are, and, when they do not, the
 * setting most likely to change that, read from what held the lane while jobs waited.
 */

/** A row's verdict; empty for a lane without a pickup target (count-based sizing only) or without jobs. */
export interface Verdict {
  /** Wait p95 over the lane's maxPickupSeconds: 1 or below meets it. */
  readonly pickupRatio?: number;
  readonly meets?: boolean;
  /** When it misses: the likely lever, in the file's words, and what points at it. */
  readonly lever?: string;
}

export interface VerdictInput {
  readonly lane: WorkloadLane;
  /** The lane's policy as the simulated controller ran it. */
  readonly policy: Pick<ControllerLaneConfig, 'maxPickupSeconds' | 'backlogPerTask'>;
  readonly result: LaneResult;
  /** The perfect-foresight schedule of the same jobs within the lane's tasks.max. */
  readonly bound: Bound;
  /** The lane, one point a minute. */
  readonly timeline: readonly TimelinePoint[];
  /** The desired tasks of every lane of the run at each of those minutes: the fleet. */
  readonly fleetDesired: readonly number[];
  readonly fleetMaxTasks: number;
}

export function verdictOf(input: VerdictInput): Verdict {
  const { policy, result } = input;
  const target = policy.maxPickupSeconds;
  if (target === undefined || result.jobs === 0) return {};
  const pickupRatio = Math.round((result.wait.p95 / target) * 10) / 10;
  if (result.wait.p95 <= target) return { pickupRatio, meets: true };
  return { pickupRatio, meets: false, lever: leverOf(input, target) };
}

/** The minutes in which jobs waited for a worker, and what held the lane in most of them. */
function leverOf({ lane, policy, result, bound, timeline, fleetDesired, fleetMaxTasks }: VerdictInput, target: number): string {
  // Jobs that fail wait behind their own retries: more tasks would only fail them faster.
  if (result.failed * 2 > result.jobs)
    return `none of the lane's: ${result.failed} of ${result.jobs} jobs failed for good; fix what fails them`;
  const capacity = `tasks.max (${lane.max}) or ${lane.groups ? "the groups' processes" : 'workers'} (${lane.workers})`;
  if (bound.waitP95 > target) return `${capacity}: even perfect foresight within them waits ${bound.waitP95} s`;
  const waiting = timeline.flatMap((point, i) => (point.backlog > point.running * lane.workers ? [{ point, fleet: fleetDesired[i] }] : []));
  const full = ({ point, fleet }: (typeof waiting)[number]) => point.desired < lane.max && fleet >= fleetMaxTasks;
  // Each waiting minute counts once: a full fleet first (it holds a cold lane at zero too).
  const held = {
    fleet: waiting.filter(full).length,
    cold: waiting.filter((w) => !full(w) && w.point.running === 0).length,
    max: waiting.filter(({ point }) => point.running > 0 && point.desired >= lane.max).length,
    sized: waiting.filter((w) => !full(w) && w.point.running > 0 && w.point.desired < lane.max).length,
  };
  const most = Math.max(held.fleet, held.max, held.sized, held.cold);
  if (held.fleet === most && most > 0) return `fleet.maxTasks (${fleetMaxTasks}): the fleet was full while jobs waited ${held.fleet} min`;
  if (held.max === most && most > 0) return `${capacity}: the lane was at tasks.max while jobs waited ${held.max} min`;
  if (held.sized === most || most === 0) {
    return `backlogPerTask (${policy.backlogPerTask}): the controller asked for fewer than tasks.max while jobs waited ${held.sized} min`;
  }
  return lane.warm?.length
    ? `the warm window's length (warm[0].minutes ${lane.warm[0].minutes}): the lane was at zero while jobs waited ${held.cold} min`
    : `tasks.min (${lane.min}), or a warm window if the work comes on a schedule: the lane was at zero while jobs waited ${held.cold} min`;
}
