import { parseControllerConfig, type ControllerConfig, type ControllerConfigInput } from '@queue-lanes/contract';
import { BacklogController } from '@queue-lanes/backlog-controller/runtime';
import { ReplacedAppAutoScaling } from './app-autoscaling';
import { SimulatedCloudWatch, SimulatedEcs, noSsm } from './aws';
import { MemoryRedis } from './redis';
import { verdictOf, type Verdict } from './verdict';
import { MemorySqs } from './sqs';
import { EPOCH, random, type JobSpec, type Workload, type WorkloadLane } from './workloads';

/**
 * Seconds from a job's pop to its task's protection: the worker entry point's PUT to the
 * ECS agent on JobProcessing takes a round trip before the job runs (the worker harness
 * measures well under one).
 */
const PROTECTION_ONSET_SECONDS = 1;

/*
 * A deterministic simulation, one second at a time, of Laravel workers on
 * Fargate driven by the real backlog controller: its tick runs every minute (and
 * on the application's wake-up, when enabled) against in-memory Redis, SQS, ECS
 * and CloudWatch, and the desired counts it sets launch and stop tasks. An SQS
 * lane may instead be sized by the App Auto Scaling design the controller
 * replaced (./app-autoscaling), to compare the two. Nothing of the
 * controller's decision is copied here.
 *
 * Modelled: Fargate start latency (a distribution, below); queue:work processes
 * polling every `sleep` seconds, running one job at a time, releasing a failed
 * attempt with its backoff and deleting a job whose tries are spent; a stopping
 * task gets SIGTERM, lets a running job finish within stopTimeout and is
 * SIGKILLed after it (the job stays reserved until retry_after, or on SQS
 * invisible until its visibility timeout). ECS stops
 * pending tasks first, then the newest running ones, whatever they are doing.
 */

/**
 * Fargate task start latency, seconds: triangular, 30 to 90, mode 45. AWS
 * publishes no launch-time figure; this is an assumption covering provisioning
 * plus pulling an application image of a few hundred MB, and every figure below
 * depends on it (the bound pays the same latency).
 */
/** The distribution's mode: what the foresight schedule pays per task start. */
export const TYPICAL_START_LATENCY = 45;

export function fargateStartLatency(rnd: () => number): number {
  const [lo, mode, hi] = [30, 45, 90];
  const u = rnd();
  const cut = (mode - lo) / (hi - lo);
  return Math.round(u < cut ? lo + Math.sqrt(u * (hi - lo) * (mode - lo)) : hi - Math.sqrt((1 - u) * (hi - lo) * (hi - mode)));
}

export interface SimulationOptions {
  readonly lanes: readonly WorkloadLane[];
  /**
   * The controller's configuration as synth writes it (the contract's
   * buildControllerConfig, for an environment file): its lanes' policies run as
   * written, and only where things are (cluster, services, Redis endpoint, the
   * finished-jobs metrics) is the simulation's own. Its lanes are `lanes`, by name.
   * @default one written from `lanes` and `fleetMaxTasks` (for workloads not from a file)
   */
  readonly controller?: ControllerConfigInput;
  /** The fleet cap; with `controller`, its fleetMaxTasks wins. */
  readonly fleetMaxTasks: number;
  readonly workload: Workload;
  /** @default 1 */
  readonly seed?: number;
  /** The application invokes the controller with { wake: [lane] } after dispatching to a lane at zero. @default false */
  readonly wake?: boolean;
  /**
   * SQS lanes sized by the App Auto Scaling design the controller replaced
   * (./app-autoscaling), instead of by the controller: a peer to compare.
   * @default none
   */
  readonly appAutoScaling?: readonly string[];
  /** retry_after of the queue connection. @default 30 s above the longest job timeout, at least 90 (Laravel needs it above every timeout) */
  readonly retryAfter?: number | null;
  /** queue:work --sleep: seconds between polls of an empty queue. @default 3 */
  readonly pollSeconds?: number;
  /** Second of each minute the schedule fires. @default 20 */
  readonly tickOffset?: number;
  /** Give up this long after the last dispatch; unfinished jobs count as stuck. @default 4 hours */
  readonly tailSeconds?: number;
  /**
   * The lanes' log metric filter counts finished attempts (the worker entry point's
   * job lines), as the observability lib synthesizes it, and the controller reads
   * it. @default true
   */
  readonly finishedJobsFilter?: boolean;
}

/** What happened to one lane. */
export interface LaneResult {
  readonly lane: string;
  readonly jobs: number;
  readonly done: number;
  /** Jobs whose tries ran out (Laravel's failed_jobs). */
  readonly failed: number;
  /** Jobs neither done nor failed when the run ended. */
  readonly stuck: number;
  /** Attempts killed by SIGKILL after stopTimeout. */
  readonly killed: number;
  /** Seconds from available to the first attempt's start. */
  readonly wait: { readonly p50: number; readonly p95: number; readonly max: number };
  /** The same per queue the lane's jobs went to, for lanes whose process groups give a queue its own workers. */
  readonly queueWait: Readonly<Record<string, { readonly p50: number; readonly p95: number; readonly max: number }>>;
  /** Seconds from the first job becoming available to the lane's first running task. */
  readonly firstTask: number | undefined;
  readonly taskMinutes: number;
  /** UpdateService calls that changed the count. */
  readonly scaleEvents: number;
  /** Times the lane went from zero tasks to one or more. */
  readonly wakes: number;
  /** Longest stretch, seconds, with runnable work and no running task. */
  readonly longestZeroWithWork: number;
}

export interface SimulationResult {
  readonly workload: string;
  readonly lanes: readonly LaneResult[];
  /** The perfect-foresight schedule per lane (see {@link foresight}). */
  readonly bound: Readonly<Record<string, Bound>>;
  /** The most tasks running or starting at once. */
  readonly peakTasks: number;
  readonly seconds: number;
  /** Per lane, one sample a minute from the first dispatch: what the chart draws. */
  readonly timeline: Readonly<Record<string, readonly TimelinePoint[]>>;
  /** Per lane, whether its jobs started within maxPickupSeconds, and the likely lever when not (see {@link verdictOf}). */
  readonly verdicts: Readonly<Record<string, Verdict>>;
}

/** One lane at one simulated minute. */
export interface TimelinePoint {
  /** Seconds since the workload's first dispatch. */
  readonly t: number;
  /** Jobs a worker could take now (ready, due delayed, expired reservations) plus those running. */
  readonly backlog: number;
  readonly desired: number;
  readonly running: number;
}

interface JobState {
  readonly spec: JobSpec;
  readonly availableAt: number;
  attempts: number;
  startedAt?: number;
  finished?: 'done' | 'failed';
}

interface Proc {
  /** The queue chain this worker process pops, in order (its process group's). */
  queues: readonly string[];
  job?: { state: JobState; reserved: string; endsAt: number; queue: string; since: number };
  nextPollAt: number;
  /** SIGTERM received: finish the current job, take no other. */
  draining: boolean;
  exitAt?: number;
}

interface Task {
  readonly launchedAt: number;
  readonly runningAt: number;
  stopAt?: number;
  procs: Proc[];
}

/** p50, p95 and max of sorted waits. */
function waitOf(sorted: readonly number[]): { p50: number; p95: number; max: number } {
  return { p50: quantile(sorted, 0.5), p95: quantile(sorted, 0.95), max: sorted[sorted.length - 1] ?? 0 };
}

export async function simulate(options: SimulationOptions): Promise<SimulationResult> {
  return new Simulation(options).run();
}

/** What the run counts per lane as it goes. */
interface LaneStats {
  killed: number;
  taskSeconds: number;
  wakes: number;
  zeroStreak: number;
  longestZero: number;
  firstTaskAt?: number;
}

const service = (lane: string) => `sim-${lane}`;

/** A lane's queues as its workers use them: Laravel's Redis queue, or SQS (./sqs). */
interface QueueStore {
  push(queue: string, payload: string, now: number): void;
  later(queue: string, availableAt: number, payload: string, now: number): void;
  pop(queue: string, now: number): string | undefined;
  deleteReserved(queue: string, reserved: string): void;
  release(queue: string, reserved: string, availableAt: number): void;
  waiting(queue: string, now: number): number;
  runnable(queue: string, now: number): boolean;
}

/** An SQS lane's queue settings where the lane gives none: the schema's defaults. */
const SQS_DEFAULTS = { visibilityTimeout: 300, maxReceiveCount: 5 } as const;

/**
 * What the simulated controller runs on: `options.controller` with its lane
 * policies untouched, pointed at the simulation's Redis (under `keyPrefix`), ECS
 * services and finished-jobs metrics. Without it, one written from the workload's lanes.
 */
export function simulatedControllerConfig(options: SimulationOptions, keyPrefix: string, retryAfter: number | null): ControllerConfig {
  const written = options.controller ?? controllerConfigFor(options.lanes, options.fleetMaxTasks);
  const replaced = new Set(options.appAutoScaling ?? []);
  const simulated = new Set(options.lanes.filter((l) => !replaced.has(l.name)).map((l) => l.name));
  return parseControllerConfig(
    JSON.stringify({
      ...written,
      cluster: 'sim',
      environment: 'sim',
      // The simulation runs only its lanes: no other task holds the fleet.
      reservedTasks: 0,
      redis: { host: 'sim', tls: false, keyPrefix, retryAfterSeconds: retryAfter },
      lanes: written.lanes
        .filter((l) => simulated.has(l.name))
        .map((l) => ({
          ...l,
          service: service(l.name),
          ...(options.finishedJobsFilter === false
            ? { finishedJobsMetric: undefined, failedJobsMetric: undefined }
            : { finishedJobsMetric: finishedMetric(l.name), failedJobsMetric: failedMetric(l.name) }),
        })),
    } satisfies ControllerConfigInput),
  );
}

function missingPolicy(lane: string, key: string): never {
  throw new Error(`simulate: lane ${lane} has no ${key}; give it one, or pass the controller's configuration (controller)`);
}

/** The controller's configuration for lanes given in code (tests, ad-hoc workloads): every lane sized, count and pickup rules as given. */
function controllerConfigFor(lanes: readonly WorkloadLane[], fleetMaxTasks: number): ControllerConfigInput {
  return {
    cluster: 'sim',
    environment: 'sim',
    fleetMaxTasks,
    redis: { host: 'sim', keyPrefix: '' },
    lanes: lanes.map((l) => ({
      name: l.name,
      service: service(l.name),
      ...(l.broker === 'sqs' ? { broker: 'sqs' as const, sqs: { deadLetterQueue: MemorySqs.deadLetterQueue(l.queues[0]) } } : {}),
      queues: [...l.queues],
      min: l.min,
      max: l.max,
      backlogPerTask: l.backlogPerTask ?? missingPolicy(l.name, 'backlogPerTask'),
      ...(l.maxPickupSeconds !== undefined ? { maxPickupSeconds: l.maxPickupSeconds } : {}),
      workersPerTask: l.workers,
      drainMinutes: l.drainMinutes,
      jobTimeoutSeconds: l.jobTimeout,
      ...(l.priority !== undefined ? { priority: l.priority } : {}),
      ...(l.warm !== undefined ? { warm: [...l.warm] } : {}),
    })),
  };
}
const finishedMetric = (lane: string) => ({ namespace: `QueueLanes/sim/${lane}`, name: 'FinishedJobs' });
const failedMetric = (lane: string) => ({ namespace: `QueueLanes/sim/${lane}`, name: 'FailedJobs' });

/** One run: the clock, Laravel's queue in memory, the tasks ECS runs, and the real controller ticking over them. */
class Simulation {
  private t = 0;
  private peak = 0;
  private nextId = 0;
  private readonly rnd: () => number;
  private readonly poll: number;
  private readonly retryAfter: number | null;
  private readonly redis: MemoryRedis;
  private readonly sqs: MemorySqs;
  /** Each lane's queues: Redis or SQS. */
  private readonly stores: Map<string, QueueStore>;
  /** The replaced design, for the lanes it sizes instead of the controller. */
  private readonly replaced = new Map<string, ReplacedAppAutoScaling>();
  private readonly byService: Map<string, WorkloadLane>;
  private readonly tasks: Map<string, Task[]>;
  private readonly stats: Map<string, LaneStats>;
  private readonly desiredOf = new Map<string, number>();
  private readonly ecs: SimulatedEcs;
  private readonly cloudwatch = new SimulatedCloudWatch();
  /** Absent when the replaced design sizes every lane. */
  private readonly controller?: BacklogController;
  private readonly jobs: JobState[];
  private readonly byId = new Map<string, JobState>();
  private readonly timeline: Map<string, TimelinePoint[]>;
  private readonly lastWake = new Map<string, number>();

  constructor(private readonly options: SimulationOptions) {
    const { lanes, workload } = options;
    this.rnd = random(options.seed ?? 1);
    this.poll = options.pollSeconds ?? 3;
    // Laravel needs retry_after above every job timeout, or a running job is handed out twice.
    this.retryAfter = options.retryAfter === undefined ? Math.max(90, ...lanes.map((l) => l.jobTimeout + 30)) : options.retryAfter;
    this.redis = new MemoryRedis('sim_database_', this.retryAfter);
    const sqsOf = new Map(lanes.flatMap((l) => l.queues.map((q) => [q, l.sqs ?? SQS_DEFAULTS] as const)));
    this.sqs = new MemorySqs((queue) => sqsOf.get(queue) ?? SQS_DEFAULTS);
    this.stores = new Map(lanes.map((l) => [l.name, l.broker === 'sqs' ? this.sqs : this.redis]));
    this.byService = new Map(lanes.map((l) => [service(l.name), l]));
    this.tasks = new Map(lanes.map((l) => [l.name, []]));
    this.stats = new Map(lanes.map((l) => [l.name, { killed: 0, taskSeconds: 0, wakes: 0, zeroStreak: 0, longestZero: 0 }]));
    this.timeline = new Map(lanes.map((l) => [l.name, []]));
    this.ecs = new SimulatedEcs([...this.byService.keys()], (name, desired) => this.reconcile(name, desired));
    for (const lane of lanes.filter((l) => options.appAutoScaling?.includes(l.name))) {
      if (lane.broker !== 'sqs') throw new Error(`simulate: lane ${lane.name} is not an SQS lane; App Auto Scaling sized SQS lanes only`);
      const policy = this.controllerConfig(lanes).lanes.find((l) => l.name === lane.name)!;
      this.replaced.set(lane.name, new ReplacedAppAutoScaling(policy, (desired) => this.ecs.update(service(lane.name), desired)));
    }
    if (this.replaced.size < lanes.length) {
      this.controller = new BacklogController(this.controllerConfig(), {
        ecs: this.ecs.client(),
        cloudwatch: this.cloudwatch.client(),
        ssm: noSsm(),
        sqs: this.sqs.client(() => EPOCH + this.t),
        connectRedis: async () => this.redis.client(),
        now: () => this.date(),
        log: () => undefined,
      });
    }
    this.jobs = workload.jobs.map((spec) => ({ spec, availableAt: spec.dispatchAt + spec.delay, attempts: 0 }));
  }

  /** Steps one simulated second at a time until the work is done and every lane is back at its floor. */
  async run(): Promise<SimulationResult> {
    const { workload } = this.options;
    const offset = this.options.tickOffset ?? 20;
    const dispatchAt = new Map<number, JobState[]>();
    for (const job of this.jobs) dispatchAt.set(job.spec.dispatchAt, [...(dispatchAt.get(job.spec.dispatchAt) ?? []), job]);
    const firstDispatch = Math.min(...this.jobs.map((j) => j.spec.dispatchAt));
    const lastDispatch = Math.max(0, ...this.jobs.map((j) => j.availableAt));
    const end = Math.max(workload.seconds, lastDispatch) + (this.options.tailSeconds ?? 4 * 3600);
    for (this.t = 0; this.t <= end; this.t += 1) {
      const wakeLanes = this.dispatch(dispatchAt.get(this.t) ?? []);
      for (const lane of this.options.lanes) this.stepLane(lane);
      if (wakeLanes.size > 0) await this.tick({ wake: [...wakeLanes] });
      if ((this.t - offset) % 60 === 0) await this.tick();
      if (this.t % 60 === 0) this.replacedMinute();
      const atFloor = this.bill();
      if (this.t >= firstDispatch && (this.t - firstDispatch) % 60 === 0) this.sample(this.t - firstDispatch);
      if (this.t > lastDispatch && atFloor && this.jobs.every((j) => j.finished !== undefined)) break;
    }
    await this.controller?.close();
    return this.result();
  }

  /** The controller's configuration for the simulated lanes (see {@link simulatedControllerConfig}); with `lanes`, for those. */
  private controllerConfig(lanes?: readonly WorkloadLane[]) {
    const options = lanes === undefined ? this.options : { ...this.options, lanes, appAutoScaling: [] };
    return simulatedControllerConfig(options, this.redis.prefix, this.retryAfter);
  }

  /** The minute SQS and Container Insights publish, for the lanes the replaced design sizes. */
  private replacedMinute(): void {
    for (const [name, scaling] of this.replaced) {
      const lane = this.options.lanes.find((l) => l.name === name)!;
      const a = this.sqs.attributes(lane.queues[0], EPOCH + this.t);
      const sample = { visible: a.visible, inFlight: a.notVisible, oldestAgeSeconds: a.oldestAge, running: this.running(lane).length };
      scaling.minute(sample, this.ecs.desired.get(service(name)) ?? 0, this.t);
    }
  }

  private date(): Date {
    return new Date((EPOCH + this.t) * 1000);
  }

  private async tick(event?: unknown): Promise<void> {
    // A failed tick changes nothing and the next one comes; the report is what matters here.
    await this.controller?.tick(event).catch(() => undefined);
  }

  /** The application dispatches this second's jobs; returns the lanes it wakes (after dispatching to a lane at zero). */
  private dispatch(jobs: readonly JobState[]): Set<string> {
    const wakeLanes = new Set<string>();
    for (const job of jobs) {
      const id = `j${(this.nextId += 1)}`;
      const payload = JSON.stringify({ id, displayName: 'App\\Jobs\\Simulated', attempts: 0, createdAt: EPOCH + this.t });
      this.byId.set(id, job);
      const store = this.stores.get(job.spec.lane)!;
      if (job.spec.delay > 0) store.later(job.spec.queue, EPOCH + job.availableAt, payload, EPOCH + this.t);
      else store.push(job.spec.queue, payload, EPOCH + this.t);
      const lane = job.spec.lane;
      if (this.options.wake && (this.ecs.desired.get(service(lane)) ?? 0) === 0 && (this.lastWake.get(lane) ?? -Infinity) <= this.t - 5) {
        wakeLanes.add(lane);
        this.lastWake.set(lane, this.t);
      }
    }
    return wakeLanes;
  }

  /** One second of a lane: tasks that come up start their workers, every running worker works, and the time at zero with work is counted. */
  private stepLane(lane: WorkloadLane): void {
    const s = this.stats.get(lane.name)!;
    if (lane.scaleInProtection) this.trim(lane);
    for (const task of this.tasks.get(lane.name)!) {
      if (task.runningAt === this.t && task.stopAt === undefined) {
        task.procs = (lane.groups ?? [{ queues: lane.queues, processes: lane.workers }]).flatMap((group) =>
          Array.from({ length: group.processes }, () => ({ queues: group.queues, nextPollAt: this.t, draining: false })),
        );
        s.firstTaskAt ??= this.t;
      }
      if (task.runningAt > this.t || (task.stopAt !== undefined && task.stopAt < this.t)) continue;
      for (const proc of task.procs) this.work(lane, proc, task);
    }
    const hasWork = lane.queues.some((q) => this.stores.get(lane.name)!.runnable(q, EPOCH + this.t));
    s.zeroStreak = hasWork && this.running(lane).length === 0 ? s.zeroStreak + 1 : 0;
    s.longestZero = Math.max(s.longestZero, s.zeroStreak);
  }

  private live(lane: string): Task[] {
    return this.tasks.get(lane)!.filter((task) => task.stopAt === undefined);
  }

  private running(lane: WorkloadLane): Task[] {
    return this.tasks.get(lane.name)!.filter((task) => task.runningAt <= this.t && (task.stopAt === undefined || task.stopAt > this.t));
  }

  /** ECS after UpdateService: launches the tasks the new count adds, stops the ones it removes. */
  private reconcile(name: string, desired: number): void {
    const lane = this.byService.get(name)!;
    const current = this.live(lane.name);
    this.desiredOf.set(lane.name, desired);
    if (current.length === 0 && desired > 0) this.stats.get(lane.name)!.wakes += 1;
    for (let i = current.length; i < desired; i += 1) {
      const start = fargateStartLatency(this.rnd);
      this.tasks.get(lane.name)!.push({ launchedAt: this.t, runningAt: this.t + start, procs: [] });
    }
    this.trim(lane);
  }

  /**
   * ECS picks pending tasks first, then the newest: it does not know which are busy. With
   * scale-in protection the worker entry point protects the task once a worker's job has
   * started (JobProcessing) and the agent has answered (PROTECTION_ONSET_SECONDS), so ECS
   * skips that task until its workers are idle (trim runs again every second); the entry
   * point refreshes the protection while a job runs, so it never lapses mid-job.
   */
  private trim(lane: WorkloadLane): void {
    const current = this.live(lane.name);
    const excess = current.length - (this.desiredOf.get(lane.name) ?? current.length);
    if (excess <= 0) return;
    const t = this.t;
    const protectedTask = (task: Task) =>
      lane.scaleInProtection === true && task.procs.some((p) => p.job !== undefined && t - p.job.since >= PROTECTION_ONSET_SECONDS);
    const victims = current
      .filter((task) => !protectedTask(task))
      .sort((a, b) => Number(b.runningAt > t) - Number(a.runningAt > t) || b.launchedAt - a.launchedAt);
    for (const task of victims.slice(0, excess)) this.stopTask(lane, task);
  }

  /** SIGTERM: a pending task just goes; a running one lets each job finish within stopTimeout, then SIGKILL. */
  private stopTask(lane: WorkloadLane, task: Task): void {
    const t = this.t;
    if (task.runningAt > t) {
      task.stopAt = t;
      return;
    }
    let last = t;
    for (const proc of task.procs) {
      proc.draining = true;
      if (proc.job === undefined) proc.exitAt = t;
      else if (proc.job.endsAt <= t + lane.stopTimeout) proc.exitAt = proc.job.endsAt;
      else {
        proc.exitAt = t + lane.stopTimeout;
        this.stats.get(lane.name)!.killed += 1;
      }
      last = Math.max(last, proc.exitAt);
    }
    task.stopAt = last;
  }

  /** One queue:work process for one second: ends its job (done, released or failed for good), or polls its queues in order. */
  private work(lane: WorkloadLane, proc: Proc, task: Task): void {
    const t = this.t;
    if (proc.exitAt !== undefined && proc.exitAt <= t) {
      // SIGKILL (or a clean exit): a job still held stays reserved until retry_after.
      if (proc.job && proc.job.endsAt > t) proc.job = undefined;
    }
    if (proc.job && proc.job.endsAt <= t) this.finish(lane, proc);
    if (proc.job || proc.draining || task.stopAt !== undefined || proc.nextPollAt > t) return;
    for (const queue of proc.queues) {
      const reserved = this.stores.get(lane.name)!.pop(queue, EPOCH + t);
      if (reserved === undefined) continue;
      const state = this.byId.get((JSON.parse(reserved) as { id: string }).id)!;
      state.attempts += 1;
      state.startedAt ??= t;
      proc.job = { state, reserved, queue, endsAt: t + state.spec.duration, since: t };
      return;
    }
    proc.nextPollAt = t + this.poll;
  }

  /** The attempt ends: deleted when it succeeds or its tries are spent, else released with the backoff; the worker writes its job line. */
  private finish(lane: WorkloadLane, proc: Proc): void {
    const { state, reserved, queue } = proc.job!;
    proc.job = undefined;
    this.finishedAttempt(lane.name, state.attempts <= state.spec.failures);
    const store = this.stores.get(lane.name)!;
    if (state.attempts > state.spec.failures) {
      store.deleteReserved(queue, reserved);
      state.finished = 'done';
    } else if (state.attempts < lane.tries) {
      store.release(queue, reserved, EPOCH + this.t + lane.backoff);
    } else {
      store.deleteReserved(queue, reserved);
      state.finished = 'failed';
    }
    proc.nextPollAt = this.t;
  }

  /** The worker's job line says whether the attempt threw (released or failed for good): the log filters count them. */
  private finishedAttempt(lane: string, failed: boolean): void {
    if (this.options.finishedJobsFilter === false) return;
    this.cloudwatch.put(finishedMetric(lane).namespace, 'FinishedJobs', this.date(), 1);
    if (failed) this.cloudwatch.put(failedMetric(lane).namespace, 'FailedJobs', this.date(), 1);
  }

  /** Bills this second's tasks (from launch to stop); returns whether every lane is at its floor. */
  private bill(): boolean {
    let billedNow = 0;
    let atFloor = true;
    for (const lane of this.options.lanes) {
      const billed = this.tasks.get(lane.name)!.filter((task) => task.stopAt === undefined || task.stopAt > this.t).length;
      this.stats.get(lane.name)!.taskSeconds += billed;
      billedNow += billed;
      atFloor &&= billed <= lane.min;
    }
    this.peak = Math.max(this.peak, billedNow);
    return atFloor;
  }

  /** One chart point per lane: its work (waiting and running), desired and running tasks. */
  private sample(since: number): void {
    for (const lane of this.options.lanes) {
      const busy = this.tasks
        .get(lane.name)!
        .reduce(
          (sum, task) => sum + task.procs.filter((p) => p.job !== undefined && (task.stopAt === undefined || task.stopAt > this.t)).length,
          0,
        );
      const waiting = lane.queues.reduce((sum, q) => sum + this.stores.get(lane.name)!.waiting(q, EPOCH + this.t), 0);
      this.timeline.get(lane.name)!.push({
        t: since,
        backlog: waiting + busy,
        desired: this.ecs.desired.get(service(lane.name)) ?? 0,
        running: this.running(lane).length,
      });
    }
  }

  private result(): SimulationResult {
    const { lanes, workload } = this.options;
    // Every lane's policy as written, the lanes the replaced design sizes too.
    const written = this.controllerConfig(lanes);
    const { fleetMaxTasks } = written;
    const policy = new Map(written.lanes.map((l) => [l.name, l]));
    const timeline = Object.fromEntries(this.timeline);
    const bound = Object.fromEntries(
      lanes.map((l) => [
        l.name,
        foresight(
          workload.jobs.filter((j) => j.lane === l.name),
          l,
          TYPICAL_START_LATENCY,
        ),
      ]),
    );
    const results = lanes.map((lane) => this.laneResult(lane));
    // The lanes are sampled together, so a minute's index is the same in each.
    const fleetDesired = timeline[lanes[0].name].map((_, i) => lanes.reduce((sum, l) => sum + timeline[l.name][i].desired, 0));
    const verdicts = lanes.map((lane, i) =>
      verdictOf({
        lane,
        policy: policy.get(lane.name)!,
        result: results[i],
        bound: bound[lane.name],
        timeline: timeline[lane.name],
        fleetDesired,
        fleetMaxTasks,
      }),
    );
    return {
      workload: workload.name,
      seconds: this.t,
      timeline,
      peakTasks: this.peak,
      bound,
      lanes: results,
      verdicts: Object.fromEntries(lanes.map((lane, i) => [lane.name, verdicts[i]])),
    };
  }

  private laneResult(lane: WorkloadLane): LaneResult {
    const mine = this.jobs.filter((j) => j.spec.lane === lane.name);
    const s = this.stats.get(lane.name)!;
    const waits = (jobs: readonly JobState[]) =>
      waitOf(
        jobs
          .filter((j) => j.startedAt !== undefined)
          .map((j) => j.startedAt! - j.availableAt)
          .sort((a, b) => a - b),
      );
    const firstAvailable = Math.min(...mine.map((j) => j.availableAt));
    return {
      lane: lane.name,
      jobs: mine.length,
      done: mine.filter((j) => j.finished === 'done').length,
      failed: mine.filter((j) => j.finished === 'failed').length,
      stuck: mine.filter((j) => j.finished === undefined).length,
      killed: s.killed,
      wait: waits(mine),
      queueWait: Object.fromEntries(
        [...new Set(mine.map((j) => j.spec.queue))].map((queue) => [queue, waits(mine.filter((j) => j.spec.queue === queue))]),
      ),
      firstTask: s.firstTaskAt === undefined || mine.length === 0 ? undefined : Math.max(0, s.firstTaskAt - firstAvailable),
      taskMinutes: round1(s.taskSeconds / 60),
      scaleEvents: this.ecs.updates.get(service(lane.name)) ?? 0,
      wakes: s.wakes,
      longestZeroWithWork: s.longestZero,
    };
  }
}

/** What the perfect-foresight schedule spends and how long its jobs wait. */
export interface Bound {
  readonly taskMinutes: number;
  readonly waitP95: number;
}

/**
 * A perfect-foresight schedule for a lane, paying the same start latency: it
 * knows every job's arrival and duration, so a task is launched `latency` before
 * its first job and every attempt starts the moment it is available on a free
 * process, opening a task while the lane is below tasks.max, else on the first
 * process to free up. A task runs from its first job to its last with gaps no
 * longer than the latency bridged (stopping and restarting would cost more) and
 * pays the latency once per run. It is a yardstick (greedy, not a proven
 * optimum), and ignores the fleet cap and every other lane.
 */
export function foresight(
  jobs: readonly JobSpec[],
  lane: Pick<WorkloadLane, 'workers' | 'tries' | 'backoff' | 'max'>,
  latency: number,
): Bound {
  // Attempts in availability order; a failed attempt queues the next after its backoff.
  const pending = jobs.map((job) => ({
    at: job.dispatchAt + job.delay,
    duration: job.duration,
    left: Math.min(job.failures + 1, lane.tries),
    available: job.dispatchAt + job.delay,
  }));
  const slots: { task: number; free: number }[] = [];
  const busy: [number, number][][] = [];
  const waits: number[] = [];
  while (pending.length > 0) {
    pending.sort((a, b) => a.at - b.at);
    const attempt = pending.shift()!;
    let slot = slots.filter((s) => s.free <= attempt.at).sort((a, b) => a.task - b.task)[0];
    if (slot === undefined && busy.length < lane.max) {
      busy.push([]);
      for (let w = 0; w < lane.workers; w += 1) slots.push({ task: busy.length - 1, free: -Infinity });
      slot = slots[slots.length - lane.workers];
    }
    slot ??= [...slots].sort((a, b) => a.free - b.free || a.task - b.task)[0];
    const start = Math.max(attempt.at, slot.free);
    // Retries carry no availability of their own: a job's wait is its first attempt's.
    if (!Number.isNaN(attempt.available)) waits.push(start - attempt.available);
    slot.free = start + attempt.duration;
    busy[slot.task].push([start, slot.free]);
    if (attempt.left > 1) pending.push({ ...attempt, at: slot.free + lane.backoff, left: attempt.left - 1, available: Number.NaN });
  }
  let seconds = 0;
  for (const runs of busy) {
    runs.sort((a, b) => a[0] - b[0]);
    let [from, to] = runs[0];
    for (const [s, e] of runs.slice(1)) {
      if (s - to <= latency) to = Math.max(to, e);
      else {
        seconds += to - from + latency;
        [from, to] = [s, e];
      }
    }
    seconds += to - from + latency;
  }
  waits.sort((a, b) => a - b);
  return { taskMinutes: round1(seconds / 60), waitP95: quantile(waits, 0.95) };
}

function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)];
}

function round1(value: number): number {
  return Math.round(value * 10) / 10;
}
