/*
 * The design the backlog controller replaced for SQS lanes, kept as a peer to
 * compare against: App Auto Scaling on the lane's service, as libs/scaling
 * synthesized it before (CDK's QueueProcessingFargateService works the same way).
 *
 * - Target tracking on (visible + in flight) ÷ running tasks at backlogPerTask:
 *   its high alarm needs 3 one-minute datapoints above the target to scale out
 *   (to ceil(running × metric ÷ target)), its low alarm 15 below 90 % of it to
 *   scale in; cooldowns 60 s out, 300 s in. An idle queue reads 0.001, so it never
 *   scales in below one task; with no task running there is no datapoint.
 * - Steps on the oldest message's age: +1 task at 300 s, +2 at 600 s, cooldown 300 s.
 * - With tasks.min 0: +1 task on one visible message while the service wants none
 *   (cooldown 120 s), and 0 tasks once nothing was visible or in flight for
 *   drainMinutes datapoints.
 *
 * SQS and Container Insights publish one datapoint a minute; an alarm sees a
 * minute's datapoint one minute after it ends (METRIC_LAG_MINUTES: SQS's own
 * metrics come late, and the alarm evaluates on its period). An alarm in ALARM
 * invokes its policy again every minute, within the policy's cooldown.
 */

/** Minutes from the end of a datapoint's minute to the evaluation that first sees it. */
export const METRIC_LAG_MINUTES = 1;
const SCALE_OUT_DATAPOINTS = 3;
const SCALE_IN_DATAPOINTS = 15;
const IDLE_BACKLOG_PER_TASK = 0.001;
const OLDEST_MESSAGE_STEPS = [
  { ageSeconds: 300, addTasks: 1 },
  { ageSeconds: 600, addTasks: 2 },
];

/** One minute of what SQS and Container Insights publish for the lane. */
export interface MinuteSample {
  readonly visible: number;
  readonly inFlight: number;
  readonly oldestAgeSeconds: number;
  readonly running: number;
}

export interface ReplacedLane {
  readonly min: number;
  readonly max: number;
  readonly backlogPerTask: number;
  readonly drainMinutes: number;
}

export class ReplacedAppAutoScaling {
  private readonly samples: MinuteSample[] = [];
  private lastOut = -Infinity;
  private lastIn = -Infinity;
  private lastStep = -Infinity;
  private lastWake = -Infinity;

  constructor(
    private readonly lane: ReplacedLane,
    /** Sets the service's desired count (App Auto Scaling's RegisterScalableTarget bounds applied here). */
    private readonly setDesired: (desired: number) => void,
  ) {}

  /** Records the minute that just ended; evaluates the alarms on what they can see by now, at `now` (seconds). */
  minute(sample: MinuteSample, desired: number, now: number): void {
    this.samples.push(sample);
    const seen = this.samples.slice(0, Math.max(0, this.samples.length - METRIC_LAG_MINUTES));
    if (seen.length === 0) return;
    const next = this.decide(seen, desired, now);
    if (next !== desired) this.setDesired(Math.min(this.lane.max, Math.max(this.lane.min, next)));
  }

  private decide(seen: readonly MinuteSample[], desired: number, now: number): number {
    const last = seen[seen.length - 1];
    const { lane } = this;
    if (lane.min === 0 && desired < 1 && last.visible >= 1 && now - this.lastWake >= 120) {
      this.lastWake = now;
      return 1;
    }
    if (lane.min === 0 && desired > 0 && seen.length >= lane.drainMinutes) {
      if (seen.slice(-lane.drainMinutes).every((s) => s.visible + s.inFlight < 1)) return 0;
    }
    const step = [...OLDEST_MESSAGE_STEPS].reverse().find((s) => last.oldestAgeSeconds >= s.ageSeconds);
    if (step !== undefined && now - this.lastStep >= 300) {
      this.lastStep = now;
      return desired + step.addTasks;
    }
    return this.track(seen, desired, now);
  }

  /** Target tracking: its high and low alarms on backlog per running task. */
  private track(seen: readonly MinuteSample[], desired: number, now: number): number {
    const metric = (s: MinuteSample) =>
      s.visible + s.inFlight > 0 ? (s.running > 0 ? (s.visible + s.inFlight) / s.running : undefined) : IDLE_BACKLOG_PER_TASK;
    const target = this.lane.backlogPerTask;
    const recent = (n: number) => (seen.length >= n ? seen.slice(-n).map(metric) : []);
    const high = recent(SCALE_OUT_DATAPOINTS);
    const latest = metric(seen[seen.length - 1]);
    const running = seen[seen.length - 1].running;
    if (high.length > 0 && high.every((m) => m !== undefined && m > target) && now - this.lastOut >= 60 && latest !== undefined) {
      this.lastOut = now;
      return Math.max(desired, Math.ceil((running * latest) / target));
    }
    const low = recent(SCALE_IN_DATAPOINTS);
    if (low.length > 0 && low.every((m) => m !== undefined && m < 0.9 * target) && now - this.lastIn >= 300 && latest !== undefined) {
      const wanted = Math.max(1, Math.ceil((running * latest) / target));
      if (wanted < desired) {
        this.lastIn = now;
        return wanted;
      }
    }
    return desired;
  }
}
