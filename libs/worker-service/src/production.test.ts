// Types of the matchers tools/jest-setup.ts installs (Testing.setupJest()).
import type {} from 'cdktf/lib/testing/adapters/jest';
import { join } from 'node:path';
import { loadEnvironment } from '@queue-lanes/config';
import { EcsCluster } from '@cdktf/provider-aws/lib/ecs-cluster';
import { Testing } from 'cdktf';
import { WorkerService } from './index';

const ACCOUNT = '222222222222';
const KEY = `arn:aws:kms:eu-west-2:${ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab`;
const env = loadEnvironment(join(__dirname, '..', '..', '..', 'environments', 'production.yaml'), 'environments/production.yaml');
const secrets = Object.fromEntries(
  [...Object.keys(env.parameters.plain), ...env.parameters.secure].map((name) => [
    name,
    `arn:aws:ssm:eu-west-2:${ACCOUNT}:parameter/propertyfeed/production/env/${name}`,
  ]),
);
const json = Testing.synthScope((scope) => {
  new WorkerService(scope, 'workers', {
    env,
    securityGroupId: 'sg-0a1b2c3d4e5f60799',
    secrets,
    kmsKeyArn: KEY,
    parameterReadPolicyJson: JSON.stringify({
      Version: '2012-10-17',
      Statement: [{ Effect: 'Allow', Action: 'ssm:GetParameters', Resource: Object.values(secrets) }],
    }),
  });
});
const resources = (type: string) =>
  Object.values((JSON.parse(json) as { resource: Record<string, Record<string, Record<string, unknown>>> }).resource[type]);

describe('environments/production.yaml', () => {
  it('puts the lanes in cluster propertyfeed-production', () => {
    expect(json).toHaveResourceWithProperties(EcsCluster, { name: 'propertyfeed-production' });
    for (const s of resources('aws_ecs_service')) expect(s.cluster).toMatch(/^\$\{aws_ecs_cluster\./);
  });

  it('runs propertyfeed-sync, propertyfeed-image and propertyfeed-bulk at 1/1/1, fixed while at baseline', () => {
    const services = Object.fromEntries(resources('aws_ecs_service').map((s) => [s.name, [s.desired_count, s.lifecycle]]));
    expect(services).toEqual({
      'propertyfeed-sync': [1, undefined],
      'propertyfeed-image': [1, undefined],
      'propertyfeed-bulk': [1, undefined],
    });
  });

  it('splits each task between its workers: sync 2 × 512, image 2 × 1024, bulk 1 × 2048 MiB', () => {
    const workers = Object.fromEntries(
      resources('aws_ecs_task_definition').map((td) => [
        td.family,
        (JSON.parse(td.container_definitions as string) as { name: string; memory?: number }[])
          .filter((c) => c.name.startsWith('worker-'))
          .map((c) => c.memory),
      ]),
    );
    expect(workers).toEqual({
      'propertyfeed-production-sync': [512, 512],
      'propertyfeed-production-image': [1024, 1024],
      'propertyfeed-production-bulk': [2048],
    });
  });

  it('takes APP_ENV from the parameters, as the file sets it there', () => {
    const sync = resources('aws_ecs_task_definition').find((td) => td.family === 'propertyfeed-production-sync')!;
    const worker = (JSON.parse(sync.container_definitions as string) as { name: string; environment: { name: string }[] }[])[1];
    expect(worker.environment.map((e) => e.name)).toEqual(['LANE', 'LANE_QUEUES', 'LOG_CHANNEL', 'QUEUE_LANES_PARAMETERS_DIGEST']);
  });
});
