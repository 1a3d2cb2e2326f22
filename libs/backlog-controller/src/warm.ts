import { parseCron, type CronSchedule } from '@queue-lanes/config/cron';
import type { ControllerLaneConfig } from '@queue-lanes/contract';

/*
 * A lane's warm windows: the times its work arrives (the Laravel scheduler's
 * cron, UTC) and the tasks it wants then. Parsed once per cold start, matched
 * every tick against the tick's clock.
 */

export interface WarmWindow {
  readonly schedule: CronSchedule;
  readonly tasks: number;
  readonly minutes: number;
}

/** The lane's windows, parsed (the configuration's schema has already refused a bad expression). */
export function warmWindows(lane: Pick<ControllerLaneConfig, 'warm'>): WarmWindow[] {
  return (lane.warm ?? []).map((w) => ({ schedule: parseCron(w.at), tasks: w.tasks, minutes: w.minutes }));
}

/**
 * The tasks the lane's windows ask for at `now`: a window holds from `leadSeconds`
 * before its time (a tick and a task start, the look-ahead: the tasks are running
 * when the work comes) until `minutes` after it. The largest, or 0 outside every window.
 */
export function warmTasks(windows: readonly WarmWindow[], now: Date, leadSeconds: number): number {
  const minute = Math.floor(now.getTime() / 60_000);
  const lead = Math.ceil(leadSeconds / 60);
  let tasks = 0;
  for (const window of windows) {
    if (window.tasks <= tasks) continue;
    for (let at = minute - window.minutes + 1; at <= minute + lead; at += 1) {
      if (window.schedule.matches(at)) {
        tasks = window.tasks;
        break;
      }
    }
  }
  return tasks;
}
