import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseEnvironment } from '@queue-lanes/config';
import { MOTO_TARGET } from './testing';
import { applyOrder, endpointNames, rehearsalEnvironment } from './synth-copy';

const root = join(__dirname, '..', '..');
const target = MOTO_TARGET;

describe('rehearsal copy of the environment file', () => {
  const network = {
    vpcId: 'vpc-43bc60d87e5272799',
    privateSubnetIds: ['subnet-04b9440b6a6ad30e3', 'subnet-c2db3b34f8e2bf402'],
    redisSecurityGroupId: 'sg-1c934646fd9bc7248',
    auroraSecurityGroupId: 'sg-9399247fa3aaae683',
  };
  const original = readFileSync(join(root, 'environments', 'staging.yaml'), 'utf8');
  const copy = rehearsalEnvironment(original, network, target);

  it('points at the network, account and state in moto and is still a valid environment', () => {
    const env = parseEnvironment(copy, 'environments/staging.yaml');
    expect(env.network.vpcId).toBe('vpc-43bc60d87e5272799');
    expect(env.network.privateSubnetIds).toEqual(['subnet-04b9440b6a6ad30e3', 'subnet-c2db3b34f8e2bf402']);
    expect(env.network.redis.securityGroupId).toBe('sg-1c934646fd9bc7248');
    expect(env.network.aurora.securityGroupId).toBe('sg-9399247fa3aaae683');
    expect(env.allowedAccountIds).toEqual(['123456789012']);
    expect(env.state).toEqual(expect.objectContaining({ backend: 's3', bucket: 'pf-rehearsal', region: 'eu-west-2' }));
  });

  it('keeps everything else, comments included', () => {
    const before = parseEnvironment(original, 'environments/staging.yaml');
    const after = parseEnvironment(copy, 'environments/staging.yaml');
    expect(after.lanes).toEqual(before.lanes);
    expect(after.parameters).toEqual(before.parameters);
    expect(copy.split('\n')[0]).toBe(original.split('\n')[0]);
  });
});

describe('apply order', () => {
  const roles = ['networking', 'parameters', 'workers', 'scaling'];
  const stack = (name: string, dependencies: string[] = []) => [name, { name, dependencies }] as const;

  it('follows the roles when the manifest has no dependencies', () => {
    const manifest = {
      stacks: Object.fromEntries([stack('a-s-scaling'), stack('a-s-workers'), stack('a-s-networking'), stack('a-s-parameters')]),
    };
    expect(applyOrder(manifest, roles)).toEqual(['a-s-networking', 'a-s-parameters', 'a-s-workers', 'a-s-scaling']);
  });

  it('puts a stack after the stacks it depends on', () => {
    const manifest = {
      stacks: Object.fromEntries([
        stack('a-s-networking', ['a-s-parameters']),
        stack('a-s-parameters'),
        stack('a-s-workers', ['a-s-networking']),
        stack('extra'),
      ]),
    };
    expect(applyOrder(manifest, roles)).toEqual(['a-s-parameters', 'a-s-networking', 'a-s-workers', 'extra']);
  });

  it('refuses a cycle and a missing stack', () => {
    expect(() => applyOrder({ stacks: Object.fromEntries([stack('x', ['y']), stack('y', ['x'])]) }, roles)).toThrow(/cycle: x → y → x/);
    expect(() => applyOrder({ stacks: Object.fromEntries([stack('x', ['gone'])]) }, roles)).toThrow(/depends on gone/);
  });
});

describe('provider endpoints', () => {
  it('takes every endpoint of the provider schema but the deprecated aliases', () => {
    const schema = {
      provider_schemas: {
        'registry.opentofu.org/hashicorp/aws': {
          provider: {
            block: {
              block_types: {
                endpoints: { block: { attributes: { sts: {}, ecs: {}, cloudwatchlogs: {}, logs: { deprecated: true } } } },
              },
            },
          },
        },
      },
    };
    expect(endpointNames(schema)).toEqual(['cloudwatchlogs', 'ecs', 'sts']);
    expect(() => endpointNames({ provider_schemas: {} })).toThrow(/no endpoints block/);
  });
});
