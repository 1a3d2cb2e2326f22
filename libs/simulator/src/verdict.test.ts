import type { LaneResult, TimelinePoint } from './simulate';
import { verdictOf, type VerdictInput } from './verdict';
import type { WorkloadLane } from './workloads';

/*
 * The lever a missing row names, read from what held the lane in the minutes its jobs
 * waited: each case a lane and a timeline built to show one cause.
 */

const lane: WorkloadLane = {
  name: 'image',
  queues: ['image'],
  min: 0,
  max: 2,
  workers: 2,
  tries: 3,
  backoff: 10,
  jobTimeout: 90,
  stopTimeout: 120,
};
const wait = (p95: number) => ({ p50: p95 / 2, p95, max: p95 });
const result = (p95: number, extra: Partial<LaneResult> = {}): LaneResult => ({
  lane: 'image',
  jobs: 100,
  done: 100,
  failed: 0,
  stuck: 0,
  killed: 0,
  wait: wait(p95),
  queueWait: { image: wait(p95) },
  firstTask: 78,
  taskMinutes: 30,
  scaleEvents: 2,
  wakes: 1,
  longestZeroWithWork: 78,
  ...extra,
});
/** Ten minutes of `point`: 60 jobs waiting or running in each. */
const minutes = (point: Omit<TimelinePoint, 't' | 'backlog'>): TimelinePoint[] =>
  Array.from({ length: 10 }, (_, i) => ({ t: i * 60, backlog: 60, ...point }));
const input = (timeline: TimelinePoint[], extra: Partial<VerdictInput> = {}): VerdictInput => ({
  lane,
  policy: { maxPickupSeconds: 600, backlogPerTask: 50 },
  result: result(1200),
  bound: { taskMinutes: 20, waitP95: 300 },
  timeline,
  fleetDesired: timeline.map((p) => p.desired),
  fleetMaxTasks: 8,
  ...extra,
});

describe('a row of the simulation', () => {
  it('meets maxPickupSeconds at or below it, with the ratio', () => {
    expect(verdictOf(input([], { result: result(600) }))).toEqual({ pickupRatio: 1, meets: true });
    expect(verdictOf(input([], { result: result(30) }))).toEqual({ pickupRatio: 0.1, meets: true });
  });

  it('has no verdict for a lane without a pickup target, or without jobs', () => {
    expect(verdictOf(input([], { policy: { backlogPerTask: 50 } }))).toEqual({});
    expect(verdictOf(input([], { result: result(0, { jobs: 0 }) }))).toEqual({});
  });

  it('names the ceiling when even perfect foresight within it misses', () => {
    expect(verdictOf(input(minutes({ desired: 2, running: 2 }), { bound: { taskMinutes: 20, waitP95: 900 } }))).toEqual({
      pickupRatio: 2,
      meets: false,
      lever: 'tasks.max (2) or workers (2): even perfect foresight within them waits 900 s',
    });
  });

  it('names the ceiling when the lane sat at tasks.max while jobs waited', () => {
    expect(verdictOf(input(minutes({ desired: 2, running: 2 }))).lever).toBe(
      'tasks.max (2) or workers (2): the lane was at tasks.max while jobs waited 10 min',
    );
  });

  it('names the fleet cap when the other lanes held the fleet, whether the lane was at zero or not', () => {
    const timeline = minutes({ desired: 0, running: 0 });
    expect(verdictOf(input(timeline, { fleetDesired: timeline.map(() => 8) })).lever).toBe(
      'fleet.maxTasks (8): the fleet was full while jobs waited 10 min',
    );
  });

  it('names backlogPerTask when the controller asked for fewer tasks than it could', () => {
    expect(verdictOf(input(minutes({ desired: 1, running: 1 }))).lever).toBe(
      'backlogPerTask (50): the controller asked for fewer than tasks.max while jobs waited 10 min',
    );
  });

  it("names tasks.min, or the warm window's length, when the lane was at zero with work", () => {
    const cold = minutes({ desired: 0, running: 0 });
    expect(verdictOf(input(cold)).lever).toBe(
      'tasks.min (0), or a warm window if the work comes on a schedule: the lane was at zero while jobs waited 10 min',
    );
    const warm = { ...lane, warm: [{ at: '0 2 * * *', tasks: 1, minutes: 30 }] };
    expect(verdictOf(input(cold, { lane: warm })).lever).toBe(
      "the warm window's length (warm[0].minutes 30): the lane was at zero while jobs waited 10 min",
    );
  });

  it('names none of the lane settings when most jobs failed: more tasks would fail them faster', () => {
    expect(verdictOf(input(minutes({ desired: 2, running: 2 }), { result: result(1200, { failed: 60, done: 40 }) })).lever).toBe(
      "none of the lane's: 60 of 100 jobs failed for good; fix what fails them",
    );
  });
});
