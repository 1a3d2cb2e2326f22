import { MemoryRedis } from './redis';
import { fargateStartLatency, foresight, simulate, type SimulationResult } from './simulate';
import { renderChart } from './chart';
import { renderTable } from './table';
import { nextFiring, random, standardWorkloads, workloadLanes, type WorkloadLane } from './workloads';
import { MIX_LANE } from './testing';

/*
 * The simulator's own behaviour (Laravel's queue in memory, the bound), and the
 * real controller's figures over the standard mix: deterministic, so they are
 * asserted exactly. A controller change that moves them shows up here, with the
 * table to put in the change's note.
 */

const image: WorkloadLane = MIX_LANE;
const sync: WorkloadLane = { ...image, name: 'sync', queues: ['sync'], max: 2 };

async function mix(): Promise<SimulationResult[]> {
  const results: SimulationResult[] = [];
  for (const workload of standardWorkloads([image, sync])) {
    const both = workloadLanes(workload).length > 1;
    results.push(await simulate({ lanes: both ? [image, sync] : [image], fleetMaxTasks: both ? 3 : 8, workload }));
  }
  return results;
}

describe("Laravel's queue in memory", () => {
  it('moves due delayed jobs and expired reservations back onto the list when a worker pops', () => {
    const redis = new MemoryRedis('p_', 90);
    redis.later('q', 100, '{"id":"a","attempts":0}');
    expect(redis.pop('q', 99)).toBeUndefined();
    expect(redis.runnable('q', 100)).toBe(true);
    const reserved = redis.pop('q', 100)!;
    expect(JSON.parse(reserved)).toEqual({ id: 'a', attempts: 1 });
    expect(redis.runnable('q', 189)).toBe(false);
    // The worker died: at 190 the reservation has expired and the next pop hands it out again.
    expect(JSON.parse(redis.pop('q', 190)!)).toEqual({ id: 'a', attempts: 2 });
  });

  it('never hands out a reservation again when retry_after is null', () => {
    const redis = new MemoryRedis('p_', null);
    redis.push('q', '{"id":"a","attempts":0}');
    redis.pop('q', 0);
    expect(redis.pop('q', 1_000_000)).toBeUndefined();
    expect(redis.runnable('q', 1_000_000)).toBe(false);
  });
});

describe('the start latency', () => {
  it('stays within 30-90 s, most often near 45', () => {
    const rnd = random(7);
    const samples = Array.from({ length: 2000 }, () => fargateStartLatency(rnd)).sort((a, b) => a - b);
    expect(samples[0]).toBeGreaterThanOrEqual(30);
    expect(samples[samples.length - 1]).toBeLessThanOrEqual(90);
    expect(samples[1000]).toBeGreaterThan(45);
    expect(samples[1000]).toBeLessThan(60);
  });
});

describe('the perfect-foresight bound', () => {
  const lane = { workers: 2, tries: 1, backoff: 0, max: 1 };
  const job = (dispatchAt: number, duration: number) => ({ lane: 'l', queue: 'l', dispatchAt, delay: 0, duration, failures: 0 });

  it('runs jobs the moment they arrive and pays the latency once per run of a task', () => {
    // Two jobs side by side on one task: 100 s busy + 45 s start = 145 s.
    expect(foresight([job(0, 100), job(0, 100)], lane, 45)).toEqual({ taskMinutes: 2.4, waitP95: 0 });
    // A gap longer than the latency: stop and start again (2 × (10 + 45) s).
    expect(foresight([job(0, 10), job(1000, 10)], lane, 45).taskMinutes).toBe(1.8);
  });

  it('makes jobs wait when tasks.max leaves no free process', () => {
    expect(foresight([job(0, 60), job(0, 60), job(0, 60)], lane, 45)).toEqual({ taskMinutes: 2.8, waitP95: 60 });
  });
});

describe('the controller over the standard mix', () => {
  let results: SimulationResult[];
  beforeAll(async () => {
    results = await mix();
  });
  const row = (workload: string, lane = 'image') => results.find((r) => r.workload === workload)!.lanes.find((l) => l.lane === lane)!;

  it('is deterministic', async () => {
    expect(renderTable(await mix())).toBe(renderTable(results));
  });

  it('strands no job and kills none, in every workload', () => {
    for (const r of results) {
      for (const lane of r.lanes)
        expect({ workload: r.workload, lane: lane.lane, stuck: lane.stuck, killed: lane.killed }).toMatchObject({ stuck: 0, killed: 0 });
    }
  });

  it('wakes a cold lane on the next tick plus the start latency, and lets it go as soon as its lone job is done', () => {
    // Launched at the tick, running 58 s later, the 5 s job, and gone at the next tick: two billed minutes.
    expect(row('single-after-idle')).toMatchObject({ firstTask: 78, taskMinutes: 2, wakes: 1 });
    expect(results.find((r) => r.workload === 'single-after-idle')!.bound.image.taskMinutes).toBe(0.8);
  });

  it('meets every job of a trickle slower than the drain window with a cold lane, without paying the window each time', () => {
    expect(row('trickle-17min')).toMatchObject({ wakes: 50, taskMinutes: 77 });
  });

  it('lets a lane go between jobs 6 minutes apart, where the idle minutes cost more than a cold start, within maxPickupSeconds', async () => {
    expect(row('trickle-6min')).toMatchObject({ wakes: 20, taskMinutes: 32 });
    expect(row('trickle-6min').wait.p95).toBe(103);
    expect(row('trickle-6min').wait.p95).toBeLessThanOrEqual(image.maxPickupSeconds!);
    // Without the finished-job count a 10 s job between two ticks leaves no trace: the tail cannot be priced, and the drain window decides.
    const workload = standardWorkloads([image]).find((w) => w.name === 'trickle-6min')!;
    const blind = await simulate({ lanes: [image], fleetMaxTasks: 8, workload, finishedJobsFilter: false });
    expect(blind.lanes[0]).toMatchObject({ wakes: 7, taskMinutes: 117 });
    expect(blind.lanes[0].wait.p95).toBe(101);
  });

  it('keeps a lane warm through a trickle, steady or at random, once woken: no flap', () => {
    expect(row('trickle-40s')).toMatchObject({ wakes: 1, taskMinutes: 123 });
    // Poisson arrivals 40 s apart on average leave pauses of up to four minutes.
    expect(row('trickle-poisson-40s')).toMatchObject({ wakes: 1, taskMinutes: 125 });
  });

  it('ramps a burst to tasks.max in one step and shrinks with the work that is left', () => {
    const burst = results.find((r) => r.workload === 'burst-2000')!;
    const desired = burst.timeline.image.map((p) => p.desired);
    // The first tick after the dispatch asks for all four; the idle tasks go together when the work runs out.
    expect(desired.slice(0, 2)).toEqual([0, image.max]);
    expect(row('burst-2000')).toMatchObject({ scaleEvents: 3, wakes: 1, taskMinutes: 344, stuck: 0, killed: 0 });
    expect(burst.bound.image.taskMinutes).toBe(338.7);
  });

  it('gives twenty ten-minute jobs the tasks that start them within maxPickupSeconds, where counting them gives one', async () => {
    const long = results.find((r) => r.workload === 'long-jobs-20')!;
    expect(row('long-jobs-20')).toMatchObject({ wait: { p50: 678, p95: 1432, max: 1432 }, taskMinutes: 107.3, killed: 0 });
    expect(long.bound.image).toMatchObject({ waitP95: 1200, taskMinutes: 103 });
    // Count-based sizing alone: ceil(20 / 50) = 1 task, at about the same cost and almost four times the wait.
    const workload = standardWorkloads([image]).find((w) => w.name === 'long-jobs-20')!;
    const counted = await simulate({ lanes: [{ ...image, maxPickupSeconds: undefined }], fleetMaxTasks: 8, workload });
    expect(counted.lanes[0]).toMatchObject({ wait: { p50: 2478, p95: 5478, max: 5478 }, taskMinutes: 105 });
  });

  it('does not widen a lane whose jobs started failing in a loop', () => {
    // After 5 minutes every attempt fails; their retries grow the backlog, and the lane stays at the 2 tasks it had.
    const broken = results.find((r) => r.workload === 'broken-deploy')!;
    expect(Math.max(...broken.timeline.image.map((p) => p.desired))).toBe(2);
    expect(row('broken-deploy')).toMatchObject({ stuck: 0, killed: 0 });
  });

  it('has a task up when a delayed batch comes due (the look-ahead)', () => {
    expect(row('delayed-batch')).toMatchObject({ firstTask: 0, longestZeroWithWork: 0 });
    // Every worker busy and jobs waiting: no scale-in until they have started (hold-saturated).
    expect(row('delayed-batch').wait).toEqual({ p50: 117, p95: 228, max: 243 });
  });

  it('samples each lane once a minute from the first dispatch, and charts backlog, desired and running', () => {
    const single = results.find((r) => r.workload === 'single-after-idle')!;
    const timeline = single.timeline.image;
    expect(timeline[0]).toEqual({ t: 0, backlog: 1, desired: 0, running: 0 });
    expect(timeline.some((p) => p.running === 1)).toBe(true);
    const svg = renderChart(single, 'image');
    expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true);
    const polylines = [...svg.matchAll(/<polyline [^>]*points="([^"]*)"/g)].map((m) => m[1].split(' ').length);
    expect(polylines).toEqual([timeline.length, timeline.length, timeline.length]);
  });

  it('says of each row whether its jobs start within maxPickupSeconds, how far off, and the lever of a miss', () => {
    const verdict = (workload: string, lane = 'image') => results.find((r) => r.workload === workload)!.verdicts[lane];
    expect(verdict('burst-100x20s')).toEqual({ pickupRatio: 0.9, meets: true });
    // Perfect foresight within four tasks of two workers cannot start them in time either: the ceiling is the lever.
    expect(verdict('long-jobs-20')).toEqual({
      pickupRatio: 2.4,
      meets: false,
      lever: 'tasks.max (4) or workers (2): even perfect foresight within them waits 1200 s',
    });
    // sync waits at zero while image holds the whole fleet of three.
    expect(verdict('two-lanes-under-cap', 'sync')).toEqual({
      pickupRatio: 1.1,
      meets: false,
      lever: 'fleet.maxTasks (3): the fleet was full while jobs waited 12 min',
    });
    expect(renderTable(results)).toMatch(
      /^\| two-lanes-under-cap \| sync \| misses, 1\.1× \| 10 \|.*\| fleet\.maxTasks \(3\): the fleet was full while jobs waited 12 min \|$/m,
    );
  });

  it('prints the table the notes carry', () => {
    // Header, rule, one row per single-lane workload (eleven, with the burst for a lane of several tasks) and two for the fleet-cap case.
    expect(renderTable(results).split('\n')).toHaveLength(2 + 11 + 2);
  });
});

describe('warm windows', () => {
  // The nightly feed import: the scheduler dispatches it at 02:00 UTC, and the lane wants two tasks then.
  const importer: WorkloadLane = { ...image, name: 'bulk', queues: ['bulk'], warm: [{ at: '0 2 * * *', tasks: 2, minutes: 30 }] };

  it("draws each workload's jobs from its own stream: the same whichever other workloads are built beside it", () => {
    const jobs = (lanes: WorkloadLane[], name: string) => standardWorkloads(lanes).find((w) => w.name === name)!.jobs;
    // Beside image, the mix also builds the two-lane workload, which draws 200 durations before the import.
    expect(jobs([importer, image], 'scheduled-import')).toEqual(jobs([importer], 'scheduled-import'));
    expect(jobs([image, sync], 'delayed-batch')).toEqual(jobs([image], 'delayed-batch'));
    expect(jobs([importer], 'scheduled-import').map((j) => j.duration)).not.toEqual(
      jobs([importer], 'burst-100x20s')
        .slice(0, 50)
        .map((j) => j.duration),
    );
  });

  it('adds the scheduled workload to a lane that names its times, at the first one after the idle hour', () => {
    const workload = standardWorkloads([importer]).find((w) => w.name === 'scheduled-import')!;
    // Simulated second 0 is 08:00 UTC: 02:00 comes 18 hours later.
    expect(workload.jobs[0].dispatchAt).toBe(nextFiring('0 2 * * *', 3600));
    expect(nextFiring('0 2 * * *', 3600)).toBe(18 * 3600);
    expect(standardWorkloads([image]).map((w) => w.name)).not.toContain('scheduled-import');
  });

  it('has the tasks running when the work comes, where a cold lane makes the first jobs wait a tick and a start', async () => {
    const workload = standardWorkloads([importer]).find((w) => w.name === 'scheduled-import')!;
    const warm = (await simulate({ lanes: [importer], fleetMaxTasks: 8, workload })).lanes[0];
    const cold = (await simulate({ lanes: [{ ...importer, warm: undefined }], fleetMaxTasks: 8, workload })).lanes[0];
    expect(warm).toMatchObject({ firstTask: 0, longestZeroWithWork: 0, stuck: 0, killed: 0 });
    expect(cold.firstTask).toBeGreaterThanOrEqual(30);
    expect(warm.wait.p95).toBeLessThan(cold.wait.p95);
    expect(warm.wait.max).toBeLessThan(cold.wait.max);
  });
});

describe('process groups', () => {
  // Two processes per task: one only for sync-urgent, one for sync-urgent then sync.
  const grouped: WorkloadLane = {
    ...image,
    name: 'sync',
    queues: ['sync-urgent', 'sync'],
    max: 2,
    groups: [
      { queues: ['sync-urgent'], processes: 1 },
      { queues: ['sync-urgent', 'sync'], processes: 1 },
    ],
  };

  it('keeps the urgent queue moving while a burst saturates the rest of the lane; without the group it waits its turn', async () => {
    const workload = standardWorkloads([grouped]).find((w) => w.name === 'urgent-under-burst')!;
    const withGroup = (await simulate({ lanes: [grouped], fleetMaxTasks: 8, workload })).lanes[0];
    const without = (await simulate({ lanes: [{ ...grouped, groups: undefined }], fleetMaxTasks: 8, workload })).lanes[0];
    expect(withGroup.queueWait['sync-urgent'].max).toBeLessThanOrEqual(3);
    expect(without.queueWait['sync-urgent'].p95).toBeGreaterThan(4 * Math.max(1, withGroup.queueWait['sync-urgent'].p95));
    expect(withGroup).toMatchObject({ stuck: 0, killed: 0 });
    // The main queue pays for it: one process fewer takes it.
    expect(withGroup.queueWait.sync.p95).toBeGreaterThan(without.queueWait.sync.p95);
  });

  it('adds the urgent workload only to lanes with more than one group, and charts each queue in the table', async () => {
    expect(standardWorkloads([image]).map((w) => w.name)).not.toContain('urgent-under-burst');
    const workload = standardWorkloads([grouped]).find((w) => w.name === 'urgent-under-burst')!;
    const table = renderTable([await simulate({ lanes: [grouped], fleetMaxTasks: 8, workload })]);
    expect(table).toContain('| urgent-under-burst | sync | sync-urgent |');
  });
});
