import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseEnvironment, stageIndex } from '@queue-lanes/config';
import { rollbackChecks, rollbackLane, rolledBackEnvironment, type LaneInspection } from './rollback';

const root = join(__dirname, '..', '..', '..');

describe('rollback to off', () => {
  const original = readFileSync(join(root, 'environments', 'staging.yaml'), 'utf8');
  const env = parseEnvironment(original, 'environments/staging.yaml');

  it('rolls back the lane furthest along, the first in priority order among equals', () => {
    const furthest = Math.max(...env.lanes.map((l) => stageIndex(l.stage)));
    const lane = rollbackLane(env)!;
    expect(stageIndex(lane.stage)).toBe(furthest);
    expect(env.lanes.find((l) => stageIndex(l.stage) === furthest)).toBe(lane);
    const allOff = { ...env, lanes: env.lanes.map((l) => ({ ...l, stage: 'off' as const })) };
    expect(rollbackLane(allOff)).toBeUndefined();
  });

  it('sets only that lane to off, unpaused, in a copy that is still valid', () => {
    const paused = original.replace(/(\nlanes:\n {2}(\w+):\n)/, '$1    paused: true\n');
    const name = /\nlanes:\n {2}(\w+):\n {4}paused: true/.exec(paused)![1];
    const rolled = parseEnvironment(rolledBackEnvironment(paused, name), 'environments/staging.yaml');
    for (const lane of rolled.lanes) {
      const before = env.lanes.find((l) => l.name === lane.name)!;
      expect(lane.stage).toBe(lane.name === name ? 'off' : before.stage);
      expect(lane.paused).toBe(false);
    }
  });

  const kept: LaneInspection = {
    service: { status: 'ACTIVE', desiredCount: 0, taskDefinition: 'arn:td:3' },
    alarms: [
      { name: 'pf-staging-image-restarts', actionsEnabled: false },
      { name: 'pf-staging-image-failed-jobs', actionsEnabled: false },
    ],
    parameter: 'enabled',
    logGroups: ['/ecs/pf-staging/image', '/ecs/pf-staging/stopped-tasks'],
  };
  const destroyed: LaneInspection = { service: null, alarms: [], parameter: null, logGroups: kept.logGroups };

  it('passes what the docs promise: 0 tasks, quiet alarms, the hosts back on, and logs that outlive a destroy', () => {
    const checks = rollbackChecks(kept.logGroups, kept, destroyed);
    expect(checks.filter((c) => !c.ok)).toEqual([]);
    expect(checks.map((c) => `${c.when}: ${c.what}`)).toEqual([
      'after rollback: service',
      'after rollback: task definition',
      'after rollback: alarms',
      'after rollback: host-consumer switch',
      'after rollback: log groups',
      'after destroy: log groups',
      'after destroy: service',
      'after destroy: alarms',
    ]);
  });

  it.each<[string, Partial<LaneInspection>, string | string[]]>([
    ['a service still running tasks', { service: { status: 'ACTIVE', desiredCount: 2, taskDefinition: 'arn:td:3' } }, 'ACTIVE, 2 tasks'],
    ['a deleted service', { service: null }, ['missing', 'missing']],
    [
      'an alarm that still pages',
      { alarms: [{ name: 'pf-staging-image-restarts', actionsEnabled: true }] },
      'actions enabled on pf-staging-image-restarts',
    ],
    ['no alarms at all', { alarms: [] }, 'none'],
    ['the hosts still switched off', { parameter: 'disabled' }, 'disabled'],
    ['a deleted log group', { logGroups: ['/ecs/pf-staging/stopped-tasks'] }, 'missing /ecs/pf-staging/image'],
  ])('fails on %s', (_, change, found) => {
    const failing = rollbackChecks(kept.logGroups, { ...kept, ...change }).filter((c) => !c.ok);
    expect(failing.map((c) => c.found)).toEqual([found].flat());
  });

  it('fails when destroy took the logs with it', () => {
    const failing = rollbackChecks(kept.logGroups, kept, { ...destroyed, logGroups: [] }).filter((c) => !c.ok);
    expect(failing).toEqual([
      expect.objectContaining({
        when: 'after destroy',
        what: 'log groups',
        found: 'missing /ecs/pf-staging/image, /ecs/pf-staging/stopped-tasks',
      }),
    ]);
  });
});
