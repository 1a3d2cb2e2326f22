/*
 * Phase 5 of the rehearsal: the furthest lane rolled back to off, as "Rolling a lane
 * back" in docs/operations.md does: a scaled lane's service first set through ECS as
 * its scaler would, then the copy with the lane at off applied to every stack in
 * order, and moto read back (checks/rollback.ts), again once every stack is destroyed.
 */
import { cpSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  alarmName,
  clusterName,
  laneParameterName,
  logGroupName,
  serviceName,
  stoppedTasksLogGroupName,
  type LaneConfig,
} from '@queue-lanes/config';
import { rollbackChecks, rollbackLane, rolledBackEnvironment, type LaneInspection, type RollbackCheck } from './checks/rollback';
import { motoCommand } from './moto';
import { say, type Rehearsal, type RehearsedStacks, type Step } from './rehearsal';
import type { ReportInput } from './report';
import { APPLY, APPLY_TIMEOUT, runStep, succeeded, summary } from './step';
import { synthesize, writeOverride } from './synth-copy';

/** One lane set back to off and applied, then checked in moto (docs/operations.md's rollback). */
export interface RollbackRehearsal {
  readonly lane: string;
  readonly from: string;
  /** The service's desired count just before the rollback (what its scaler or Terraform had set). */
  readonly startCount: number;
  /** The rolled-back copy applied to each stack, in apply order. */
  readonly applies: readonly (Step & {
    readonly stack: string;
    readonly added?: number;
    readonly changed?: number;
    readonly removed?: number;
  })[];
  readonly checks: readonly RollbackCheck[];
}

/** The rollback step's outcome, and how to complete it once every stack is destroyed. */
export interface RolledBack {
  /** The rollback as reported: with the checks after destroy added when the rollback itself passed them to moto. */
  afterDestroy(): ReportInput['rollback'];
}

/** 5. Roll the furthest lane back to off and apply that, stack by stack, then look in moto at what it left. */
export function rollBack(r: Rehearsal, s: RehearsedStacks, allApplied: boolean): RolledBack {
  const lane = rollbackLane(s.rehearsed);
  if (!allApplied) return settled({ skipped: 'Not rehearsed: not every stack applied.' });
  if (!lane) return settled({ skipped: 'Not rehearsed: every lane is already off.' });
  const { rehearsed } = s;
  const logGroups = [...rehearsed.lanes.map((l) => logGroupName(rehearsed, l.name)), stoppedTasksLogGroupName(rehearsed)];
  // A scaled lane runs what its scaler set, not what Terraform wrote: set that through ECS
  // first, so the rollback has to bring the service down to 0 itself.
  const startCount = lane.sizedBy === 'fixed' ? lane.tasks.baseline : Math.max(1, lane.tasks.max);
  const scaled = lane.sizedBy === 'fixed' ? undefined : scaleLane(r, s, lane, startCount);
  const applies = applyRolledBack(r, s, lane);
  const inspect = () => inspectLane(r, s, lane, logGroups);
  const after = inspect();
  if (typeof scaled === 'string')
    return settled({ failed: `Setting ${lane.name} to ${startCount} task(s) before the rollback failed: ${scaled}` });
  if (typeof after === 'string') return settled({ failed: `Rolled back, but moto could not be read: ${after}` });
  const rollback: RollbackRehearsal = { lane: lane.name, from: lane.stage, startCount, applies, checks: rollbackChecks(logGroups, after) };
  return {
    afterDestroy: () => {
      const destroyed = inspect();
      return typeof destroyed === 'string'
        ? { failed: `${rollback.lane} rolled back, but moto could not be read after destroy: ${destroyed}` }
        : { ...rollback, checks: rollbackChecks(logGroups, after, destroyed) };
    },
  };
}

/** A rollback outcome that destroying the stacks does not change. */
function settled(rollback: ReportInput['rollback']): RolledBack {
  return { afterDestroy: () => rollback };
}

/** Sets a lane's service to `count` tasks through ECS, as its scaler would. */
function scaleLane(r: Rehearsal, s: RehearsedStacks, lane: LaneConfig, count: number): unknown {
  return motoCommand<unknown>(r.root, r.awsEnv, r.target.endpoint, r.target.region, 'scale', [
    '--cluster',
    clusterName(s.rehearsed),
    '--service',
    serviceName(s.rehearsed, lane.name),
    '--count',
    String(count),
  ]);
}

/** The rehearsal copy with the lane at off, synthesized and applied to each stack in order; stops at the first failure. */
function applyRolledBack(r: Rehearsal, s: RehearsedStacks, lane: LaneConfig): RollbackRehearsal['applies'][number][] {
  const rolled = rolledBackEnvironment(s.copy, lane.name);
  writeFileSync(join(r.reportDir, `${r.environment}.rollback.yaml`), rolled);
  const rolledOut = join(r.scratch, 'cdktf.rollback');
  synthesize(rolled, r.file, rolledOut);
  const applies: RollbackRehearsal['applies'][number][] = [];
  for (const stack of s.runs) {
    const source = join(rolledOut, 'stacks', stack.name);
    cpSync(source, stack.dir, { recursive: true, force: true });
    writeOverride(r, stack.name, source, stack.dir, s.endpoints);
    const apply = runStep(r, stack, 'rollback-apply', APPLY, APPLY_TIMEOUT);
    const counts = summary(apply.stdout);
    const ok = succeeded(apply);
    applies.push({
      stack: stack.name,
      ok,
      seconds: apply.seconds,
      errors: apply.errors,
      added: counts.add,
      changed: counts.change,
      removed: counts.remove,
    });
    say(
      `${stack.name}: rollback of ${lane.name} to off: apply ${ok ? 'ok' : 'FAILED'} (${counts.add ?? 0} added, ${counts.change ?? 0} changed, ${counts.remove ?? 0} destroyed)`,
    );
    if (!ok) break;
  }
  return applies;
}

/** What moto holds of the lane: its service, alarms, host-consumer switch and which of `logGroups` exist. */
function inspectLane(r: Rehearsal, s: RehearsedStacks, lane: LaneConfig, logGroups: readonly string[]): LaneInspection | string {
  const { rehearsed } = s;
  return motoCommand<LaneInspection>(r.root, r.awsEnv, r.target.endpoint, r.target.region, 'inspect', [
    '--cluster',
    clusterName(rehearsed),
    '--service',
    serviceName(rehearsed, lane.name),
    '--alarm-prefix',
    alarmName(rehearsed, lane.name, ''),
    '--parameter',
    laneParameterName(rehearsed, lane.name, 'host-consumer'),
    ...logGroups.flatMap((g) => ['--log-group', g]),
  ]);
}
