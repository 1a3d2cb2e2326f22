import { join } from 'node:path';
import { controllerMeasuredLanes } from '@queue-lanes/config';
import { MAX_MANAGED_POLICY_CHARACTERS, deployPolicies, loadNamedEnvironment, splitPolicy, synthesizeToJson } from '@queue-lanes/stacks';

/*
 * Invariants of whatever environments/staging.yaml says, so adding or changing a
 * lane changes what is checked, not whether the test passes.
 */

const env = loadNamedEnvironment(join(__dirname, '..', '..'), 'staging');
const stacks = synthesizeToJson(env);
type Json = { resource?: Record<string, Record<string, Record<string, unknown>>>; terraform: { backend: unknown } };
const resources = (role: keyof typeof stacks, type: string) => Object.values((stacks[role] as Json).resource?.[type] ?? {});

describe('staging', () => {
  it('keeps one ECS service per lane, at 0 tasks while off, within the fleet', () => {
    const services = resources('workers', 'aws_ecs_service');
    expect(services.map((s) => s.name).sort()).toEqual(env.lanes.map((l) => `${env.app}-${l.name}`).sort());
    for (const lane of env.lanes.filter((l) => l.stage === 'off')) {
      expect(services.find((s) => s.name === `${env.app}-${lane.name}`)).toMatchObject({ desired_count: 0 });
    }
    for (const lane of env.lanes) expect(lane.tasks.max).toBeLessThanOrEqual(env.fleet.maxTasks);
  });

  it('has the backlog controller measure every running Redis lane', () => {
    const fn = resources('scaling', 'aws_lambda_function');
    expect(fn).toHaveLength(controllerMeasuredLanes(env).length > 0 ? 1 : 0);
  });

  it('keeps state locally by default, one file per stack', () => {
    for (const [role, stack] of Object.entries(stacks)) {
      expect((stack as Json).terraform.backend).toEqual({ local: { path: `../../../terraform.${env.app}-${env.environment}-${role}.tfstate` } });
    }
  });

  it('has a deploy policy for every stack that IAM can hold', () => {
    for (const policy of Object.values(deployPolicies(env, stacks as never))) {
      for (const part of splitPolicy(policy)) expect(JSON.stringify(part).length).toBeLessThanOrEqual(MAX_MANAGED_POLICY_CHARACTERS);
    }
  });
});
