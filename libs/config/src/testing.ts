import { parseEnvironment } from './load';
import type { EnvironmentConfig } from './resolve';

/**
 * The top-level blocks of a valid staging file, in file order, for other libs'
 * tests: each replaces or adds the blocks its subject cares about.
 */
export const SAMPLE_BLOCKS: Readonly<Record<string, string>> = {
  app: 'app: propertyfeed',
  environment: 'environment: staging',
  region: 'region: eu-west-2',
  accounts: 'allowedAccountIds: ["111111111111"]',
  network: [
    'network:',
    '  vpcId: vpc-0123456789abcdef0',
    '  privateSubnetIds: [subnet-0123456789abcdef0]',
    '  redis: { securityGroupId: sg-0123456789abcdef1 }',
    '  aurora: { securityGroupId: sg-0123456789abcdef2 }',
  ].join('\n'),
  image: 'image: { repository: app }',
  // What a running Redis lane needs: where the queues are, their key prefix, and a retry_after above the job timeouts.
  redis: 'redis: { host: queues.cache.internal, keyPrefix: propertyfeed_database_, retryAfter: 180 }',
  fleet: 'fleet: { maxTasks: 8 }',
  logs: 'logs: { retentionDays: 400 }',
};

/**
 * A sample environment: SAMPLE_BLOCKS with `overrides` applied (an empty string
 * drops a block), then `lanes` (YAML, indented two spaces) verbatim, or none.
 */
export function sampleEnvironment(
  lanes: string,
  overrides: Record<string, string> = {},
  file = 'environments/staging.yaml',
): EnvironmentConfig {
  const body = Object.values({ ...SAMPLE_BLOCKS, ...overrides })
    .filter(Boolean)
    .join('\n');
  return parseEnvironment(`${body}\n${lanes ? `lanes:\n${lanes}` : 'lanes: {}'}`, file);
}
