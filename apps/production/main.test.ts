import { join } from 'node:path';
import { controllerMeasuredLanes } from '@queue-lanes/config';
import { MAX_MANAGED_POLICY_CHARACTERS, deployPolicies, loadNamedEnvironment, splitPolicy, synthesizeToJson } from '@queue-lanes/stacks';

/*
 * Invariants of whatever environments/production.yaml says: the rollout plan's
 * guardrails, not a copy of its lane list.
 */

const env = loadNamedEnvironment(join(__dirname, '..', '..'), 'production');
const stacks = synthesizeToJson(env);
type Json = { resource?: Record<string, Record<string, Record<string, unknown>>>; terraform: { backend: { s3: { key: string } } } };

describe('production', () => {
  it('changes one lane at a time, and keeps lanes below owned within maxTasksBeforeOwned', () => {
    expect(env.guardrails.oneLaneAtATime).toBe(true);
    for (const lane of env.lanes.filter((l) => l.stage !== 'owned')) {
      expect(lane.tasks.max).toBeLessThanOrEqual(env.guardrails.maxTasksBeforeOwned);
    }
  });

  it('leaves the default queue on the hosts', () => {
    expect(env.lanes.flatMap((l) => l.queues)).not.toContain('default');
  });

  it('has the backlog controller measure every running Redis lane, whatever its stage', () => {
    const fn = Object.values((stacks.scaling as Json).resource?.aws_lambda_function ?? {});
    expect(fn).toHaveLength(controllerMeasuredLanes(env).length > 0 ? 1 : 0);
  });

  it('keeps each stack state under its own S3 key', () => {
    for (const [role, stack] of Object.entries(stacks)) {
      expect((stack as Json).terraform.backend.s3.key).toBe(`${env.app}/${env.environment}/${role}.tfstate`);
    }
  });

  it('has a deploy policy for every stack that IAM can hold', () => {
    for (const policy of Object.values(deployPolicies(env, stacks as never))) {
      for (const part of splitPolicy(policy)) expect(JSON.stringify(part).length).toBeLessThanOrEqual(MAX_MANAGED_POLICY_CHARACTERS);
    }
  });
});
