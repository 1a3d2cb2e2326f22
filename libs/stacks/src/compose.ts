import type { EnvironmentConfig } from '@queue-lanes/config';
import type { Construct } from 'constructs';
import { EnvironmentStack } from './environment-stack';

/** The four stacks of one environment. */
export interface EnvironmentStacks {
  readonly networking: EnvironmentStack;
  readonly parameters: EnvironmentStack;
  readonly workers: EnvironmentStack;
  readonly scaling: EnvironmentStack;
}

/**
 * Builds every stack of one environment from its validated configuration.
 * Stacks depend on each other only through cdktf cross-stack references.
 */
export function composeEnvironment(scope: Construct, env: EnvironmentConfig): EnvironmentStacks {
  const networking = new EnvironmentStack(scope, { env, role: 'networking' });
  const parameters = new EnvironmentStack(scope, { env, role: 'parameters' });
  const workers = new EnvironmentStack(scope, { env, role: 'workers' });
  const scaling = new EnvironmentStack(scope, { env, role: 'scaling' });
  return { networking, parameters, workers, scaling };
}
