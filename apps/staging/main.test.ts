import { join } from 'node:path';
import { loadNamedEnvironment } from '@queue-lanes/stacks';
import { describeEnvironmentInvariants } from '@queue-lanes/stacks/testing';

/*
 * What every environment must hold, on whatever environments/staging.yaml says,
 * plus what staging chooses: state kept locally.
 */

const env = loadNamedEnvironment(join(__dirname, '..', '..'), 'staging');
const stacks = describeEnvironmentInvariants(env);

describe('staging', () => {
  it('keeps state locally by default, one file per stack', () => {
    for (const [role, stack] of Object.entries(stacks)) {
      expect((stack as { terraform: { backend: unknown } }).terraform.backend).toEqual({
        local: { path: `../../../terraform.${env.app}-${env.environment}-${role}.tfstate` },
      });
    }
  });
});
