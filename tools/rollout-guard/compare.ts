/*
 * The rollout rules that need two versions of an environment file; the rules of
 * one version alone are libs/config's.
 * Pure: takes what is known of each side and returns the per-lane summary and
 * the rules broken. Reading git and files is guard.ts's job.
 */
import { parse } from 'yaml';
import { STAGES, stageIndex, type EnvironmentConfig, type LaneConfig, type Stage } from '@queue-lanes/config';

/** Rule ids, printed in brackets after each violation and explained in docs/operations.md ("Rollout guard"). */
export const RULES = {
  oneStepForward: 'one-step-forward',
  removeFromOff: 'remove-from-off',
  oneLaneAtATime: 'one-lane-at-a-time',
} as const;
export type RuleId = (typeof RULES)[keyof typeof RULES];

export interface TaskCounts {
  readonly baseline: number;
  readonly min: number;
  readonly max: number;
}

/** What the guard knows of one lane in one version of the file. */
export interface LaneSide {
  /** Undefined when the (invalid) base file has a stage the guard cannot read. */
  readonly stage: Stage | undefined;
  /** Absent when only the stage could be read (an invalid base file). */
  readonly tasks?: TaskCounts;
  /**
   * Every setting except the name, the stage and the priority, flattened to
   * `key path → printable value` (`tasks.max → 2`, `job.timeout → 90`).
   * Absent when only the stage could be read.
   */
  readonly settings?: ReadonlyMap<string, string>;
}

/** What the guard knows of one version of an environment file. */
export interface EnvironmentSide {
  /** Lanes by name, in priority order. */
  readonly lanes: ReadonlyMap<string, LaneSide>;
  readonly oneLaneAtATime: boolean;
  /**
   * Every setting outside the lanes, flattened like a lane's (`fleet.maxTasks → 16`,
   * `redis.retryAfter → 150`, `state.backend → s3`): a change to one reaches every lane.
   */
  readonly settings: ReadonlyMap<string, string>;
  /** False when this side was read leniently from an invalid file. */
  readonly validated: boolean;
}

export interface Violation {
  readonly rule: RuleId;
  /** Lanes the violation is about. */
  readonly lanes: readonly string[];
  /** Key path in the head file to point at (line and column), e.g. ['lanes', 'image', 'stage']. */
  readonly path: readonly string[];
  readonly message: string;
}

export interface Comparison {
  /** One line per lane that changed, in head priority order, then removed lanes. */
  readonly laneLines: readonly string[];
  /** Lines for environment settings and the priority order. */
  readonly environmentLines: readonly string[];
  readonly violations: readonly Violation[];
}

/** Builds a side from a validated environment. */
export function sideFromConfig(env: EnvironmentConfig): EnvironmentSide {
  const lanes = new Map<string, LaneSide>();
  for (const lane of env.lanes) {
    lanes.set(lane.name, { stage: lane.stage, tasks: lane.tasks, settings: laneSettings(lane) });
  }
  return {
    lanes,
    oneLaneAtATime: env.guardrails.oneLaneAtATime,
    settings: environmentSettings(env),
    validated: true,
  };
}

/**
 * Reads what it can of a file that does not validate: each lane's stage (the
 * schema's default "off" when absent) and guardrails.oneLaneAtATime.
 * Returns undefined when the text is not a YAML mapping at all.
 */
export function sideFromInvalidText(text: string): EnvironmentSide | undefined {
  let data: unknown;
  try {
    data = parse(text, { uniqueKeys: false, maxAliasCount: 100 });
  } catch {
    return undefined;
  }
  if (!isRecord(data)) return undefined;
  const lanes = new Map<string, LaneSide>();
  if (isRecord(data.lanes)) {
    for (const [name, raw] of Object.entries(data.lanes)) {
      const stage = isRecord(raw) ? raw.stage : undefined;
      lanes.set(name, {
        stage: stage === undefined ? 'off' : (STAGES as readonly unknown[]).includes(stage) ? (stage as Stage) : undefined,
      });
    }
  }
  const guardrails = isRecord(data.guardrails) ? data.guardrails : {};
  return { lanes, oneLaneAtATime: guardrails.oneLaneAtATime === true, settings: new Map(), validated: false };
}

/**
 * Compares two versions of an environment file.
 *
 * @param base the version at the base ref; undefined when the file did not exist
 *   there (every lane is new, and one-lane-at-a-time does not apply: nothing runs yet)
 * @param head the working tree's version (always validated)
 */
export function compareSides(base: EnvironmentSide | undefined, head: EnvironmentSide): Comparison {
  const laneLines: string[] = [];
  const violations: Violation[] = [];
  /** Lanes whose change touches something that runs on ECS, for one-lane-at-a-time. */
  const counted: string[] = [];
  const baseLanes = base?.lanes ?? new Map<string, LaneSide>();

  for (const [name, now] of head.lanes) {
    const before = baseLanes.get(name);
    const stage = now.stage ?? 'off';
    if (!before) {
      laneLines.push(`${name}: added at ${stage}${taskRange(stage, now.tasks)}`);
      if (stageIndex(stage) > stageIndex('baseline')) {
        violations.push({
          rule: RULES.oneStepForward,
          lanes: [name],
          path: ['lanes', name, 'stage'],
          message: `new lane added at "${stage}"; a lane that did not exist counts as "off", so it may start at "off" or "baseline" only, then move forward one stage per change`,
        });
      }
      if (stage !== 'off') counted.push(name);
      continue;
    }

    const parts: string[] = [];
    const stageChanged = before.stage !== stage;
    if (stageChanged) parts.push(`${before.stage ?? '(unreadable)'} → ${stage}${taskRange(stage, now.tasks)}`);
    if (before.settings && now.settings) parts.push(...settingChanges(before.settings, now.settings));
    if (parts.length === 0) continue;
    laneLines.push(`${name}: ${parts.join(', ')}`);
    // An unreadable stage (invalid base file) is not judged: that version never deployed.
    if (before.stage !== undefined && (before.stage !== 'off' || stage !== 'off')) counted.push(name);

    if (stageChanged && before.stage !== undefined) {
      const steps = stageIndex(stage) - stageIndex(before.stage);
      if (steps > 1) {
        const next = STAGES[stageIndex(before.stage) + 1];
        violations.push({
          rule: RULES.oneStepForward,
          lanes: [name],
          path: ['lanes', name, 'stage'],
          message: `${before.stage} → ${stage} moves forward ${steps} stages at once; a stage moves forward one step per change (off → baseline → scaling → owned; rollback may jump back any distance), so set "${next}" first`,
        });
      }
    }
  }

  for (const [name, before] of baseLanes) {
    if (head.lanes.has(name)) continue;
    const running = before.stage !== undefined && before.stage !== 'off';
    laneLines.push(`${name}: removed${running ? ` (was ${before.stage})` : ''}`);
    if (running) {
      counted.push(name);
      violations.push({
        rule: RULES.removeFromOff,
        lanes: [name],
        path: ['lanes', name],
        message: `lane "${name}" is removed at stage "${before.stage}", while its queues may still hold work; set its stage to "off" and deploy that first (the host consumers take its queues back), then remove the lane in a later change`,
      });
    }
  }

  if (base && (base.oneLaneAtATime || head.oneLaneAtATime) && counted.length > 1) {
    violations.push({
      rule: RULES.oneLaneAtATime,
      lanes: counted,
      path: ['guardrails', 'oneLaneAtATime'],
      message: `${counted.length} lanes change in one change (${counted.join(', ')}) while guardrails.oneLaneAtATime is on${
        head.oneLaneAtATime ? '' : ' at the base'
      }; change one lane per change (lanes at "off" before and after do not count)`,
    });
  }

  return { laneLines, environmentLines: environmentLines(base, head), violations };
}

function environmentLines(base: EnvironmentSide | undefined, head: EnvironmentSide): string[] {
  if (!base) return [];
  // An invalid base is read for its stages only: it has no settings to compare.
  const lines = base.validated ? settingChanges(base.settings, head.settings, ': ') : [];
  const common = (names: Iterable<string>, other: ReadonlyMap<string, LaneSide>) => [...names].filter((n) => other.has(n));
  const beforeOrder = common(base.lanes.keys(), head.lanes);
  const nowOrder = common(head.lanes.keys(), base.lanes);
  if (base.validated && beforeOrder.join() !== nowOrder.join()) {
    lines.push(`priority order: ${beforeOrder.join(', ')} → ${nowOrder.join(', ')}`);
  }
  return lines;
}

/** `key old → new` for each setting that differs; `separator` goes between the key and the values. */
function settingChanges(before: ReadonlyMap<string, string>, now: ReadonlyMap<string, string>, separator = ' '): string[] {
  const out: string[] = [];
  for (const [key, value] of now) {
    const old = before.get(key);
    if (old !== value) out.push(`${key}${separator}${old ?? 'unset'} → ${value}`);
  }
  for (const [key, old] of before) if (!now.has(key)) out.push(`${key}${separator}${old} → unset`);
  return out;
}

/** How many tasks a lane runs at a stage: ` (1 task)` at baseline, ` (0..2)` when scaled. */
function taskRange(stage: Stage, tasks: TaskCounts | undefined): string {
  if (!tasks || stage === 'off') return '';
  if (stage === 'baseline') return ` (${tasks.baseline} task${tasks.baseline === 1 ? '' : 's'})`;
  return ` (${tasks.min}..${tasks.max})`;
}

/**
 * The environment's settings outside its lanes, as the file gives them. Left out: what
 * config derives from them (the lanes say it), and the file's own name.
 */
function environmentSettings(env: EnvironmentConfig): Map<string, string> {
  const rest = Object.fromEntries(Object.entries(env).filter(([key]) => !NOT_ENVIRONMENT_SETTINGS.has(key)));
  const out = new Map<string, string>();
  flatten(rest, '', out);
  return out;
}

const NOT_ENVIRONMENT_SETTINGS = new Set(['lanes', 'source', 'reservedTasks', 'parametersDigest', 'redisKeyPrefix']);

/**
 * Settings compared between versions: everything but the name, the stage and the
 * priority (its order is reported on its own line), and what config derives from
 * the stage and broker (a stage change already says it).
 */
function laneSettings(lane: LaneConfig): Map<string, string> {
  // A lane without groups is its queues, workers and job; its one derived group would say it twice.
  const rest = Object.fromEntries(Object.entries(lane).filter(([key]) => !NOT_SETTINGS.has(key) && !(!lane.grouped && key === 'groups')));
  const out = new Map<string, string>();
  flatten(rest, '', out);
  return out;
}

const NOT_SETTINGS = new Set(['name', 'stage', 'priority', 'sizedBy', 'controllerMeasured', 'longestJobTimeout', 'grouped']);

function flatten(value: Record<string, unknown>, prefix: string, out: Map<string, string>): void {
  for (const [key, v] of Object.entries(value)) {
    if (v === undefined) continue;
    const path = prefix ? `${prefix}.${key}` : key;
    if (isRecord(v)) flatten(v, path, out);
    else out.set(path, printable(v));
  }
}

function printable(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(printable).join(', ')}]`;
  if (isRecord(value)) {
    return `{${Object.entries(value)
      .map(([k, v]) => `${k}: ${printable(v)}`)
      .join(', ')}}`;
  }
  return String(value);
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
