/*
 * The documented rollback ("Rolling a lane back" in docs/operations.md), as both
 * rehearsals run it: which lane, the file with that lane at off, and the check of what
 * it must leave behind in moto, after the rolled-back copy is applied and after destroy.
 */
import { stageIndex, type EnvironmentConfig, type LaneConfig } from '@queue-lanes/config';
import { parseDocument } from 'yaml';

/**
 * The lane a rehearsal rolls back to `off`, as "Rolling a lane back" in docs/operations.md
 * does: the one furthest along (first in priority order among equals); undefined
 * when every lane is already off.
 */
export function rollbackLane(env: EnvironmentConfig): LaneConfig | undefined {
  return env.lanes
    .filter((lane) => lane.stage !== 'off')
    .reduce<LaneConfig | undefined>((best, lane) => (!best || stageIndex(lane.stage) > stageIndex(best.stage) ? lane : best), undefined);
}

/** The rehearsal copy with one lane set back to `off` (unpaused: an off lane cannot be paused). */
export function rolledBackEnvironment(text: string, lane: string): string {
  const doc = parseDocument(text);
  doc.setIn(['lanes', lane, 'stage'], 'off');
  doc.deleteIn(['lanes', lane, 'paused']);
  return doc.toString();
}

/** What moto holds of one lane (moto_rehearsal.py inspect). */
export interface LaneInspection {
  readonly service: { readonly status: string; readonly desiredCount: number; readonly taskDefinition: string } | null;
  readonly alarms: readonly { readonly name: string; readonly actionsEnabled: boolean | null }[];
  /** The lane's host-consumer switch; null when it does not exist. */
  readonly parameter: string | null;
  /** Of the log groups asked about, those that exist. */
  readonly logGroups: readonly string[];
}

/** One thing the rollback must leave behind, with what was found. */
export interface RollbackCheck {
  readonly when: 'after rollback' | 'after destroy';
  readonly what: string;
  readonly expected: string;
  readonly found: string;
  readonly ok: boolean;
}

/**
 * What the documented rollback promises, checked against moto: after the rolled-back
 * copy is applied, the lane's service is kept at 0 tasks with its task definition,
 * its log group and alarms stay with their actions disabled, and the hosts'
 * switch says `enabled`; after every stack is destroyed, the log groups are still
 * there (skip_destroy) while the service and alarms are gone.
 */
export function rollbackChecks(
  logGroups: readonly string[],
  afterRollback: LaneInspection,
  afterDestroy?: LaneInspection,
): RollbackCheck[] {
  const checks: RollbackCheck[] = [];
  const check = (when: RollbackCheck['when'], what: string, expected: string, found: string) =>
    checks.push({ when, what, expected, found, ok: expected === found });
  const service = afterRollback.service;
  check('after rollback', 'service', 'ACTIVE, 0 tasks', service ? `${service.status}, ${service.desiredCount} tasks` : 'missing');
  check('after rollback', 'task definition', 'kept', service?.taskDefinition ? 'kept' : 'missing');
  const alarms = afterRollback.alarms;
  const enabled = alarms.filter((a) => a.actionsEnabled !== false).map((a) => a.name);
  check(
    'after rollback',
    'alarms',
    'kept, actions disabled',
    alarms.length === 0 ? 'none' : enabled.length ? `actions enabled on ${enabled.join(', ')}` : 'kept, actions disabled',
  );
  check('after rollback', 'host-consumer switch', 'enabled', afterRollback.parameter ?? 'missing');
  const missing = (inspection: LaneInspection) => logGroups.filter((g) => !inspection.logGroups.includes(g));
  check(
    'after rollback',
    'log groups',
    'all kept',
    missing(afterRollback).length ? `missing ${missing(afterRollback).join(', ')}` : 'all kept',
  );
  if (afterDestroy) {
    check(
      'after destroy',
      'log groups',
      'all kept',
      missing(afterDestroy).length ? `missing ${missing(afterDestroy).join(', ')}` : 'all kept',
    );
    check('after destroy', 'service', 'gone', afterDestroy.service ? `${afterDestroy.service.status}` : 'gone');
    check('after destroy', 'alarms', 'gone', afterDestroy.alarms.length ? `${afterDestroy.alarms.length} left` : 'gone');
  }
  return checks;
}
