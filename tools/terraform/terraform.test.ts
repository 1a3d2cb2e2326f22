import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { parseEnvironment } from '@queue-lanes/config';
import {
  applyOrder,
  attributeDifferences,
  endpointNames,
  explain,
  planDifferences,
  rehearsalEnvironment,
  rehearsalOverride,
  remoteStateReferences,
  calledActions,
  callerKey,
  rollbackChecks,
  rollbackLane,
  localStateOverride,
  previousReleaseSecrets,
  rolledBackEnvironment,
  secretChecks,
  secureParameterNames,
  stateKey,
  type LaneInspection,
  type MotoTarget,
  type StackJson,
  stateCallerKey,
  stateKeyUses,
} from './rehearsal-setup-and-checks';
import { MOTO_DIFFERENCES } from './moto-differences';
import { renderReport } from './rehearsal-report';
import { addressOf, cacheDir, cliConfig, formatDiagnostic, jsonPathAtLine, streamDiagnostics, tofuEnv } from './tofu';

const root = join(__dirname, '..', '..');
const target: MotoTarget = { endpoint: 'http://127.0.0.1:4566', region: 'eu-west-2', accountId: '123456789012', bucket: 'pf-rehearsal' };

describe('toolchain cache', () => {
  it('is per machine, outside the clone: QUEUE_LANES_CACHE, else XDG_CACHE_HOME, else ~/.cache', () => {
    expect(cacheDir({ QUEUE_LANES_CACHE: '/q', XDG_CACHE_HOME: '/x' })).toBe('/q');
    expect(cacheDir({ XDG_CACHE_HOME: '/x' })).toBe('/x/queue-lanes');
    expect(cacheDir({})).toBe(join(homedir(), '.cache', 'queue-lanes'));
  });

  it('is the folder toolchain.sh builds into', () => {
    const script = readFileSync(join(root, 'tools', 'terraform', 'toolchain.sh'), 'utf8');
    expect(script).toContain('cache="${QUEUE_LANES_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/queue-lanes}"');
  });
});

describe('CLI config', () => {
  const text = cliConfig({ mirror: '/w/.cache/tofu/mirror' });

  it('installs providers from the filesystem mirror only', () => {
    expect(text).toContain('provider_installation {\n  filesystem_mirror {\n    path = "/w/.cache/tofu/mirror"\n  }\n}');
    expect(text).not.toMatch(/\bdirect\b/);
    expect(text).not.toMatch(/network_mirror/);
  });

  it('links providers from the mirror (no plugin cache to share) and turns the checkpoint call off', () => {
    expect(text).not.toContain('plugin_cache_dir');
    expect(text).toContain('disable_checkpoint = true');
  });

  it('can confine the mirror to one registry host, as a machine with one engine and its own registry', () => {
    expect(cliConfig({ mirror: '/m', include: ['registry.terraform.io/*/*'] })).toContain(
      '  filesystem_mirror {\n    path = "/m"\n    include = ["registry.terraform.io/*/*"]\n  }',
    );
  });

  it('quotes paths as HCL strings (no template interpolation)', () => {
    const odd = cliConfig({ mirror: '/w/${x}/"q"' });
    expect(odd).toContain('path = "/w/$${x}/\\"q\\""');
  });
});

describe('tofu environment', () => {
  it("drops the caller's TF_ variables and sets its own", () => {
    const env = tofuEnv({ PATH: '/bin', TF_WORKSPACE: 'prod', TF_VAR_x: '1', TF_CLI_CONFIG_FILE: '/home/.tofurc' }, '/c/tofurc');
    expect(env).toEqual(
      expect.objectContaining({
        PATH: '/bin',
        TF_CLI_CONFIG_FILE: '/c/tofurc',
        TF_IN_AUTOMATION: '1',
        TF_INPUT: '0',
        CHECKPOINT_DISABLE: '1',
      }),
    );
    expect(env.TF_WORKSPACE).toBeUndefined();
    expect(env.TF_VAR_x).toBeUndefined();
  });
});

describe('diagnostics on cdk.tf.json', () => {
  const json = JSON.stringify(
    {
      provider: { aws: [{ region: 'eu-west-2' }] },
      resource: {
        aws_ecs_service: {
          lane_sync_1A2B: { name: 'pf-sync', network_configuration: { subnets: ['a', 'b'], bogus: true } },
        },
      },
      terraform: { backend: { local: { path: 'x' } } },
    },
    null,
    2,
  );
  const lines = json.split('\n');
  const lineOf = (needle: string) => lines.findIndex((l) => l.includes(needle)) + 1;

  it('finds the JSON key path of a line', () => {
    expect(jsonPathAtLine(json, lineOf('"bogus"'))).toEqual([
      'resource',
      'aws_ecs_service',
      'lane_sync_1A2B',
      'network_configuration',
      'bogus',
    ]);
    expect(jsonPathAtLine(json, lineOf('"lane_sync_1A2B"'))).toEqual(['resource', 'aws_ecs_service', 'lane_sync_1A2B']);
    expect(jsonPathAtLine(json, lineOf('"eu-west-2"'))).toEqual(['provider', 'aws', 'region']);
    expect(jsonPathAtLine(json, lineOf('"b"'))).toEqual([
      'resource',
      'aws_ecs_service',
      'lane_sync_1A2B',
      'network_configuration',
      'subnets',
    ]);
  });

  it('names resources, data sources and blocks by address', () => {
    expect(addressOf(['resource', 'aws_ecs_service', 'x', 'name'])).toBe('aws_ecs_service.x');
    expect(addressOf(['data', 'terraform_remote_state', 'net'])).toBe('data.terraform_remote_state.net');
    expect(addressOf(['provider', 'aws', 'region'])).toBe('provider.aws');
    expect(addressOf(['terraform', 'backend', 'local', 'path'])).toBe('terraform.backend.local');
  });

  it('prints stack, address, file, line, attribute and message on one line', () => {
    const line = formatDiagnostic(
      'pf-staging-workers',
      {
        severity: 'error',
        summary: 'Unsupported argument',
        detail: 'An argument named "bogus" is not\nexpected here.',
        range: { filename: 'cdk.tf.json', start: { line: lineOf('"bogus"') } },
      },
      { 'cdk.tf.json': json },
    );
    expect(line).toBe(
      `pf-staging-workers: error aws_ecs_service.lane_sync_1A2B (cdk.tf.json:${lineOf('"bogus"')}, network_configuration.bogus): Unsupported argument: An argument named "bogus" is not expected here.`,
    );
  });

  it('uses the address tofu gives (apply diagnostics)', () => {
    expect(formatDiagnostic('s', { severity: 'error', summary: 'creating ECS Service', address: 'aws_ecs_service.x' })).toBe(
      's: error aws_ecs_service.x: creating ECS Service',
    );
  });

  it('reads diagnostics from the -json UI stream', () => {
    const stream = [
      '{"@level":"info","@message":"Apply complete!","type":"change_summary","changes":{"add":1}}',
      '{"@level":"error","type":"diagnostic","diagnostic":{"severity":"error","summary":"boom","address":"aws_sqs_queue.q"}}',
      'not json',
    ].join('\n');
    expect(streamDiagnostics(stream)).toEqual([{ severity: 'error', summary: 'boom', address: 'aws_sqs_queue.q' }]);
  });
});

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

describe('rehearsal override', () => {
  const stack: StackJson = {
    provider: {
      aws: [
        { region: 'eu-west-2', allowed_account_ids: ['111111111111'] },
        { alias: 'use1', region: 'us-east-1' },
      ],
    },
    terraform: { backend: { s3: { bucket: 'acme-state', key: 'pf/staging/workers.tfstate', region: 'eu-west-2', encrypt: true } } },
    data: {
      terraform_remote_state: {
        'cross-stack-reference-input-pf-staging-networking': {
          backend: 's3',
          config: { bucket: 'acme-state', key: 'pf/staging/networking.tfstate', region: 'eu-west-2' },
        },
      },
    },
  };
  const override = rehearsalOverride('pf-staging-workers', stack, target, ['ecs', 'sts']) as {
    provider: { aws: Record<string, unknown>[] };
    terraform: { backend: { s3: Record<string, unknown> } };
    data: { terraform_remote_state: Record<string, { backend: string; config: Record<string, unknown> }> };
  };

  it("points every provider configuration (aliases too) at moto with fake credentials and moto's account", () => {
    expect(override.provider.aws).toHaveLength(2);
    expect(override.provider.aws[1].alias).toBe('use1');
    for (const provider of override.provider.aws) {
      expect(provider).toEqual(
        expect.objectContaining({
          access_key: 'rehearsal.pf-staging-workers',
          secret_key: 'rehearsal',
          allowed_account_ids: ['123456789012'],
          skip_credentials_validation: true,
          skip_metadata_api_check: true,
          s3_use_path_style: true,
          endpoints: [{ ecs: 'http://127.0.0.1:4566', sts: 'http://127.0.0.1:4566' }],
        }),
      );
      // region and default_tags stay as synthesized: an override replaces only what it names
      expect(provider.region).toBeUndefined();
    }
  });

  it("keeps the state key and moves the state into moto's S3", () => {
    expect(override.terraform.backend.s3).toEqual(
      expect.objectContaining({
        bucket: 'pf-rehearsal',
        key: 'pf/staging/workers.tfstate',
        use_path_style: true,
        use_lockfile: true,
        encrypt: true,
        kms_key_id: 'alias/rehearsal-state',
        // The stack's own key for its state, so the KMS calls S3 makes for it are judged against its deploy policy.
        access_key: 'rehearsal-state.pf-staging-workers',
        endpoints: expect.objectContaining({ s3: 'http://127.0.0.1:4566', sts: 'http://127.0.0.1:4566' }),
      }),
    );
  });

  it("reads every remote state from moto under the producer's key, signed as the reading stack's state", () => {
    const remote = override.data.terraform_remote_state['cross-stack-reference-input-pf-staging-networking'];
    expect(remote.backend).toBe('s3');
    expect(remote.config).toEqual(
      expect.objectContaining({
        bucket: 'pf-rehearsal',
        key: 'pf/staging/networking.tfstate',
        access_key: 'rehearsal-state.pf-staging-workers',
      }),
    );
  });

  it('turns a local backend into a key named after the stack', () => {
    const local: StackJson = {
      provider: { aws: [{}] },
      terraform: { backend: { local: { path: '../../../terraform.pf-staging-networking.tfstate' } } },
      data: { terraform_remote_state: { net: { backend: 'local', config: { path: '../../../terraform.pf-staging-networking.tfstate' } } } },
    };
    const o = rehearsalOverride('pf-staging-workers', local, target, []) as typeof override;
    expect(o.terraform.backend.s3.key).toBe('pf-staging-networking.tfstate');
    expect(o.data.terraform_remote_state.net.config.key).toBe('pf-staging-networking.tfstate');
    expect(stateKey('local', {}, 'fallback.tfstate')).toBe('fallback.tfstate');
  });

  it('refuses a backend moto cannot hold', () => {
    expect(() => rehearsalOverride('x', { terraform: { backend: { cloud: { organization: 'o' } } } }, target, [])).toThrow(
      /"cloud" backend cannot be rehearsed/,
    );
  });

  it('finds every remote-state output a stack reads', () => {
    const consumer: StackJson = {
      resource: {
        aws_ecs_service: {
          s: {
            network_configuration: {
              security_groups: ['${data.terraform_remote_state.net.outputs.workers_sg}'],
              subnets: '${data.terraform_remote_state.net.outputs.subnets}',
            },
            cluster: '${data.terraform_remote_state.net.outputs.workers_sg}',
          },
        },
      },
    };
    expect(remoteStateReferences(consumer)).toEqual([
      { data: 'net', output: 'subnets' },
      { data: 'net', output: 'workers_sg' },
    ]);
  });
});

describe('plan differences', () => {
  it('lists leaf attributes that differ, unknowns included', () => {
    expect(
      attributeDifferences(
        { name: 'a', tags: { app: 'x' }, ports: [1, 2], arn: 'old', empty: [] },
        { name: 'a', tags: { app: 'y' }, ports: [1, 3], arn: null, empty: null },
        { arn: true },
      ),
    ).toEqual([
      { path: 'arn', before: 'old', after: '(known after apply)' },
      { path: 'ports[1]', before: 2, after: 3 },
      { path: 'tags.app', before: 'x', after: 'y' },
    ]);
  });

  it('reads drift, changes and output changes from tofu show -json, skipping no-ops', () => {
    const plan = {
      resource_drift: [
        {
          address: 'aws_ecs_service.s',
          type: 'aws_ecs_service',
          change: { actions: ['update'], before: { desired_count: 1 }, after: { desired_count: 0 } },
        },
      ],
      resource_changes: [
        { address: 'aws_sqs_queue.q', type: 'aws_sqs_queue', change: { actions: ['no-op'], before: {}, after: {} } },
        {
          address: 'aws_ssm_parameter.p',
          type: 'aws_ssm_parameter',
          change: { actions: ['update'], before: { tier: 'Standard' }, after: { tier: 'Advanced' }, after_unknown: {} },
        },
      ],
      output_changes: { a: { actions: ['no-op'], before: 1, after: 1 }, b: { actions: ['update'], before: 1, after: 2 } },
    };
    const found = planDifferences('st', plan);
    expect(found).toEqual([
      {
        kind: 'drift',
        stack: 'st',
        address: 'aws_ecs_service.s',
        type: 'aws_ecs_service',
        actions: ['update'],
        attributes: [{ path: 'desired_count', before: 1, after: 0 }],
      },
      {
        kind: 'change',
        stack: 'st',
        address: 'aws_ssm_parameter.p',
        type: 'aws_ssm_parameter',
        actions: ['update'],
        attributes: [{ path: 'tier', before: 'Standard', after: 'Advanced' }],
      },
      { kind: 'output', stack: 'st', address: 'output.b', actions: ['update'], attributes: [{ path: '(value)', before: 1, after: 2 }] },
    ]);
  });

  it('explains a difference only by a listed reason', () => {
    const difference = {
      kind: 'change' as const,
      stack: 's',
      address: 'aws_x.y',
      type: 'aws_x',
      actions: ['update'],
      attributes: [
        { path: 'a.b', before: 1, after: 2 },
        { path: 'c', before: 1, after: 2 },
      ],
    };
    expect(explain(difference, [{ type: 'aws_x', path: /^a\./, why: 'moto drops a.b' }])).toEqual(['moto drops a.b', undefined]);
  });

  it('has a reason for every known moto difference', () => {
    for (const known of MOTO_DIFFERENCES) expect(known.why.length).toBeGreaterThan(20);
  });
});

describe('called actions', () => {
  it("turns moto's call log into each stack's IAM actions, CloudWatch under its IAM prefix, other callers left out", () => {
    const calls = [
      { caller: callerKey('pf-workers'), service: 'ecs', operation: 'DescribeServices' },
      { caller: callerKey('pf-workers'), service: 'ecs', operation: 'DescribeServices' },
      { caller: callerKey('pf-workers'), service: 'iam', operation: 'GetRole' },
      { caller: callerKey('pf-scaling'), service: 'monitoring', operation: 'PutMetricAlarm' },
      { caller: 'rehearsal', service: 's3', operation: 'GetObject' },
    ];
    expect(calledActions(calls, ['pf-networking', 'pf-workers', 'pf-scaling'])).toEqual({
      'pf-networking': [],
      'pf-workers': ['ecs:DescribeServices', 'iam:GetRole'],
      'pf-scaling': ['cloudwatch:PutMetricAlarm'],
    });
  });
});

describe("the state key's uses", () => {
  const key = 'arn:aws:kms:eu-west-2:123456789012:key/0b1c2d3e-0000-4000-8000-000000000001';

  it("are the KMS calls S3 made for each stack's state backend, each once, by key ARN with the key's aliases", () => {
    const calls = [
      { caller: stateCallerKey('pf-workers'), service: 's3', operation: 'PutObject' },
      {
        caller: stateCallerKey('pf-workers'),
        service: 'kms',
        operation: 'GenerateDataKey',
        via: 's3',
        resource: key,
        aliases: ['alias/rehearsal-state'],
      },
      {
        caller: stateCallerKey('pf-workers'),
        service: 'kms',
        operation: 'Decrypt',
        via: 's3',
        resource: key,
        aliases: ['alias/rehearsal-state'],
      },
      {
        caller: stateCallerKey('pf-workers'),
        service: 'kms',
        operation: 'Decrypt',
        via: 's3',
        resource: key,
        aliases: ['alias/rehearsal-state'],
      },
      { caller: callerKey('pf-workers'), service: 'kms', operation: 'DescribeKey' },
      { caller: 'rehearsal', service: 'kms', operation: 'Decrypt', via: 's3', resource: key, aliases: [] },
    ];
    const context = { 'kms:ResourceAliases': ['alias/rehearsal-state'] };
    expect(stateKeyUses(calls, ['pf-networking', 'pf-workers'])).toEqual({
      'pf-networking': [],
      'pf-workers': [
        { action: 'kms:Decrypt', resource: key, context },
        { action: 'kms:GenerateDataKey', resource: key, context },
      ],
    });
  });
});

describe('rollback to off', () => {
  const original = readFileSync(join(root, 'environments', 'staging.yaml'), 'utf8');
  const env = parseEnvironment(original, 'environments/staging.yaml');

  it('rolls back the lane furthest along, the first in priority order among equals', () => {
    const furthest = Math.max(...env.lanes.map((l) => ['off', 'baseline', 'scaling', 'owned'].indexOf(l.stage)));
    const lane = rollbackLane(env)!;
    expect(['off', 'baseline', 'scaling', 'owned'].indexOf(lane.stage)).toBe(furthest);
    expect(env.lanes.find((l) => ['off', 'baseline', 'scaling', 'owned'].indexOf(l.stage) === furthest)).toBe(lane);
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

describe('rehearsal report', () => {
  const step = (ok = true) => ({ ok, seconds: 1, errors: ok ? [] : ['s: error aws_x.y: boom'] });
  const run = (name: string, planExit = 0) => ({
    name,
    dir: '/tmp/x',
    stateKey: `${name}.tfstate`,
    init: step(),
    apply: { ...step(), added: 2 },
    plan: { ...step(), exitCode: planExit },
    destroy: { ...step(), removed: 2 },
  });
  const base = {
    environment: 'staging',
    engine: 'OpenTofu v1.12.6, hashicorp/aws 6.25.0',
    moto: { endpoint: target.endpoint, accountId: target.accountId, motoVersion: '5.2.5', patches: ['ECS keeps capacityProviderStrategy'] },
    target,
    network: { vpcId: 'vpc-1', privateSubnetIds: ['subnet-1'], redisSecurityGroupId: 'sg-1', auroraSecurityGroupId: 'sg-2' },
    checks: [{ consumer: 'pf-workers', data: 'net', output: 'sg', producer: 'pf-networking', resolved: true, note: 'sg-9' }],
    unsupported: [],
    seconds: 42,
    rollback: { skipped: 'Not rehearsed: every lane is already off.' },
    secrets: { skipped: 'Not rehearsed: the environment has no parameters.secure.' },
    engines: { skipped: 'Not rehearsed: Terraform is not built.' },
    permissions: [
      { stack: 'pf-workers', called: 3, stateKeyUses: ['kms:Decrypt', 'kms:GenerateDataKey'], missing: [], unused: ['ecs:UpdateCluster'] },
    ],
    known: [{ kind: 'drift' as const, type: 'aws_iam_role', path: /^inline_policy/, why: 'policies are separate resources' }],
  };

  it('passes when every stack applies, plans clean and destroys, and lists patches and explained drift', () => {
    const { markdown, ok } = renderReport({
      ...base,
      runs: [run('pf-networking'), run('pf-workers')],
      differences: [
        {
          kind: 'drift',
          stack: 'pf-workers',
          address: 'aws_iam_role.r',
          type: 'aws_iam_role',
          actions: ['update'],
          attributes: [{ path: 'inline_policy[0]', before: undefined, after: { name: 'p' } }],
        },
        { kind: 'drift', stack: 'pf-workers', address: 'aws_ecs_cluster.c', type: 'aws_ecs_cluster', actions: ['update'], attributes: [] },
      ],
    });
    expect(ok).toBe(true);
    expect(markdown).toContain('Nothing: every stack plans clean after apply.');
    expect(markdown).toContain('| pf-workers | aws_iam_role.r | update | inline_policy[0] | (absent) | {"name":"p"} | [1] |');
    expect(markdown).toContain('1. policies are separate resources');
    expect(markdown).toContain('1 more resource(s) differ only as null against empty');
    expect(markdown).toContain('- ECS keeps capacityProviderStrategy');
    expect(markdown).toMatch(/Result: PASSED\.\n$/);
  });

  it('fails on an unexplained planned change, a failed step or an unresolved read', () => {
    const change = {
      kind: 'change' as const,
      stack: 'pf-workers',
      address: 'aws_lambda_function.f',
      type: 'aws_lambda_function',
      actions: ['update'],
      attributes: [{ path: 'dead_letter_config[0]', before: undefined, after: { target_arn: 'arn' } }],
    };
    const changed = renderReport({ ...base, runs: [run('pf-workers', 2)], differences: [change] });
    expect(changed.ok).toBe(false);
    expect(changed.markdown).toContain('| **unexplained** |');
    expect(changed.markdown).toContain('Result: FAILED (1 unexplained planned change(s)).');

    const failed = renderReport({
      ...base,
      runs: [{ ...run('pf-workers'), apply: { ...step(false), added: 0 }, plan: undefined }],
      differences: [],
    });
    expect(failed.ok).toBe(false);
    expect(failed.markdown).toContain('- s: error aws_x.y: boom');
    expect(failed.markdown).toContain('Not every stack was planned again');

    const unresolved = renderReport({
      ...base,
      runs: [run('pf-workers')],
      differences: [],
      checks: [{ ...base.checks[0], resolved: false, note: 'not in state' }],
    });
    expect(unresolved.ok).toBe(false);
    expect(unresolved.markdown).toContain('| pf-workers | net.outputs.sg | pf-networking | **NO** | not in state |');
  });

  it('shows the secrets kept out of state, and fails when one was reset or is in the state', () => {
    const put = { '/pf/staging/env/APP_KEY': 'real-1', '/pf/staging/env/DB_PASSWORD': 'real-2' };
    const kept = renderReport({
      ...base,
      runs: [run('pf-workers')],
      differences: [],
      secrets: { checks: secretChecks({ values: put, expected: put, inState: [] }) },
    });
    expect(kept.ok).toBe(true);
    expect(kept.markdown).toContain('## Secrets stay out of state');
    expect(kept.markdown).toContain('| /pf/staging/env/APP_KEY | the value put out of band | the value put out of band |');
    expect(kept.markdown).toContain('| secret values in the parameters stack state | none | none |');
    const reset = secretChecks({ values: { ...put, '/pf/staging/env/APP_KEY': 'placeholder' }, expected: put, inState: ['real-2'] });
    expect(reset.filter((c) => !c.ok)).toEqual([
      { what: '/pf/staging/env/APP_KEY', expected: 'the value put out of band', found: 'another value', ok: false },
      { what: 'secret values in the parameters stack state', expected: 'none', found: '1 secret value(s)', ok: false },
    ]);
    const failed = renderReport({ ...base, runs: [run('pf-workers')], differences: [], secrets: { checks: reset } });
    expect(failed.ok).toBe(false);
    expect(failed.markdown).toContain('| secret values in the parameters stack state | none | **1 secret value(s)** |');
  });

  it('writes the secrets back the way the previous release did, for the rehearsal to upgrade', () => {
    const secret = { name: '/pf/staging/env/APP_KEY', type: 'SecureString', key_id: 'alias/pf-staging' };
    const others = {
      plain: { name: '/pf/staging/env/APP_ENV', type: 'String', value: 'staging' },
    };
    const stack = (s: Record<string, unknown>) => ({
      resource: { aws_ssm_parameter: { s, ...others }, aws_kms_key: { k: { description: 'key' } } },
    });
    const current = stack({
      ...secret,
      value_wo: 'placeholder-set-out-of-band',
      value_wo_version: 1,
      description: 'APP_KEY for pf staging; set out of band, write-only in Terraform (never in state)',
      lifecycle: { ignore_changes: ['value', 'value_wo_version'] },
    });
    expect(previousReleaseSecrets(current)).toEqual(
      stack({
        ...secret,
        value: 'placeholder-set-out-of-band',
        description: 'APP_KEY for pf staging; set out of band, Terraform keeps only the placeholder',
        lifecycle: { ignore_changes: ['value'] },
      }),
    );
  });

  it('shows each state crossing engines, and fails when either engine would change something', () => {
    const swap = { stack: 'pf-workers', terraformPlan: 0, terraformWrote: true, tofuPlan: 0, errors: [] };
    const crossed = renderReport({ ...base, runs: [run('pf-workers')], differences: [], engines: { terraform: 'v1.13.3', swaps: [swap] } });
    expect(crossed.ok).toBe(true);
    expect(crossed.markdown).toContain('| pf-workers | exit 0 | ok | exit 0 |');
    const refused = renderReport({
      ...base,
      runs: [run('pf-workers')],
      differences: [],
      engines: {
        terraform: 'v1.13.3',
        swaps: [
          {
            ...swap,
            terraformPlan: 1,
            terraformWrote: false,
            tofuPlan: 1,
            errors: ['pf-workers: error: requires provider registry.opentofu.org/hashicorp/aws'],
          },
        ],
      },
    });
    expect(refused.ok).toBe(false);
    expect(refused.markdown).toContain('| pf-workers | **exit 1** | **FAILED** | **exit 1** |');
    expect(refused.markdown).toContain('- pf-workers: error: requires provider registry.opentofu.org/hashicorp/aws');
  });

  it('gives the other engine each state as a local file, and each remote-state read its producer’s file', () => {
    const stack = {
      terraform: { backend: { s3: { bucket: 'b', key: 'pf/staging/workers.tfstate' } } },
      data: { terraform_remote_state: { net: { backend: 's3', config: { bucket: 'b', key: 'pf/staging/networking.tfstate' } } } },
    };
    const files: Record<string, string> = { 'pf/staging/networking.tfstate': '../pf-staging-networking/terraform.tfstate' };
    expect(localStateOverride(stack, (key) => files[key])).toEqual({
      terraform: { backend: { local: { path: 'terraform.tfstate' } } },
      data: { terraform_remote_state: { net: { backend: 'local', config: { path: '../pf-staging-networking/terraform.tfstate' } } } },
    });
    expect(() => localStateOverride(stack, () => undefined)).toThrow(
      'remote state net reads pf/staging/networking.tfstate, which no stack of the rehearsal writes',
    );
  });

  it('reads the secret parameters of a stack from its JSON', () => {
    const stack = {
      resource: {
        aws_ssm_parameter: {
          a: { name: '/pf/staging/env/DB_PASSWORD', type: 'SecureString' },
          b: { name: '/pf/staging/env/APP_ENV', type: 'String' },
          c: { name: '/pf/staging/env/APP_KEY', type: 'SecureString' },
        },
      },
    };
    expect(secureParameterNames(stack)).toEqual(['/pf/staging/env/APP_KEY', '/pf/staging/env/DB_PASSWORD']);
    expect(secureParameterNames({})).toEqual([]);
  });

  it('shows the rollback and fails when one of its checks or applies does', () => {
    const check = { when: 'after rollback' as const, what: 'service', expected: 'ACTIVE, 0 tasks', found: 'ACTIVE, 0 tasks', ok: true };
    const rollback = {
      lane: 'image',
      from: 'scaling',
      startCount: 2,
      applies: [{ ...step(), stack: 'pf-workers', added: 0, changed: 3, removed: 2 }],
      checks: [check],
    };
    const passed = renderReport({ ...base, runs: [run('pf-workers')], differences: [], rollback });
    expect(passed.ok).toBe(true);
    expect(passed.markdown).toContain('## Roll back image: scaling → off');
    expect(passed.markdown).toContain('The service ran 2 task(s)');
    expect(passed.markdown).toContain('| pf-workers | ok 1.0s | 0 | 3 | 2 |');
    expect(passed.markdown).toContain('| after rollback | service | ACTIVE, 0 tasks | ACTIVE, 0 tasks |');

    const wrong = renderReport({
      ...base,
      runs: [run('pf-workers')],
      differences: [],
      rollback: { ...rollback, checks: [{ ...check, found: 'ACTIVE, 2 tasks', ok: false }] },
    });
    expect(wrong.ok).toBe(false);
    expect(wrong.markdown).toContain('| after rollback | service | ACTIVE, 0 tasks | **ACTIVE, 2 tasks** |');

    const short = renderReport({ ...base, runs: [run('pf-networking'), run('pf-workers')], differences: [], rollback });
    expect(short.ok).toBe(false);

    const denied = renderReport({
      ...base,
      runs: [run('pf-workers')],
      differences: [],
      permissions: [{ stack: 'pf-workers', called: 3, stateKeyUses: [], missing: ['ecs:TagResource'], unused: [] }],
    });
    expect(denied.ok).toBe(false);
    expect(denied.markdown).toContain('| pf-workers | 3 | none | **ecs:TagResource** | none |');

    const unread = renderReport({ ...base, runs: [run('pf-workers')], differences: [], rollback: { failed: 'moto could not be read' } });
    expect(unread.ok).toBe(false);
    expect(unread.markdown).toContain('**FAILED**: moto could not be read');
  });
});
