import {
  COLD_START_MINUTES,
  decide,
  keepsIdleTask,
  hasDrained,
  isFailing,
  isSaturated,
  pickupTasks,
  wouldWiden,
  needsDrainHistory,
  priorityOrder,
  type DecisionInput,
  type DrainHistory,
  type LaneBacklog,
  type LanePolicy,
  type LaneState,
} from './decide';

const policy = (overrides: Partial<LanePolicy> = {}): LanePolicy => ({
  name: 'image',
  min: 0,
  max: 4,
  backlogPerTask: 10,
  drainMinutes: 15,
  scaleInStep: 1,
  workersPerTask: 1,
  ...overrides,
});
const empty: LaneBacklog = { ready: 0, reserved: 0, delayed: 0, delayedDue: 0, stuckReserved: 0 };
const drained: DrainHistory = { minutesWithData: 15, maxBacklog: 0, maxDelayed: 0 };

function lane(backlog: Partial<LaneBacklog>, current: number, overrides: Partial<LanePolicy> = {}, history?: DrainHistory): LaneState {
  return { policy: policy(overrides), backlog: { ...empty, ...backlog }, current, history };
}

function one(state: LaneState, input: Partial<DecisionInput> = {}) {
  return decide({ lanes: [state], fleetMaxTasks: 100, reservedTasks: 0, mode: 'schedule', ...input })[0];
}

describe('decide: one lane', () => {
  it('lets a lane with only stuck reservations drain: no task can finish them', () => {
    const stuck = { reserved: 2, stuckReserved: 2 };
    expect(one(lane(stuck, 0))).toMatchObject({ desired: 0, reason: 'steady', backlog: 0 });
    expect(one(lane(stuck, 1, {}, drained))).toMatchObject({ desired: 0, reason: 'drained' });
    expect(one(lane({ reserved: 3, stuckReserved: 2 }, 0))).toMatchObject({ desired: 1, reason: 'wake-from-zero', backlog: 1 });
  });

  // One job after 13 idle minutes, done in the last minute: a batch of one.
  const sparse: DrainHistory = {
    minutesWithData: 15,
    maxBacklog: 1,
    maxDelayed: 0,
    maxFinished: 1,
    activeRuns: 1,
    idleMinutes: 0,
    idleGaps: [],
    leadingIdle: 13,
    arrivals: 0,
  };

  it('lets a lane go as soon as its work is done when its work comes further apart than a cold start costs', () => {
    expect(one(lane({}, 1, {}, sparse))).toMatchObject({ desired: 0, reason: 'drained-sparse' });
    // Jobs 5 minutes apart: keeping the task would cost more than waking it again.
    const apart = { ...sparse, activeRuns: 3, leadingIdle: 1, idleGaps: [5, 5], idleMinutes: 1 };
    expect(one(lane({}, 1, {}, apart))).toMatchObject({ desired: 0, reason: 'drained-sparse' });
    // A delayed job later than the look-ahead does not hold it: the look-ahead wakes the lane for it.
    expect(one(lane({ delayed: 1, delayedSoon: 0 }, 1, {}, sparse))).toMatchObject({ desired: 0, reason: 'drained-sparse' });
    // One due within it counts as work now.
    expect(one(lane({ delayed: 1, delayedSoon: 1 }, 1, {}, sparse))).toMatchObject({ desired: 1, reason: 'steady' });
  });

  it('keeps the task of a lane in a steady trickle between two jobs, however long the trickle', () => {
    // Stretches of one or two idle minutes between runs: the next job is expected sooner than a cold start pays off.
    const trickle = { ...sparse, activeRuns: 5, leadingIdle: undefined, idleGaps: [1, 2, 1, 1], idleMinutes: 2, arrivals: 9 };
    expect(one(lane({}, 1, {}, trickle))).toMatchObject({ desired: 1, reason: 'hold-one-draining' });
    expect(keepsIdleTask(trickle, policy())).toBe(true);
    // Once the pause outweighs a cold start, the trickle has stopped.
    expect(keepsIdleTask({ ...trickle, idleGaps: [1, 2], idleMinutes: 8 }, policy())).toBe(false);
  });

  it('waits out a pause of work that kept arriving while the lane ran, up to a cold start, when its window saw no other pause', () => {
    const stream = { ...sparse, maxFinished: 3, arrivals: 6 };
    expect(keepsIdleTask(stream, policy())).toBe(true);
    expect(keepsIdleTask({ ...stream, idleMinutes: 2 }, policy())).toBe(true);
    expect(keepsIdleTask({ ...stream, idleMinutes: 3 }, policy())).toBe(false);
    // A batch dispatched at once waits for nothing.
    expect(keepsIdleTask({ ...stream, arrivals: 0, idleMinutes: 0 }, policy())).toBe(false);
  });

  it('counts a stretch cut by the window as no shorter than a cold start, so a sliding window does not hold a lane longer', () => {
    // One burst long ago: the stretch before it is cut to one minute by the window.
    const burst = { ...sparse, leadingIdle: 1, idleMinutes: 3 };
    expect(COLD_START_MINUTES).toBe(2.5);
    expect(keepsIdleTask(burst, policy())).toBe(false);
  });

  it('keeps the task, and lets the drain window decide, when it cannot price the tail', () => {
    // Without the finished-job count a short job between two ticks leaves no trace.
    expect(one(lane({}, 1, {}, { minutesWithData: 15, maxBacklog: 1, maxDelayed: 0 }))).toMatchObject({
      desired: 1,
      reason: 'hold-one-draining',
    });
    // An incomplete window.
    expect(one(lane({}, 1, {}, { ...sparse, minutesWithData: 5 }))).toMatchObject({ desired: 1, reason: 'hold-one-draining' });
    // A pickup target a cold start cannot meet: a tick and a start are longer than 100 s.
    expect(one(lane({}, 1, { maxPickupSeconds: 100 }, sparse))).toMatchObject({ desired: 1, reason: 'hold-one-draining' });
    expect(one(lane({}, 1, { maxPickupSeconds: 120 }, sparse))).toMatchObject({ desired: 0, reason: 'drained-sparse' });
  });

  it('has the tasks a warm window asks for, up to max, and still scales by backlog above them', () => {
    expect(one({ ...lane({}, 0), warmTasks: 2 })).toMatchObject({ desired: 2, reason: 'warm-window' });
    expect(one({ ...lane({}, 0, { max: 2 }), warmTasks: 5 })).toMatchObject({ desired: 2, reason: 'warm-window' });
    expect(one({ ...lane({ ready: 40 }, 2), warmTasks: 2 })).toMatchObject({ desired: 4, reason: 'scale-out' });
    // Idle inside the window: nothing goes, and no drain history is read.
    expect(one({ ...lane({}, 2, {}, sparse), warmTasks: 2 })).toMatchObject({ desired: 2, reason: 'steady' });
    expect(needsDrainHistory({ ...lane({}, 2), warmTasks: 2 }, 'schedule')).toBe(false);
    // After it, the idle tasks go as usual.
    expect(one({ ...lane({}, 2, {}, sparse), warmTasks: 0 })).toMatchObject({ desired: 0, reason: 'drained-sparse' });
  });

  it('holds a lane whose workers finished jobs in the window, though no tick saw a backlog', () => {
    const busy = { minutesWithData: 15, maxBacklog: 0, maxDelayed: 0, maxFinished: 1, activeRuns: 2, idleMinutes: 1 };
    expect(one(lane({}, 1, {}, busy))).toMatchObject({ desired: 1, reason: 'hold-one-draining' });
  });

  it('sizes for delayed jobs due within the look-ahead, without calling them backlog', () => {
    expect(one(lane({ delayed: 30, delayedSoon: 30 }, 0))).toMatchObject({ desired: 3, reason: 'wake-from-zero', backlog: 0 });
    expect(one(lane({ delayed: 30, delayedDue: 10, delayedSoon: 30 }, 4))).toMatchObject({ desired: 3, backlog: 10 });
  });

  it('never lowers a lane whose keys were found under another prefix', () => {
    const elsewhere = { ...lane({}, 2, {}, drained), keysElsewhere: true };
    expect(one(elsewhere)).toMatchObject({ desired: 2, reason: 'hold-keys-elsewhere' });
    expect(needsDrainHistory({ ...lane({}, 1), keysElsewhere: true }, 'schedule')).toBe(false);
    expect(one({ ...lane({ ready: 40 }, 1), keysElsewhere: true })).toMatchObject({ desired: 4, reason: 'scale-out' });
  });

  it('wakes a lane from zero on a single ready job, even with min 0', () => {
    expect(one(lane({ ready: 1 }, 0))).toMatchObject({ desired: 1, wanted: 1, reason: 'wake-from-zero', backlog: 1 });
  });

  it('wakes a lane from zero on a single reserved job (an expired reservation is work too)', () => {
    expect(one(lane({ reserved: 1 }, 0))).toMatchObject({ desired: 1, reason: 'wake-from-zero' });
  });

  it('counts delayed-due jobs as backlog: they move to ready on the next pop', () => {
    expect(one(lane({ delayed: 1, delayedDue: 1 }, 0))).toMatchObject({ desired: 1, backlog: 1, reason: 'wake-from-zero' });
    expect(one(lane({ ready: 10, delayed: 15, delayedDue: 15 }, 1))).toMatchObject({ desired: 3, backlog: 25 });
  });

  it('does not add tasks for delayed jobs that are not due', () => {
    expect(one(lane({ delayed: 50 }, 0))).toMatchObject({ desired: 0, backlog: 0, reason: 'steady' });
    expect(one(lane({ ready: 5, delayed: 500 }, 1))).toMatchObject({ desired: 1, reason: 'steady' });
  });

  it('does not scale to zero while delayed jobs wait, even with a drained history', () => {
    expect(one(lane({ delayed: 3 }, 1, {}, drained))).toMatchObject({ desired: 1, reason: 'hold-one-draining' });
  });

  it('scales out to ceil(backlog / backlogPerTask) at once', () => {
    expect(one(lane({ ready: 31 }, 1))).toMatchObject({ desired: 4, reason: 'scale-out' });
    expect(one(lane({ ready: 30 }, 0))).toMatchObject({ desired: 3, reason: 'wake-from-zero' });
  });

  it('clamps to max', () => {
    expect(one(lane({ ready: 10_000 }, 1, { max: 4 }))).toMatchObject({ desired: 4, wanted: 4, held: 0 });
  });

  it('keeps at least min tasks with no backlog', () => {
    expect(one(lane({}, 0, { min: 2 }))).toMatchObject({ desired: 2, reason: 'wake-from-zero' });
    expect(one(lane({}, 2, { min: 2 }))).toMatchObject({ desired: 2, reason: 'steady' });
  });

  it('scales in by scaleInStep per tick while every task may be running a job', () => {
    // Ten running jobs on four tasks: any task may hold one.
    expect(one(lane({ reserved: 10 }, 4))).toMatchObject({ desired: 3, reason: 'scale-in' });
    expect(one(lane({ reserved: 10 }, 4, { scaleInStep: 2 }))).toMatchObject({ desired: 2, reason: 'scale-in' });
    expect(one(lane({ reserved: 10 }, 4, { scaleInStep: 5 }))).toMatchObject({ desired: 1, reason: 'scale-in' });
  });

  it('shrinks in step with the work that is left: idle tasks beyond the running jobs go at once', () => {
    // Two jobs run on eight tasks and nothing waits: six tasks are idle at least.
    expect(one(lane({ reserved: 2 }, 8, { max: 8 }))).toMatchObject({ desired: 2, reason: 'scale-in' });
    expect(one(lane({ reserved: 1, ready: 5 }, 8, { max: 8 }))).toMatchObject({ desired: 1, reason: 'scale-in' });
    // Stuck reservations run on no task.
    expect(one(lane({ reserved: 4, stuckReserved: 2 }, 8, { max: 8 }))).toMatchObject({ desired: 2, reason: 'scale-in' });
  });

  it('scales a lane above max back in: step by step while its tasks may be busy, at once when they are not', () => {
    expect(one(lane({ ready: 100, reserved: 7 }, 7, { max: 4, workersPerTask: 2 }))).toMatchObject({ desired: 6, reason: 'scale-in' });
    expect(one(lane({ ready: 100 }, 7, { max: 4 }))).toMatchObject({ desired: 4, reason: 'scale-in' });
  });

  it('keeps one task while the drain window has not elapsed (the history shows recent work)', () => {
    const recent: DrainHistory = { minutesWithData: 15, maxBacklog: 3, maxDelayed: 0 };
    expect(one(lane({}, 1, {}, recent))).toMatchObject({ desired: 1, reason: 'hold-one-draining' });
    const delayedRecently: DrainHistory = { minutesWithData: 15, maxBacklog: 0, maxDelayed: 1 };
    expect(one(lane({}, 1, {}, delayedRecently))).toMatchObject({ desired: 1, reason: 'hold-one-draining' });
  });

  it('scales to zero once ready, reserved and delayed have all been empty for the drain window', () => {
    expect(one(lane({}, 1, {}, drained))).toMatchObject({ desired: 0, reason: 'drained' });
  });

  it('tolerates one missing minute in the window (the previous tick may not be readable yet)', () => {
    expect(one(lane({}, 1, {}, { ...drained, minutesWithData: 14 }))).toMatchObject({ desired: 0, reason: 'drained' });
    expect(one(lane({}, 1, {}, { ...drained, minutesWithData: 13 }))).toMatchObject({
      desired: 1,
      reason: 'hold-one-no-history',
    });
  });

  it('never scales to zero without metric history', () => {
    expect(one(lane({}, 1))).toMatchObject({ desired: 1, reason: 'hold-one-no-history' });
    expect(one(lane({}, 1, {}, { minutesWithData: 0, maxBacklog: 0, maxDelayed: 0 }))).toMatchObject({
      desired: 1,
      reason: 'hold-one-no-history',
    });
  });

  it('needs at least one minute of history even for a one-minute window', () => {
    expect(one(lane({}, 1, { drainMinutes: 1 }, { minutesWithData: 0, maxBacklog: 0, maxDelayed: 0 }))).toMatchObject({
      desired: 1,
    });
    expect(one(lane({}, 1, { drainMinutes: 1 }, { minutesWithData: 1, maxBacklog: 0, maxDelayed: 0 }))).toMatchObject({
      desired: 0,
    });
  });

  it('steps in to one, then to zero on a later tick, when the step reaches past one', () => {
    expect(one(lane({}, 3, { scaleInStep: 5 }))).toMatchObject({ desired: 1, reason: 'hold-one-no-history' });
    expect(one(lane({}, 3, { scaleInStep: 5 }, drained))).toMatchObject({ desired: 0, reason: 'drained' });
    // Idle tasks go at once, down to the one a lane keeps while it drains.
    expect(one(lane({}, 3, {}, { ...drained, maxBacklog: 3 }))).toMatchObject({ desired: 1, reason: 'hold-one-draining' });
    expect(needsDrainHistory(lane({}, 3), 'schedule')).toBe(true);
  });

  it('leaves an unchanged lane alone', () => {
    const decision = one(lane({ ready: 20 }, 2));
    expect(decision).toMatchObject({ current: 2, desired: 2, reason: 'steady' });
    expect(one(lane({}, 0))).toMatchObject({ current: 0, desired: 0, reason: 'steady' });
  });

  it('does not scale in on a wake-up, but scales out like a tick', () => {
    expect(one(lane({}, 3, {}, drained), { mode: 'wake' })).toMatchObject({ desired: 3, reason: 'wake-no-scale-in' });
    expect(one(lane({}, 1, {}, drained), { mode: 'wake' })).toMatchObject({ desired: 1, reason: 'wake-no-scale-in' });
    expect(one(lane({ ready: 1 }, 0), { mode: 'wake' })).toMatchObject({ desired: 1, reason: 'wake-from-zero' });
    expect(one(lane({ ready: 35 }, 1), { mode: 'wake' })).toMatchObject({ desired: 4, reason: 'scale-out' });
  });
});

describe('decide: the fleet cap', () => {
  const lanes = [
    lane({ ready: 40 }, 0, { name: 'bulk', priority: 2 }),
    lane({ ready: 40 }, 0, { name: 'image', priority: 1 }),
    lane({ ready: 40 }, 0, { name: 'sync' }),
  ];

  it('serves lanes in priority order (lower first, then unnumbered in input order) and holds the rest', () => {
    const decisions = decide({ lanes, fleetMaxTasks: 6, reservedTasks: 0, mode: 'schedule' });
    expect(decisions.map((d) => [d.lane, d.desired, d.held, d.reason])).toEqual([
      ['bulk', 2, 2, 'fleet-cap'],
      ['image', 4, 0, 'wake-from-zero'],
      ['sync', 0, 4, 'fleet-cap'],
    ]);
  });

  it('lets a draining lane yield its last task to a lane with work, whatever their priorities', () => {
    const draining = lane({}, 1, { name: 'sync', priority: 1 }, { minutesWithData: 15, maxBacklog: 4, maxDelayed: 0 });
    const busy = lane({ ready: 40 }, 1, { name: 'image', priority: 2 });
    const decisions = decide({ lanes: [draining, busy], fleetMaxTasks: 4, reservedTasks: 0, mode: 'schedule' });
    expect(decisions.map((d) => [d.lane, d.desired, d.reason])).toEqual([
      ['sync', 0, 'fleet-cap'],
      ['image', 4, 'scale-out'],
    ]);
    // With room for both, the draining lane keeps its task.
    expect(decide({ lanes: [draining, busy], fleetMaxTasks: 5, reservedTasks: 0, mode: 'schedule' })[0]).toMatchObject({
      desired: 1,
      reason: 'hold-one-draining',
    });
  });

  it('counts reserved capacity (lanes the controller does not manage) against the cap', () => {
    const decisions = decide({ lanes, fleetMaxTasks: 6, reservedTasks: 3, mode: 'schedule' });
    expect(decisions.map((d) => d.desired)).toEqual([0, 3, 0]);
    expect(decisions.reduce((sum, d) => sum + d.desired, 0)).toBe(3);
  });

  it('grants nothing when reserved capacity is the whole fleet', () => {
    expect(decide({ lanes, fleetMaxTasks: 4, reservedTasks: 5, mode: 'schedule' }).map((d) => d.desired)).toEqual([0, 0, 0]);
  });

  it('takes tasks from a lower-priority lane to serve a higher one', () => {
    const busy = [lane({ ready: 40 }, 0, { name: 'image', priority: 1 }), lane({ ready: 40 }, 4, { name: 'bulk', priority: 2 })];
    expect(decide({ lanes: busy, fleetMaxTasks: 5, reservedTasks: 0, mode: 'schedule' }).map((d) => d.desired)).toEqual([4, 1]);
  });

  it('never exceeds the cap, whatever the lanes want', () => {
    for (let cap = 1; cap <= 12; cap += 1) {
      const total = decide({ lanes, fleetMaxTasks: cap, reservedTasks: 1, mode: 'schedule' }).reduce((sum, d) => sum + d.desired, 0);
      expect(total).toBeLessThanOrEqual(cap - 1);
    }
  });

  it('returns decisions in input order with no change for steady lanes', () => {
    const steady = [lane({ ready: 10 }, 1, { name: 'a' }), lane({}, 0, { name: 'b' })];
    const decisions = decide({ lanes: steady, fleetMaxTasks: 10, reservedTasks: 0, mode: 'schedule' });
    expect(decisions.filter((d) => d.desired !== d.current)).toEqual([]);
    expect(decisions.map((d) => d.lane)).toEqual(['a', 'b']);
  });
});

describe('helpers', () => {
  it('orders by priority, then input order, unnumbered last', () => {
    expect(priorityOrder([{ priority: 5 }, {}, { priority: 1 }, { priority: 5 }, {}])).toEqual([2, 0, 3, 1, 4]);
  });

  it('asks for drain history only where the decision could reach zero this tick', () => {
    expect(needsDrainHistory(lane({}, 1), 'schedule')).toBe(true);
    expect(needsDrainHistory(lane({}, 2, { scaleInStep: 2 }), 'schedule')).toBe(true);
    // An idle lane's tasks all go at once: any of them could be its last.
    expect(needsDrainHistory(lane({}, 2), 'schedule')).toBe(true);
    expect(needsDrainHistory(lane({ reserved: 1 }, 2), 'schedule')).toBe(false);
    expect(needsDrainHistory(lane({}, 0), 'schedule')).toBe(false);
    expect(needsDrainHistory(lane({}, 1, { min: 1 }), 'schedule')).toBe(false);
    expect(needsDrainHistory(lane({ delayed: 1 }, 1), 'schedule')).toBe(false);
    expect(needsDrainHistory(lane({}, 1), 'wake')).toBe(false);
  });

  it('hasDrained wants the window covered and all zeros', () => {
    expect(hasDrained(undefined, 5)).toBe(false);
    expect(hasDrained({ minutesWithData: 4, maxBacklog: 0, maxDelayed: 0 }, 5)).toBe(true);
    expect(hasDrained({ minutesWithData: 3, maxBacklog: 0, maxDelayed: 0 }, 5)).toBe(false);
    expect(hasDrained({ minutesWithData: 5, maxBacklog: 1, maxDelayed: 0 }, 5)).toBe(false);
  });
});

describe('decide: sizing by pickup time', () => {
  const pickup = { maxPickupSeconds: 300, workersPerTask: 2, backlogPerTask: 50, max: 8 };

  it('asks for the tasks that start every waiting job in time, at the pace of the running ones', () => {
    // 10 waiting × 240 s / (300 s × 2 workers) = 4; counting asks for ceil(12 / 50) = 1.
    expect(pickupTasks(policy(pickup), { ...empty, ready: 10, reserved: 2, oldestRunningSeconds: 240 })).toBe(4);
    expect(one(lane({ ready: 10, reserved: 2, oldestRunningSeconds: 240 }, 1, pickup))).toMatchObject({
      desired: 4,
      reason: 'scale-out-for-pickup',
    });
    // Due delayed jobs wait too.
    expect(pickupTasks(policy(pickup), { ...empty, delayedDue: 10, oldestRunningSeconds: 240 })).toBe(4);
  });

  it('adds nothing while nothing runs, without a target, or when counting already asks for more', () => {
    expect(pickupTasks(policy(pickup), { ...empty, ready: 10 })).toBe(0);
    expect(pickupTasks(policy({ workersPerTask: 2 }), { ...empty, ready: 10, oldestRunningSeconds: 240 })).toBe(0);
    // Short jobs: 100 waiting × 20 s / 600 = 4 by pickup, 10 by count (backlogPerTask 10): count wins, reason scale-out.
    expect(one(lane({ ready: 100, reserved: 2, oldestRunningSeconds: 20 }, 1, { maxPickupSeconds: 300, workersPerTask: 2 }))).toMatchObject(
      {
        desired: 4,
        reason: 'scale-out',
      },
    );
  });

  it('is capped by tasks.max like any other target', () => {
    expect(one(lane({ ready: 100, reserved: 2, oldestRunningSeconds: 600 }, 1, { ...pickup, max: 3 }))).toMatchObject({ desired: 3 });
  });
});

describe('decide: a saturated lane', () => {
  it('keeps its tasks while jobs wait and every worker is busy, whatever the count says', () => {
    const saturated = lane({ ready: 5, reserved: 4 }, 2, { workersPerTask: 2, backlogPerTask: 50 });
    expect(isSaturated(saturated)).toBe(true);
    expect(one(saturated)).toMatchObject({ desired: 2, reason: 'hold-saturated' });
  });

  it('scales in once a worker is free or nothing waits', () => {
    expect(one(lane({ ready: 5, reserved: 3 }, 2, { workersPerTask: 2, backlogPerTask: 50 }))).toMatchObject({
      desired: 1,
      reason: 'scale-in',
    });
    expect(one(lane({ ready: 0, reserved: 4 }, 2, { workersPerTask: 2, backlogPerTask: 50 }))).toMatchObject({
      desired: 1,
      reason: 'scale-in',
    });
    // Stuck reservations are no busy worker.
    expect(isSaturated(lane({ ready: 5, reserved: 4, stuckReserved: 1 }, 2, { workersPerTask: 2 }))).toBe(false);
  });

  it("yields the tasks it only holds to another lane's work under the fleet cap", () => {
    const held = lane({ ready: 5, reserved: 6 }, 3, { name: 'image', workersPerTask: 2, backlogPerTask: 50, priority: 1 });
    const waiting = lane({ ready: 3 }, 0, { name: 'sync', priority: 2 });
    const [image, sync] = decide({ lanes: [held, waiting], fleetMaxTasks: 3, reservedTasks: 0, mode: 'schedule' });
    // A scale-in would keep 2 of image's 3: those are firm; the third goes to sync's jobs.
    expect(image).toMatchObject({ wanted: 3, desired: 2, reason: 'fleet-cap' });
    expect(sync).toMatchObject({ desired: 1, reason: 'wake-from-zero' });
  });
});

describe('decide: a lane failing in a loop', () => {
  const failing = { finished: 40, failed: 36 };

  it('is not widened while most recent attempts fail', () => {
    expect(isFailing(failing)).toBe(true);
    expect(one({ ...lane({ ready: 40 }, 1), attempts: failing })).toMatchObject({ desired: 1, reason: 'hold-failing' });
  });

  it('still wakes from zero, scales in, and widens once most attempts succeed or too few ran to tell', () => {
    expect(one({ ...lane({ ready: 40 }, 0), attempts: failing })).toMatchObject({ desired: 4, reason: 'wake-from-zero' });
    expect(one({ ...lane({ ready: 5, reserved: 2 }, 3), attempts: failing })).toMatchObject({ desired: 2, reason: 'scale-in' });
    expect(isFailing({ finished: 40, failed: 20 })).toBe(false);
    expect(isFailing({ finished: 4, failed: 4 })).toBe(false);
    expect(one({ ...lane({ ready: 40 }, 1), attempts: { finished: 40, failed: 20 } })).toMatchObject({ desired: 4, reason: 'scale-out' });
  });

  it('asks for the attempts only where its rules would add tasks to a running lane', () => {
    expect(wouldWiden(lane({ ready: 40 }, 1), 'schedule')).toBe(true);
    expect(wouldWiden(lane({ ready: 40 }, 0), 'schedule')).toBe(false);
    expect(wouldWiden(lane({ ready: 5 }, 1), 'schedule')).toBe(false);
  });
});
