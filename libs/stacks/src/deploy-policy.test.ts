import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseEnvironment, stackName, type EnvironmentConfig, type StackRole } from '@queue-lanes/config';
import { SAMPLE_BLOCKS, sampleEnvironment } from '@queue-lanes/config/testing';
import { actionsOf, type PolicyDocument } from '@queue-lanes/iam-policy';
import { deployPolicy, UNGRANTED_CALLS } from './index';
import { MAX_MANAGED_POLICY_CHARACTERS, deployPolicies, splitPolicy, terraformCloudTrustPolicy } from './deploy-policy';
import { synthEnvironment } from './synth';
import { synthesizeToJson } from './testing';

/**
 * Everything a stack can hold: an SQS lane the controller scales, the scheduler service, ECS Exec, alarm e-mail
 * and a Lambda subscriber of the account's own, the application's wake-up role, S3 state with a lock table and a key.
 */
const KITCHEN_SINK = parseEnvironment(
  `app: shop
environment: qa
region: eu-west-1
allowedAccountIds: ["123456789012"]
state: { backend: s3, bucket: shop-state, dynamodbTable: shop-locks, kmsKeyId: alias/shop-state }
${SAMPLE_BLOCKS.network}
image: { repository: shop }
fleet: { maxTasks: 8 }
runtime: { enableEcsExec: true }
scheduler: { onHosts: false, service: { enabled: true } }
alarms:
  subscriptions:
    - { protocol: email, endpoint: oncall@example.com }
    - { protocol: lambda, endpoint: "arn:aws:lambda:eu-west-1:123456789012:function:page-oncall:live" }
controller: { wakeInvokerRoleArns: ["arn:aws:iam::123456789012:role/shop-web"] }
redis: { host: queues.cache.internal, keyPrefix: shop_database_, retryAfter: 180 }
lanes:
  image:
    queues: [image]
    stage: scaling
    tasks: { min: 0, max: 2 }
  feeds:
    broker: sqs
    queues: [shop-qa-feeds]
    stage: scaling
    tasks: { min: 0, max: 2 }
  off:
    queues: [later]
    stage: off
`,
  'environments/qa.yaml',
);

/** The statements of a policy whose Resource is "*". */
const anywhere = (policy: PolicyDocument) => policy.Statement.filter((s) => s.Resource === '*');

// The lib's tests use environments of their own (the real files are the apps' inputs, not this lib's).
const LOCAL = sampleEnvironment(`  image:
    queues: [image]
    stage: scaling
    tasks: { min: 0, max: 1 }`);

describe.each<[string, EnvironmentConfig]>([
  ['a Redis lane with local state', LOCAL],
  ['every resource type', KITCHEN_SINK],
])('the deploy policies of %s', (_, env) => {
  const stacks = synthesizeToJson(env);
  const policies = deployPolicies(env, stacks);

  it('know every resource and data source type the stacks hold', () => {
    expect(Object.keys(policies)).toEqual(['networking', 'parameters', 'workers', 'scaling']);
  });

  it('fit IAM managed policies, split where one would be too large', () => {
    for (const policy of Object.values(policies)) {
      for (const part of splitPolicy(policy)) expect(JSON.stringify(part).length).toBeLessThanOrEqual(MAX_MANAGED_POLICY_CHARACTERS);
    }
  });

  it('never grant a wildcard action, and "*" resources only for actions IAM grants no other way', () => {
    for (const policy of Object.values(policies)) {
      for (const action of actionsOf(policy)) expect(action).toMatch(/^[a-z0-9-]+:[A-Z][A-Za-z0-9]+$/);
      for (const statement of anywhere(policy)) {
        for (const action of actionsOf({ Version: '2012-10-17', Statement: [statement] })) {
          expect(action).toMatch(
            /^(ec2:Describe|ssm:DescribeParameters|kms:(CreateKey|ListAliases)|ecs:(Register|Deregister|Describe)TaskDefinition|logs:(DescribeLogGroups|DescribeMetricFilters|\w+ResourcePolicy|DescribeResourcePolicies)|sts:GetCallerIdentity)/,
          );
        }
      }
    }
  });

  it("name only the environment's own resources, or its tags where AWS picks the id", () => {
    const mine = [
      `${env.app}-${env.environment}`,
      `/${env.app}/${env.environment}/`,
      env.network.vpcId,
      env.network.redis.securityGroupId,
      env.network.aurora.securityGroupId,
      'security-group/*',
      'security-group-rule/*',
      'scalable-target/*',
      // A Lambda subscriber the file names gets the alarm topic's invoke permission.
      ...env.alarms.subscriptions.filter((sub) => sub.protocol === 'lambda').map((sub) => sub.endpoint.split(':').slice(0, 7).join(':')),
    ];
    for (const policy of Object.values(policies)) {
      for (const statement of policy.Statement.filter((s) => s.Resource !== '*')) {
        for (const resource of [statement.Resource ?? []].flat()) {
          if (statement.Sid === 'EncryptTheState') {
            expect(statement.Condition).toEqual({
              'ForAnyValue:StringEquals': { 'kms:ResourceAliases': env.state.backend === 's3' && env.state.kmsKeyId },
            });
          } else if (resource.includes(':kms:') && resource.endsWith(':key/*')) {
            expect(statement.Condition).toEqual({
              StringEquals: { 'aws:ResourceTag/app': env.app, 'aws:ResourceTag/environment': env.environment },
            });
          } else if (resource.startsWith('arn:aws:s3:::')) {
            expect(env.state).toMatchObject({ backend: 's3' });
          } else if (!(
            env.state.backend === 's3' &&
            (resource.endsWith(`:table/${env.state.dynamodbTable}`) || resource.endsWith(env.state.kmsKeyId ?? '\0'))
          )) {
            expect(mine.some((m) => resource.includes(m))).toBe(true);
          }
        }
      }
    }
  });
});

describe('the wake-up and a Lambda alarm subscriber', () => {
  it('let the scaling stack grant invoke permissions on the controller and on the subscriber function, nothing else', () => {
    const policy = deployPolicies(KITCHEN_SINK, synthesizeToJson(KITCHEN_SINK)).scaling;
    expect(policy.Statement.find((s) => s.Sid === 'FunctionsTheEnvironmentLetsInvoke')).toEqual({
      Sid: 'FunctionsTheEnvironmentLetsInvoke',
      Effect: 'Allow',
      Action: ['lambda:AddPermission', 'lambda:GetPolicy', 'lambda:RemovePermission'],
      Resource: [
        'arn:aws:lambda:eu-west-1:123456789012:function:shop-qa-backlog-controller',
        'arn:aws:lambda:eu-west-1:123456789012:function:page-oncall',
        'arn:aws:lambda:eu-west-1:123456789012:function:page-oncall:*',
      ],
    });
  });
});

describe('what the provider was seen to call', () => {
  // Recorded by the deploy rehearsal; a rehearsal fails on any call not granted, this keeps the table from losing one between rehearsals.
  const recorded = JSON.parse(readFileSync(join(__dirname, 'fixtures', 'rehearsal-called-actions.json'), 'utf8')) as Record<
    string,
    string[]
  >;
  // Every resource type a stack can hold, so every type the rehearsal saw is in it.
  const policies = deployPolicies(KITCHEN_SINK, synthesizeToJson(KITCHEN_SINK));

  it.each(['networking', 'parameters', 'workers', 'scaling'] as const)(
    '%s: every recorded call is granted, or left out on purpose',
    (role) => {
      const granted = new Set(actionsOf(policies[role]));
      expect(recorded[role].length).toBeGreaterThan(0);
      expect(recorded[role].filter((action) => !granted.has(action) && !Object.hasOwn(UNGRANTED_CALLS, action))).toEqual([]);
    },
  );
});

describe('state access', () => {
  const stacks = synthesizeToJson(KITCHEN_SINK);

  it("reads and writes the stack's own state and lock file, and only reads the states it depends on", () => {
    const workers = deployPolicy(KITCHEN_SINK, 'workers', stacks.workers);
    const byId = Object.fromEntries(workers.Statement.map((s) => [s.Sid, s]));
    expect(byId.WriteThisState.Resource).toEqual([
      'arn:aws:s3:::shop-state/shop/qa/workers.tfstate',
      'arn:aws:s3:::shop-state/shop/qa/workers.tfstate.tflock',
    ]);
    expect(byId.ReadTheStatesItDependsOn).toMatchObject({ Action: ['s3:GetObject'] });
    expect([byId.ReadTheStatesItDependsOn.Resource].flat().sort()).toEqual([
      'arn:aws:s3:::shop-state/shop/qa/networking.tfstate',
      'arn:aws:s3:::shop-state/shop/qa/parameters.tfstate',
    ]);
    expect(byId.LockThisState.Resource).toEqual(['arn:aws:dynamodb:eu-west-1:123456789012:table/shop-locks']);
    expect(byId.EncryptTheState).toEqual({
      Sid: 'EncryptTheState',
      Effect: 'Allow',
      Action: ['kms:Decrypt', 'kms:Encrypt', 'kms:GenerateDataKey'],
      Resource: ['arn:aws:kms:eu-west-1:123456789012:key/*'],
      Condition: { 'ForAnyValue:StringEquals': { 'kms:ResourceAliases': 'alias/shop-state' } },
    });
    expect(deployPolicy(KITCHEN_SINK, 'networking', stacks.networking).Statement.map((s) => s.Sid)).not.toContain(
      'ReadTheStatesItDependsOn',
    );
  });

  // IAM grants a key's use by its key ARN only; an alias ARN in Resource names the alias and grants nothing on the key
  // (AWS KMS developer guide, "Specifying KMS keys in IAM policy statements"): a key given by alias is granted through
  // kms:ResourceAliases, in the alias's own account and region when an alias ARN names them.
  it.each([
    [
      'alias/shop-state',
      ['arn:aws:kms:eu-west-1:111111111111:key/*'],
      { 'ForAnyValue:StringEquals': { 'kms:ResourceAliases': 'alias/shop-state' } },
    ],
    [
      'arn:aws:kms:eu-central-1:210987654321:alias/shared/state',
      ['arn:aws:kms:eu-central-1:210987654321:key/*'],
      { 'ForAnyValue:StringEquals': { 'kms:ResourceAliases': 'alias/shared/state' } },
    ],
    [
      'arn:aws:kms:eu-west-1:111111111111:key/mrk-0123456789abcdef0123456789abcdef',
      ['arn:aws:kms:eu-west-1:111111111111:key/mrk-0123456789abcdef0123456789abcdef'],
      undefined,
    ],
  ])('grants the state key %s by its key ARN, never by an alias ARN', (kmsKeyId, resource, condition) => {
    const env = sampleEnvironment('', {
      state: `state: { backend: s3, bucket: shop-state, region: eu-west-1, kmsKeyId: ${JSON.stringify(kmsKeyId)} }`,
    });
    const statement = deployPolicy(env, 'networking', synthesizeToJson(env).networking).Statement.find((s) => s.Sid === 'EncryptTheState');
    expect(statement).toEqual({
      Sid: 'EncryptTheState',
      Effect: 'Allow',
      Action: ['kms:Decrypt', 'kms:Encrypt', 'kms:GenerateDataKey'],
      Resource: resource,
      ...(condition ? { Condition: condition } : {}),
    });
  });

  it('needs no state access in AWS with a local backend', () => {
    const sids = Object.values(deployPolicies(LOCAL, synthesizeToJson(LOCAL))).flatMap((p) => p.Statement.map((s) => s.Sid));
    expect(sids.filter((sid) => /State/.test(sid ?? ''))).toEqual([]);
  });
});

describe('Terraform Cloud', () => {
  const cloud = sampleEnvironment(
    `  image:
    queues: [image]
    stage: baseline`,
    {
      state: 'state: { backend: cloud, organization: acme, project: queue-lanes }',
    },
  );

  it("lets only the stack's own workspace runs assume its deploy role", () => {
    expect(terraformCloudTrustPolicy(cloud, 'workers')).toEqual({
      Version: '2012-10-17',
      Statement: [
        {
          Effect: 'Allow',
          Principal: { Federated: 'arn:aws:iam::111111111111:oidc-provider/app.terraform.io' },
          Action: 'sts:AssumeRoleWithWebIdentity',
          Condition: {
            StringEquals: { 'app.terraform.io:aud': 'aws.workload.identity' },
            StringLike: {
              'app.terraform.io:sub': 'organization:acme:project:queue-lanes:workspace:propertyfeed-staging-workers:run_phase:*',
            },
          },
        },
      ],
    });
    expect(terraformCloudTrustPolicy(KITCHEN_SINK, 'workers')).toBeUndefined();
  });

  it('needs no S3 state access: the state lives in the workspace', () => {
    const sids = Object.values(deployPolicies(cloud, synthesizeToJson(cloud))).flatMap((p) => p.Statement.map((s) => s.Sid));
    expect(sids.filter((sid) => /State/.test(sid ?? ''))).toEqual([]);
  });
});

describe('a resource type nobody described', () => {
  it('fails, naming the stack, the type and where to describe it', () => {
    const stacks = synthesizeToJson(KITCHEN_SINK);
    const withNew = { ...stacks.scaling, resource: { ...(stacks.scaling.resource as object), aws_sfn_state_machine: {} } };
    expect(() => deployPolicy(KITCHEN_SINK, 'scaling' as StackRole, withNew)).toThrow(
      'shop-qa-scaling: no deploy permissions are known for aws_sfn_state_machine; add what the provider calls for them to TYPE_GRANTS in libs/stacks/src/deploy-policy.ts',
    );
  });
});

describe('splitPolicy', () => {
  const statement = (i: number) => ({
    Sid: `S${i}`,
    Effect: 'Allow' as const,
    Action: ['ecs:DescribeServices'],
    Resource: `arn:aws:ecs:eu-west-1:1:service/c/${'x'.repeat(40)}`,
  });
  const policy = { Version: '2012-10-17' as const, Statement: Array.from({ length: 30 }, (_, i) => statement(i)) };

  it('keeps every statement, in order, in parts within the limit', () => {
    const parts = splitPolicy(policy, 1000);
    expect(parts.length).toBeGreaterThan(1);
    for (const part of parts) expect(JSON.stringify(part).length).toBeLessThanOrEqual(1000);
    expect(parts.flatMap((p) => p.Statement)).toEqual(policy.Statement);
    expect(splitPolicy(policy)).toEqual([policy]);
  });

  it('refuses a statement that alone is over the limit', () => {
    expect(() => splitPolicy(policy, 50)).toThrow("deploy policy statement S0 alone is over IAM's 50 characters");
  });
});

describe('synth', () => {
  it('writes each stack’s deploy policy beside the stacks', () => {
    const workspace = mkdtempSync(join(tmpdir(), 'queue-lanes-deploy-policy-'));
    const outdir = join(workspace, 'out');
    mkdirSync(join(workspace, 'environments'));
    writeFileSync(
      join(workspace, 'environments', 'production.yaml'),
      `${Object.values({ ...SAMPLE_BLOCKS, environment: 'environment: production' }).join('\n')}
lanes:
  image:
    queues: [image]
    stage: baseline
`,
    );
    try {
      synthEnvironment({ environment: 'production', workspaceRoot: workspace, outdir });
      const files = readdirSync(join(outdir, 'deploy-policies')).sort();
      expect(files.map((f) => f.replace(/(\.part-\d+)?\.json$/, ''))).toEqual(
        expect.arrayContaining(
          ['networking', 'parameters', 'scaling', 'workers'].map((role) =>
            stackName({ app: 'propertyfeed', environment: 'production' }, role as StackRole),
          ),
        ),
      );
      const workers = JSON.parse(
        readFileSync(join(outdir, 'deploy-policies', 'propertyfeed-production-workers.json'), 'utf8'),
      ) as PolicyDocument;
      expect(actionsOf(workers)).toContain('ecs:CreateService');
    } finally {
      rmSync(workspace, { recursive: true, force: true });
    }
  });
});
