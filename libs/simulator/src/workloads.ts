/*
 * The workload library: what the application dispatches, and how long each job
 * runs, seeded so every run of a workload is the same. Each says what it is
 * there to expose.
 */
import { parseCron } from '@queue-lanes/config/cron';

/** One job as dispatched. */
export interface JobSpec {
  readonly lane: string;
  readonly queue: string;
  /** Simulated second the application dispatches it. */
  readonly dispatchAt: number;
  /** Seconds after dispatch it becomes available (a delayed dispatch); 0: ready at once. */
  readonly delay: number;
  /** Seconds one attempt runs. */
  readonly duration: number;
  /** Attempts that throw before one succeeds; at `tries` or more the job fails for good. */
  readonly failures: number;
}

/**
 * A lane as its workers and the workload need it. The controller's policy for it
 * comes from the simulation's `controller` (what synth writes for a file); the
 * policy keys here are read only without one (a lane given in code).
 */
export interface WorkloadLane {
  readonly name: string;
  readonly queues: readonly string[];
  readonly min: number;
  readonly max: number;
  /** Without a `controller`: jobs per task. */
  readonly backlogPerTask?: number;
  /** Without a `controller`: the pickup target; undefined: count-based sizing only. */
  readonly maxPickupSeconds?: number;
  /** Without a `controller`: the longest the lane keeps an idle task. */
  readonly drainMinutes?: number;
  readonly workers: number;
  /** queue:work --tries and --backoff. */
  readonly tries: number;
  readonly backoff: number;
  readonly jobTimeout: number;
  readonly stopTimeout: number;
  /** Workers protect their task while a job runs, so scale-in never stops a busy task. @default false */
  readonly scaleInProtection?: boolean;
  /** Process groups, each its own chain; their processes sum to `workers`. @default every worker on `queues` */
  readonly groups?: readonly { readonly queues: readonly string[]; readonly processes: number }[];
  /** Without a `controller`: lower is served first under the fleet cap. */
  readonly priority?: number;
  /** When the lane's scheduled work arrives (cron, UTC) and the tasks it wants then: the controller's warm windows. */
  readonly warm?: readonly { readonly at: string; readonly tasks: number; readonly minutes: number }[];
  /** Where its queues live. @default 'redis' */
  readonly broker?: 'redis' | 'sqs';
  /** An SQS lane's queue: its visibility timeout and the receives before the dead-letter queue. @default 300 and 5 */
  readonly sqs?: { readonly visibilityTimeout: number; readonly maxReceiveCount: number };
}

export interface Workload {
  readonly name: string;
  readonly description: string;
  /** Simulated seconds of dispatching; the run goes on until the fleet is back at its floor. */
  readonly seconds: number;
  readonly jobs: readonly JobSpec[];
}

/** mulberry32: small, fast and the same on every machine. */
export function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

type Lane = Pick<WorkloadLane, 'name' | 'queues'> & Partial<Pick<WorkloadLane, 'jobTimeout' | 'groups' | 'max' | 'warm'>>;

/** Simulated second 0 as a unix time (2027-01-15 08:00 UTC): fixed, so payload timestamps, metrics and cron times are the same every run. */
export const EPOCH = 1_800_000_000;
const job = (lane: Lane, dispatchAt: number, duration: number, extra: Partial<JobSpec> = {}): JobSpec => ({
  lane: lane.name,
  queue: mainQueue(lane),
  dispatchAt,
  delay: 0,
  duration,
  failures: 0,
  ...extra,
});

/**
 * The standard mix for one lane (several lanes for the fleet-cap case), every
 * workload starting after an hour of idle so the lane begins at zero.
 */
export function standardWorkloads(lanes: readonly Lane[], seed = 1): Workload[] {
  const [lane, other] = [lanes[0], lanes[1] ?? lanes[0]];
  return [
    ...arrivalWorkloads(lane, seed),
    ...troubleWorkloads(lane, seed),
    ...((lane.max ?? 1) >= 4 ? [wideBurst(lane, seed)] : []),
    ...((lane.groups?.length ?? 0) > 1 ? [urgentUnderBurst(lane, seed)] : []),
    ...(other !== lane ? [twoLanesUnderCap(lane, other, seed)] : []),
    ...(lane.warm?.length ? [scheduledImport(lane, lane.warm[0].at, seed)] : []),
  ];
}

/** Seconds of idle before every workload: the lane begins at zero. */
const IDLE = 3600;

/** Draws whole seconds between lo and hi. */
type Between = (lo: number, hi: number) => number;

/**
 * The draws of one workload, from a stream of its own (the seed and the workload's
 * name): a workload's jobs are the same whichever other workloads are built beside
 * it, so `--lane` or `--workload` never changes a row's figures.
 */
function drawsFor(workload: string, seed: number): Between {
  // FNV-1a of the name: a fixed, well-spread offset for each workload's stream.
  let hash = 0x811c9dc5;
  for (const char of workload) hash = Math.imul(hash ^ char.charCodeAt(0), 0x01000193) >>> 0;
  const rnd = random(seed + hash);
  return (lo, hi) => Math.round(lo + rnd() * (hi - lo));
}

/** How work arrives: one job, a burst, trickles steady and at random, near and far apart. */
function arrivalWorkloads(lane: Lane, seed: number): Workload[] {
  const idle = IDLE;
  const between = drawsFor('burst-100x20s', seed);
  return [
    {
      name: 'single-after-idle',
      description: 'one 5 s job after an hour idle: the cold start and the tail after it',
      seconds: idle + 60,
      jobs: [job(lane, idle, 5)],
    },
    {
      name: 'burst-100x20s',
      description: '100 jobs of 10-30 s at once',
      seconds: idle + 60,
      jobs: Array.from({ length: 100 }, () => job(lane, idle, between(10, 30))),
    },
    {
      name: 'trickle-40s',
      description: 'one 5 s job every 40 s for two hours: jobs shorter than a tick',
      seconds: idle + 7200,
      jobs: Array.from({ length: 180 }, (_, i) => job(lane, idle + i * 40, 5)),
    },
    {
      name: 'trickle-poisson-40s',
      description:
        'one 5 s job at random, 40 s apart on average (Poisson), for two hours: gaps of several minutes happen, and the lane must not go cold in them',
      seconds: idle + 7200,
      jobs: poissonTimes(random(seed + 1000), idle, idle + 7200, 40).map((at) => job(lane, at, 5)),
    },
    {
      name: 'trickle-6min',
      description: 'one 10 s job every 6 minutes for two hours: gaps inside the drain window, where a warm task pays',
      seconds: idle + 7200,
      jobs: Array.from({ length: 20 }, (_, i) => job(lane, idle + i * 360, 10)),
    },
    {
      name: 'trickle-17min',
      description: 'one 10 s job every 17 minutes, 50 jobs: each may meet a cold lane',
      seconds: idle + 50 * 1020,
      jobs: Array.from({ length: 50 }, (_, i) => job(lane, idle + i * 1020, 10)),
    },
  ];
}

/** Work that is hard to size: long jobs, delayed jobs, jobs that fail. */
function troubleWorkloads(lane: Lane, seed: number): Workload[] {
  const idle = IDLE;
  const between = drawsFor('delayed-batch', seed);
  return [
    {
      name: 'long-jobs-20',
      description:
        "twenty 10-minute jobs at once (80 % of the lane's job.timeout when that is shorter: no job outruns --timeout): count-based sizing gives them one task",
      seconds: idle + 60,
      jobs: Array.from({ length: 20 }, () => job(lane, idle, longJobSeconds(lane))),
    },
    {
      name: 'delayed-batch',
      description: '100 jobs of 5-15 s dispatched with a 10-minute delay',
      seconds: idle + 60,
      jobs: Array.from({ length: 100 }, () => job(lane, idle, between(5, 15), { delay: 600 })),
    },
    {
      name: 'failing-loop',
      description: '30 jobs that fail every attempt (tries exhausted), 5 s each',
      seconds: idle + 60,
      jobs: Array.from({ length: 30 }, () => job(lane, idle, 5, { failures: 99 })),
    },
    {
      name: 'broken-deploy',
      description:
        'a 5 s job every 2 s for 30 minutes; after 5 minutes every attempt fails (a bad release): the retries grow the backlog, and more tasks would only fail it faster',
      seconds: idle + 1800,
      jobs: Array.from({ length: 900 }, (_, i) => job(lane, idle + i * 2, 5, { failures: i * 2 < 300 ? 0 : 99 })),
    },
  ];
}

/** A lane allowed several tasks: a burst that should ramp it to tasks.max at once. */
function wideBurst(lane: Lane, seed: number): Workload {
  const between = drawsFor('burst-2000', seed);
  return {
    name: 'burst-2000',
    description:
      '2,000 jobs of 10-30 s at once on a lane allowed several tasks: the ramp to tasks.max, and the shrink as the work runs out',
    seconds: IDLE + 60,
    jobs: Array.from({ length: 2000 }, () => job(lane, IDLE, between(10, 30))),
  };
}

/** A lane that gives one queue a group of its own: a burst on the rest, urgent jobs arriving through it. */
function urgentUnderBurst(lane: Lane, seed: number): Workload {
  const between = drawsFor('urgent-under-burst', seed);
  const urgent = lane.groups![0].queues[0];
  return {
    name: 'urgent-under-burst',
    description: `a burst of 200 jobs of 20-40 s on ${mainQueue(lane)}, and a 2 s job on ${urgent} every 30 s while it drains: the urgent queue keeps its own worker`,
    seconds: IDLE + 1200,
    jobs: [
      ...Array.from({ length: 200 }, () => job(lane, IDLE, between(20, 40))),
      ...Array.from({ length: 30 }, (_, i) => job(lane, IDLE + 120 + i * 30, 2, { queue: urgent })),
    ],
  };
}

/**
 * A lane whose work comes on a schedule: the Laravel scheduler dispatches a feed
 * import at the lane's first warm time after the idle hour.
 */
function scheduledImport(lane: Lane, at: string, seed: number): Workload {
  const between = drawsFor('scheduled-import', seed);
  const due = nextFiring(at, IDLE);
  return {
    name: 'scheduled-import',
    description: `50 jobs of 20-40 s dispatched at once by the scheduler ("${at}", UTC), ${Math.round((due - IDLE) / 60)} minutes after the idle hour: the warm window has the lane's tasks up when they come`,
    seconds: due + 60,
    jobs: Array.from({ length: 50 }, () => job(lane, due, between(20, 40))),
  };
}

/** The first simulated second, from `from` on, at which the cron expression fires (within a week). */
export function nextFiring(expression: string, from: number): number {
  const schedule = parseCron(expression);
  const first = Math.ceil((EPOCH + from) / 60);
  for (let minute = first; minute < first + 7 * 24 * 60; minute += 1) {
    if (schedule.matches(minute)) return minute * 60 - EPOCH;
  }
  throw new Error(`"${expression}" does not fire within a week of the simulation's start`);
}

/** Two lanes side by side under the fleet cap. */
function twoLanesUnderCap(lane: Lane, other: Lane, seed: number): Workload {
  const between = drawsFor('two-lanes-under-cap', seed);
  return {
    name: 'two-lanes-under-cap',
    description: 'a long burst on one lane while the other gets a few short jobs, fleet cap binding',
    seconds: IDLE + 600,
    jobs: [
      ...Array.from({ length: 200 }, () => job(lane, IDLE, between(20, 40))),
      ...Array.from({ length: 10 }, (_, i) => job(other, IDLE + 60 + i * 50, 5)),
    ],
  };
}

/** Arrival times of a Poisson process from `from` to `to` with `meanGap` seconds between arrivals on average, whole seconds. */
function poissonTimes(rnd: () => number, from: number, to: number, meanGap: number): number[] {
  const times: number[] = [];
  for (let at = from; at < to; at += Math.max(1, Math.round(-meanGap * Math.log(1 - rnd())))) times.push(at);
  return times;
}

/**
 * Where a workload's jobs go: the lane's first queue, or with process groups the
 * last queue of their chains (the one every group reaches last: the bulk of the work).
 */
export function mainQueue(lane: Lane): string {
  return lane.groups ? lane.groups.flatMap((g) => g.queues).at(-1)! : lane.queues[0];
}

/** The long-jobs workload's duration on `lane`: ten minutes, or 80 % of its job timeout if that is shorter. */
export function longJobSeconds(lane: Lane): number {
  return Math.min(600, Math.floor(0.8 * (lane.jobTimeout ?? Infinity)));
}

/** The lanes a workload's jobs go to, in first-job order: a workload of several runs them side by side. */
export function workloadLanes(workload: Workload): string[] {
  return [...new Set(workload.jobs.map((j) => j.lane))];
}
