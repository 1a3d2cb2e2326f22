import { COLD_PICKUP_SECONDS, TASK_START_SECONDS, TICK_SECONDS, type ControllerLaneConfig } from '@queue-lanes/contract';

/*
 * The scaling decision: a pure function of what one tick measured. No I/O, no
 * clock; every rule of the controller (docs/scaling.md) is here and nowhere else.
 */

/**
 * A lane's scaling policy: the part of its controller configuration the decision
 * reads, typed from the contract's schema, where each key's meaning and bounds are
 * declared (maxPickupSeconds, for one: with the age of the oldest running job as
 * the least a job takes, the lane gets the tasks that start every waiting job within it).
 */
export type LanePolicy = Pick<
  ControllerLaneConfig,
  'name' | 'min' | 'max' | 'backlogPerTask' | 'drainMinutes' | 'scaleInStep' | 'priority' | 'maxPickupSeconds' | 'workersPerTask'
>;

/** A lane's queues, summed over its Laravel queues. */
export interface LaneBacklog {
  /** LLEN queues:<q>. */
  readonly ready: number;
  /** ZCARD queues:<q>:reserved: running jobs and expired reservations. */
  readonly reserved: number;
  /** ZCARD queues:<q>:delayed: every delayed job, due or not. */
  readonly delayed: number;
  /** ZCOUNT queues:<q>:delayed -inf <now>: delayed jobs a worker would move to ready now. */
  readonly delayedDue: number;
  /**
   * Of `reserved`, the reservations no worker will finish and Laravel will never
   * hand out again (retry_after null, reserved longer than the job timeout): a
   * task cannot help them, so they neither wake the lane nor keep it up; they are
   * published (StuckReserved) and alarmed instead.
   */
  readonly stuckReserved: number;
  /**
   * ZCOUNT queues:<q>:delayed -inf <now + look-ahead>: delayed jobs due before a
   * task launched now could start (delayedDue included). Sizes the lane ahead of
   * them; undefined reads as delayedDue.
   */
  readonly delayedSoon?: number;
  /**
   * Seconds the oldest live reservation has run: a lower bound on how long the
   * lane's jobs take. Undefined when nothing runs or reservations never expire.
   */
  readonly oldestRunningSeconds?: number;
}

/**
 * The lane's own published metrics over its drain window (previous ticks only):
 * how many one-minute buckets have data, and the largest Backlog and Delayed seen.
 */
export interface DrainHistory {
  readonly minutesWithData: number;
  readonly maxBacklog: number;
  readonly maxDelayed: number;
  /**
   * Present when the lane's finished job attempts are counted (its log filter):
   * the most finished in a minute, the separate runs of active minutes (backlog or
   * a finished job) in the window, the minutes since the last active one, the idle
   * stretches between runs (minutes), the idle minutes from the window's start to its
   * first run (a stretch cut by the window: it may have begun before), and the jobs
   * that arrived while a run went on (each run's finished jobs beyond the backlog it
   * started with).
   */
  readonly maxFinished?: number;
  readonly activeRuns?: number;
  readonly idleMinutes?: number;
  readonly idleGaps?: readonly number[];
  readonly leadingIdle?: number;
  readonly arrivals?: number;
}

export interface LaneState {
  readonly policy: LanePolicy;
  readonly backlog: LaneBacklog;
  /** The ECS service's current desired count. */
  readonly current: number;
  /** Undefined when it was not read or CloudWatch has none: the lane then never goes to zero. */
  readonly history?: DrainHistory;
  /**
   * Every queue of the lane reads absent while keys for them exist under another
   * key prefix: the reading is not to be trusted, so the count never goes down.
   */
  readonly keysElsewhere?: boolean;
  /** The lane's job attempts over the last FAILING_WINDOW_MINUTES, when they were read (a scale-out was in view). */
  readonly attempts?: RecentAttempts;
  /** Tasks a warm window asks for now (its scheduled work is due): a floor, up to max. @default 0 */
  readonly warmTasks?: number;
}

/** Job attempts that ended (the workers' job lines, from Laravel's queue events), and of those the ones that threw or failed. */
export interface RecentAttempts {
  readonly finished: number;
  readonly failed: number;
}

/** Minutes of attempts a scale-out looks back on. */
export const FAILING_WINDOW_MINUTES = 5;
/** A lane is failing in a loop when at least this many attempts failed in the window… */
export const FAILING_MIN_FAILED = 5;
/** …and they were at least this share of the attempts that ended. */
export const FAILING_SHARE = 0.8;

/** Most attempts fail: more workers would only fail more jobs faster (and burn their tries). */
export function isFailing(attempts: RecentAttempts | undefined): boolean {
  return attempts !== undefined && attempts.failed >= FAILING_MIN_FAILED && attempts.failed >= FAILING_SHARE * attempts.finished;
}

/**
 * `schedule`: the one-minute tick. `wake`: the application's call after dispatching
 * to a cold lane; it only ever adds tasks (no scale-in of its own), so it can never
 * scale anything down faster than the schedule does.
 */
export type DecisionMode = 'schedule' | 'wake';

export interface DecisionInput {
  readonly lanes: readonly LaneState[];
  /** fleet.maxTasks. */
  readonly fleetMaxTasks: number;
  /** Tasks outside the controller (e.g. baseline lanes' fixed counts), counted against the cap. */
  readonly reservedTasks: number;
  readonly mode: DecisionMode;
}

export type DecisionReason =
  /** Desired equals current. */
  | 'steady'
  /** More backlog than the tasks can take: scale out to the target at once. */
  | 'scale-out'
  /**
   * The jobs waiting would not all start within maxPickupSeconds at the pace the
   * running ones go (each has run at least as long as the oldest running job):
   * scale out to the tasks that start them in time, more than their count asks.
   */
  | 'scale-out-for-pickup'
  /** A lane at zero gets its first task for a single job. */
  | 'wake-from-zero'
  /** A warm window (scheduled work due) asks for more tasks than the backlog does: the lane has them when the work comes. */
  | 'warm-window'
  /** Less backlog: scale in, by scaleInStep or more, down to a task per running job (see decideLane). */
  | 'scale-in'
  /** The last task leaves: the drain window has passed with nothing in ready, reserved or delayed. */
  | 'drained'
  /**
   * The last task leaves before the drain window has passed: the lane's work comes
   * further apart, on average over the window, than a cold start costs, so keeping
   * the task would only add an idle tail before the next job (see keepsIdleTask).
   */
  | 'drained-sparse'
  /** The lane would go to zero but is not idle (delayed jobs), or the drain window has not passed: keep one. */
  | 'hold-one-draining'
  /** The lane would go to zero but its metric history is missing or incomplete: keep one. */
  | 'hold-one-no-history'
  /** A wake-up never scales in. */
  | 'wake-no-scale-in'
  /** Jobs wait while every worker is busy: a scale-in would only slow them (and stop a running job), so none. */
  | 'hold-saturated'
  /**
   * Most of the lane's recent attempts failed: it is not widened (the failed-jobs
   * alarm says why); a lane at zero still gets its first task.
   */
  | 'hold-failing'
  /** The fleet cap leaves this lane fewer tasks than it wants; its jobs stay queued. */
  | 'fleet-cap'
  /** The lane's keys were found under another key prefix: its empty reading is missing data, so nothing is removed. */
  | 'hold-keys-elsewhere';

export interface LaneDecision {
  readonly lane: string;
  /** ready + reserved + delayed-due. */
  readonly backlog: number;
  readonly current: number;
  /** What the lane's own rules ask for, before the fleet cap. */
  readonly wanted: number;
  /** The count to set. */
  readonly desired: number;
  /** Tasks the fleet cap withheld (wanted - desired when capped, else 0). */
  readonly held: number;
  readonly reason: DecisionReason;
}

/**
 * Missing one-minute buckets tolerated inside a drain window: the previous
 * tick's datapoint may not be readable yet, and a schedule that fires late can
 * put two ticks in one minute.
 */
export const DRAIN_HISTORY_TOLERANCE_MINUTES = 1;

/**
 * What letting a lane's last idle task go costs its next job, in minutes: the job
 * waits for a tick and a task start, and the start is billed. A minute of a job's
 * wait is priced as a minute of task time.
 */
export const COLD_START_MINUTES = (TICK_SECONDS / 2 + 2 * TASK_START_SECONDS) / 60;

/**
 * Jobs that arrived while the lane was busy, over its window, from which on its work
 * is a stream rather than batches dispatched at once: a stream may go on after a pause.
 */
export const STREAM_MIN_ARRIVALS = 2;

/** Reservations a worker holds: jobs running now (stuck ones run nowhere). */
function liveReserved(backlog: LaneBacklog): number {
  return backlog.reserved - backlog.stuckReserved;
}

/** ready + live reservations + delayed-due: the work the lane has now. */
export function backlogOf(backlog: LaneBacklog): number {
  return backlog.ready + liveReserved(backlog) + backlog.delayedDue;
}

/**
 * Nothing in ready, in live reservations, or delayed until within the look-ahead
 * (a later delayed job wakes the lane when it comes within it; without the
 * look-ahead's count, any delayed job).
 */
export function isIdle(backlog: LaneBacklog): boolean {
  return backlog.ready === 0 && liveReserved(backlog) === 0 && (backlog.delayedSoon ?? backlog.delayed) === 0;
}

/**
 * Whether the decision could take this lane to zero this tick, so the caller
 * knows whose drain history to read (GetMetricData is billed per metric).
 */
export function needsDrainHistory(
  lane: Pick<LaneState, 'policy' | 'backlog' | 'current' | 'keysElsewhere' | 'warmTasks'>,
  mode: DecisionMode,
): boolean {
  return (
    mode === 'schedule' &&
    lane.keysElsewhere !== true &&
    lane.policy.min === 0 &&
    (lane.warmTasks ?? 0) === 0 &&
    lane.current > 0 &&
    isIdle(lane.backlog)
  );
}

/** The lane's drain window has passed with every published value zero. */
export function hasDrained(history: DrainHistory | undefined, drainMinutes: number): boolean {
  return history !== undefined && coversWindow(history, drainMinutes) && history.maxBacklog === 0 && history.maxDelayed === 0;
}

/** The history has data for the whole drain window, but for the tolerated missing minutes. */
function coversWindow(history: DrainHistory, drainMinutes: number): boolean {
  return history.minutesWithData >= Math.max(1, drainMinutes - DRAIN_HISTORY_TOLERANCE_MINUTES);
}

/**
 * Whether an idle lane's last task is worth keeping for its next job. The lane
 * expects its next job about one mean idle stretch away: the mean over its window
 * of the stretches between runs of work, counting the one it is in now (which can
 * only lengthen it). Keeping the task costs that many minutes; letting it go costs
 * COLD_START_MINUTES. So a lane in a steady trickle, whose stretches are short,
 * keeps it between jobs however long the trickle lasts, and a lane whose jobs come
 * far apart lets it go after its first idle minute. Work whose jobs kept arriving
 * while the lane was busy (a stream, STREAM_MIN_ARRIVALS) may only be pausing, and a
 * window that has not seen it pause yet cannot tell: its task stays until the pause
 * outweighs a cold start (ski rental: at most twice the better choice).
 * Undecidable (kept, and the drain window decides) without the finished-job count,
 * in which a short job between two ticks leaves no trace, or with an incomplete
 * window. A lane whose maxPickupSeconds a cold start cannot meet keeps it too.
 */
export function keepsIdleTask(history: DrainHistory, policy: Pick<LanePolicy, 'drainMinutes' | 'maxPickupSeconds'>): boolean {
  if (history.idleGaps === undefined || history.idleMinutes === undefined || !coversWindow(history, policy.drainMinutes)) return true;
  if (policy.maxPickupSeconds !== undefined && policy.maxPickupSeconds < COLD_PICKUP_SECONDS) return true;
  if (history.idleMinutes === 0 && (history.arrivals ?? 0) > 0) return true;
  // A stretch cut by the window's start was at least as long, and shrinks as the
  // window slides: it counts as no shorter than a cold start.
  const leading = history.leadingIdle === undefined ? [] : [Math.max(history.leadingIdle, COLD_START_MINUTES)];
  const stretches = [...history.idleGaps, ...leading, history.idleMinutes];
  const expectedIdle = stretches.reduce((a, b) => a + b, 0) / stretches.length;
  if (expectedIdle < COLD_START_MINUTES) return true;
  return (history.arrivals ?? 0) >= STREAM_MIN_ARRIVALS && history.idleMinutes < COLD_START_MINUTES;
}

/**
 * Tasks that start every waiting job within policy.maxPickupSeconds: the waiting
 * jobs take at least as long as the oldest running one has run so far, so with n
 * tasks of w workers the last of them starts no sooner than waiting × running / (n × w).
 * 0 without a target or while nothing runs (a cold lane: count-based sizing wakes it).
 */
export function pickupTasks(policy: Pick<LanePolicy, 'maxPickupSeconds' | 'workersPerTask'>, backlog: LaneBacklog): number {
  const running = backlog.oldestRunningSeconds;
  if (policy.maxPickupSeconds === undefined || running === undefined || running <= 0) return 0;
  const waiting = backlog.ready + backlog.delayedDue;
  return Math.ceil((waiting * running) / (policy.maxPickupSeconds * policy.workersPerTask));
}

/** Jobs are waiting and every worker of the lane's tasks has one running. */
export function isSaturated(lane: Pick<LaneState, 'policy' | 'backlog' | 'current'>): boolean {
  const { backlog } = lane;
  const running = liveReserved(backlog);
  return backlog.ready + backlog.delayedDue > 0 && lane.current > 0 && running >= lane.current * lane.policy.workersPerTask;
}

/** Whether the lane's rules would add tasks to a lane that runs some: then its recent failures are worth reading. */
export function wouldWiden(lane: LaneState, mode: DecisionMode): boolean {
  return lane.current > 0 && decideLane({ ...lane, attempts: undefined }, mode).wanted > lane.current;
}

/** What one lane's own rules ask for, ignoring the fleet cap. */
export function decideLane(lane: LaneState, mode: DecisionMode): LaneWant {
  const { policy, current } = lane;
  // Delayed jobs due within the look-ahead count now: a task takes that long to start.
  const backlog = backlogOf(lane.backlog) + Math.max(0, (lane.backlog.delayedSoon ?? 0) - lane.backlog.delayedDue);
  const byCount = Math.ceil(backlog / policy.backlogPerTask);
  const byPickup = pickupTasks(policy, lane.backlog);
  let target = clamp(Math.max(byCount, byPickup), policy.min, policy.max);
  if (backlog >= 1) target = Math.max(target, 1);
  const byBacklog = target;
  target = Math.max(target, Math.min(lane.warmTasks ?? 0, policy.max));

  if (target > current && current > 0 && isFailing(lane.attempts)) return { wanted: current, reason: 'hold-failing' };
  if (target > current) {
    const reason =
      target > byBacklog
        ? 'warm-window'
        : current === 0
          ? 'wake-from-zero'
          : byPickup > byCount && target > clamp(byCount, policy.min, policy.max)
            ? 'scale-out-for-pickup'
            : 'scale-out';
    return { wanted: target, reason };
  }
  if (target === current) return { wanted: current, reason: 'steady' };
  if (lane.keysElsewhere) return { wanted: current, reason: 'hold-keys-elsewhere' };
  if (mode === 'wake') return { wanted: current, reason: 'wake-no-scale-in' };

  // As the work runs out the lane keeps a task per running job at most (each may be on
  // its own task), so idle tasks go at once rather than one step a tick.
  const stepped = Math.max(target, Math.min(current - policy.scaleInStep, liveReserved(lane.backlog)));
  // Under the fleet cap only the tasks a scale-in would keep are firm; the rest yields to other lanes' work.
  if (isSaturated(lane)) return { wanted: current, reason: 'hold-saturated', firm: stepped };
  if (stepped > 0) return { wanted: stepped, reason: 'scale-in' };
  // The step would remove the last task: only a lane that is idle now and has
  // published nothing but zeros for its whole drain window may go.
  const { history } = lane;
  if (!isIdle(lane.backlog)) return { wanted: 1, reason: 'hold-one-draining' };
  if (history !== undefined && !keepsIdleTask(history, policy)) return { wanted: 0, reason: 'drained-sparse' };
  if (history !== undefined && (history.maxBacklog > 0 || history.maxDelayed > 0 || (history.maxFinished ?? 0) > 0)) {
    return { wanted: 1, reason: 'hold-one-draining' };
  }
  if (!hasDrained(history, policy.drainMinutes)) return { wanted: 1, reason: 'hold-one-no-history' };
  return { wanted: 0, reason: 'drained' };
}

/** A lane that keeps its last task only in case work comes back: under the fleet cap it yields to lanes with work. */
const IDLE_HOLDS: ReadonlySet<DecisionReason> = new Set<DecisionReason>(['hold-one-draining', 'hold-one-no-history']);

/** What one lane asks for, and how much of it comes before every other lane's work under the fleet cap. */
export interface LaneWant {
  readonly wanted: number;
  readonly reason: DecisionReason;
  /** Served in priority order before any lane gets more; the rest of `wanted` only from what is left. @default wanted (0 for an idle hold) */
  readonly firm?: number;
}

/**
 * Every lane's desired count. Lanes with work are served in priority order
 * (lower first, then input order) until the fleet cap (fleetMaxTasks -
 * reservedTasks) is spent, then lanes that only hold a task while they drain;
 * the rest are held at what is left, possibly zero, and keep their jobs queued.
 * Decisions come back in input order.
 */
export function decide(input: DecisionInput): LaneDecision[] {
  const wants = input.lanes.map((lane) => decideLane(lane, input.mode));
  const firm = wants.map((w) => Math.min(w.wanted, w.firm ?? (IDLE_HOLDS.has(w.reason) ? 0 : w.wanted)));
  let remaining = Math.max(0, input.fleetMaxTasks - input.reservedTasks);
  const granted = new Array<number>(input.lanes.length).fill(0);
  const order = priorityOrder(input.lanes.map((lane) => lane.policy));
  for (const share of [(i: number) => firm[i], (i: number) => wants[i].wanted - granted[i]]) {
    for (const index of order) {
      const more = Math.min(share(index), remaining);
      granted[index] += more;
      remaining -= more;
    }
  }
  return input.lanes.map((lane, index) => {
    const { wanted, reason } = wants[index];
    const desired = granted[index];
    return {
      lane: lane.policy.name,
      backlog: backlogOf(lane.backlog),
      current: lane.current,
      wanted,
      desired,
      held: wanted - desired,
      reason: desired < wanted ? 'fleet-cap' : reason,
    };
  });
}

/** Indexes of `lanes` in the order they are served under the fleet cap. */
export function priorityOrder(lanes: readonly Pick<LanePolicy, 'priority'>[]): number[] {
  const compare = (a: number | undefined, b: number | undefined) => (a === b ? 0 : a === undefined ? 1 : b === undefined ? -1 : a - b);
  return lanes
    .map((lane, index) => ({ index, priority: lane.priority }))
    .sort((a, b) => compare(a.priority, b.priority) || a.index - b.index)
    .map(({ index }) => index);
}

function clamp(value: number, min: number, max: number): number {
  return Math.min(max, Math.max(min, value));
}
