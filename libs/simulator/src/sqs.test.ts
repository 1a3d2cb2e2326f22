import { MemorySqs } from './sqs';
import { simulate, type SimulationResult } from './simulate';
import { renderTable } from './table';
import { standardWorkloads, workloadLanes, type WorkloadLane } from './workloads';
import { MIX_LANE } from './testing';

/*
 * An SQS lane in the simulator: SQS's visibility timeout and receive counts in
 * memory, and the lane sized either by the backlog controller (reading the queue
 * with GetQueueAttributes, as it deploys) or by the App Auto Scaling design it
 * replaced, over the standard mix, beside the perfect-foresight bound.
 */

const settings = { visibilityTimeout: 60, maxReceiveCount: 2 };

describe('SQS in memory', () => {
  it("hides a received message for the visibility timeout, then hands it out again with its receive count (a killed worker's job)", () => {
    const sqs = new MemorySqs(() => settings);
    sqs.push('q', JSON.stringify({ id: 'a', attempts: 0 }), 100);
    const first = sqs.pop('q', 100)!;
    expect(JSON.parse(first)).toEqual({ id: 'a', attempts: 1 });
    expect(sqs.attributes('q', 130)).toEqual({ visible: 0, notVisible: 1, delayed: 0, oldestAge: 30 });
    expect(sqs.pop('q', 159)).toBeUndefined();
    expect(JSON.parse(sqs.pop('q', 160)!)).toEqual({ id: 'a', attempts: 2 });
  });

  it('moves a message received maxReceiveCount times to the dead-letter queue on the next receive', () => {
    const sqs = new MemorySqs(() => settings);
    sqs.push('q', JSON.stringify({ id: 'a' }), 0);
    sqs.pop('q', 0);
    sqs.pop('q', 60);
    expect(sqs.pop('q', 120)).toBeUndefined();
    expect(sqs.deadLettered('q')).toBe(1);
    expect(sqs.attributes('q', 120)).toEqual({ visible: 0, notVisible: 0, delayed: 0, oldestAge: 0 });
  });

  it('counts a delayed message as delayed, a released one as in flight until its backoff, and deletes a finished one', () => {
    const sqs = new MemorySqs(() => settings);
    sqs.later('q', 300, JSON.stringify({ id: 'later' }), 0);
    sqs.push('q', JSON.stringify({ id: 'now' }), 0);
    const handle = sqs.pop('q', 10)!;
    sqs.release('q', handle, 40);
    expect(sqs.attributes('q', 20)).toEqual({ visible: 0, notVisible: 1, delayed: 1, oldestAge: 20 });
    const again = sqs.pop('q', 40)!;
    sqs.deleteReserved('q', again);
    expect(sqs.attributes('q', 300)).toEqual({ visible: 1, notVisible: 0, delayed: 0, oldestAge: 300 });
  });
});

const feeds: WorkloadLane = {
  ...MIX_LANE,
  name: 'feeds',
  queues: ['sim-feeds'],
  broker: 'sqs',
  sqs: { visibilityTimeout: 900, maxReceiveCount: 5 },
};
const sync: WorkloadLane = { ...feeds, name: 'sync', queues: ['sync'], broker: 'redis', sqs: undefined, max: 2 };

async function mix(design: 'controller' | 'app-autoscaling'): Promise<SimulationResult[]> {
  const results: SimulationResult[] = [];
  for (const workload of standardWorkloads([feeds, sync])) {
    const both = workloadLanes(workload).length > 1;
    results.push(
      await simulate({
        lanes: both ? [feeds, sync] : [feeds],
        fleetMaxTasks: both ? 3 : 8,
        workload,
        ...(design === 'app-autoscaling' ? { appAutoScaling: ['feeds'] } : {}),
      }),
    );
  }
  return results;
}

/** The SQS lane's figures over the whole mix. */
function totals(results: readonly SimulationResult[]) {
  const rows = results.flatMap((r) => r.lanes.filter((l) => l.lane === 'feeds').map((l) => ({ lane: l, bound: r.bound.feeds })));
  const sum = (pick: (row: (typeof rows)[number]) => number) => Math.round(rows.reduce((s, row) => s + pick(row), 0) * 10) / 10;
  return {
    taskMinutes: sum((r) => r.lane.taskMinutes),
    bound: sum((r) => r.bound.taskMinutes),
    stuck: sum((r) => r.lane.stuck),
    killed: sum((r) => r.lane.killed),
  };
}

describe('an SQS lane over the standard mix', () => {
  let controller: SimulationResult[];
  let replaced: SimulationResult[];
  beforeAll(async () => {
    [controller, replaced] = [await mix('controller'), await mix('app-autoscaling')];
  });
  const row = (results: readonly SimulationResult[], workload: string) =>
    results.find((r) => r.workload === workload)!.lanes.find((l) => l.lane === 'feeds')!;

  it('costs the controller within 1.2x the bound, with no job stuck or killed; the replaced design about twice it', () => {
    expect(totals(controller)).toEqual({ taskMinutes: 1008.9, bound: 919.5, stuck: 0, killed: 0 });
    expect(totals(replaced)).toEqual({ taskMinutes: 1954.6, bound: 919.5, stuck: 0, killed: 0 });
    expect(totals(controller).taskMinutes / totals(controller).bound).toBeLessThan(1.2);
  });

  it('wakes on one message within a tick and a start, where the replaced design waits for its alarm on a late datapoint', () => {
    expect(row(controller, 'single-after-idle')).toMatchObject({ firstTask: 78, taskMinutes: 2 });
    expect(row(replaced, 'single-after-idle')).toMatchObject({ firstTask: 118, taskMinutes: 17 });
  });

  it('lets the lane go between sparse jobs, where the replaced design keeps a task for the drain window each time', () => {
    expect(row(controller, 'trickle-17min')).toMatchObject({ wakes: 50, taskMinutes: 77 });
    expect(row(replaced, 'trickle-17min')).toMatchObject({ taskMinutes: 673.3 });
  });

  it('gives long jobs the tasks that start them within maxPickupSeconds, from how long the running ones have run at least', () => {
    // The Redis lane of simulate.test.ts waits 678 / 1432 s; counting alone, 2478 / 5478 s.
    expect(row(controller, 'long-jobs-20').wait).toEqual({ p50: 678, p95: 1492, max: 1492 });
    expect(row(replaced, 'long-jobs-20').wait).toEqual({ p50: 743, p95: 1592, max: 1592 });
  });

  it('prints the table the notes carry, for both designs', () => {
    expect(renderTable(controller).split('\n')).toHaveLength(2 + 13);
    expect(renderTable(replaced).split('\n')).toHaveLength(2 + 13);
  });
});
