import { join } from 'node:path';
import { loadNamedEnvironment } from '@queue-lanes/stacks';
import { describeEnvironmentInvariants } from '@queue-lanes/stacks/testing';

/*
 * What every environment must hold, on whatever environments/production.yaml
 * says, plus what production chooses: the rollout plan's guardrails and S3 state.
 */

const env = loadNamedEnvironment(join(__dirname, '..', '..'), 'production');
const stacks = describeEnvironmentInvariants(env);

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

  it('keeps each stack state under its own S3 key', () => {
    for (const [role, stack] of Object.entries(stacks)) {
      expect((stack as { terraform: { backend: { s3: { key: string } } } }).terraform.backend.s3.key).toBe(
        `${env.app}/${env.environment}/${role}.tfstate`,
      );
    }
  });
});
