/*
 * The bounds of every scaling-policy key that the environment file sets and the
 * backlog controller reads, declared once: schema.ts checks the file against them,
 * and the controller's configuration schema (libs/contract, bundled into the
 * Lambda) checks what synth wrote. Two copies once drifted apart, so a value the
 * file accepted could have been refused by the controller at its cold start.
 * Dependency-free, so the Lambda imports it by this path without the rest of config.
 */

/** An inclusive integer range: [least, most]. */
export type Bounds = readonly [least: number, most: number];

export const LANE_POLICY_BOUNDS = {
  /** A lane's tasks at least (tasks.min, or a fixed count at stage baseline). */
  minTasks: [0, 1000],
  /** A lane's tasks at most (tasks.max). */
  maxTasks: [1, 1000],
  /** Jobs one task is expected to take. */
  backlogPerTask: [1, 100_000],
  /** Seconds a ready job may wait for a worker. */
  maxPickupSeconds: [30, 86_400],
  /** The longest an idle lane keeps its last task, minutes. */
  drainMinutes: [1, 1440],
  /** Lower is served first under the fleet cap. */
  priority: [0, 1000],
  /** A warm window's tasks. */
  warmTasks: [1, 1000],
  /** A warm window's length, minutes. */
  warmMinutes: [1, 1440],
  /** Worker tasks of the environment at most, all lanes together (fleet.maxTasks). */
  fleetMaxTasks: [1, 5000],
} as const satisfies Record<string, Bounds>;
