import { existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseEnvironment } from '@queue-lanes/config';
import { SAMPLE_BLOCKS } from '@queue-lanes/config/testing';
import { parseControllerConfig } from '@queue-lanes/contract';
import { Testing } from 'cdktf';
import { EnvironmentStack, environmentStackProps, runEnvironmentApp, type EnvironmentStackProps } from './index';
import { synthesizeToJson } from './testing';

const BASE = `app: shop
environment: qa
region: eu-west-1
allowedAccountIds: ["123456789012", "210987654321"]
${SAMPLE_BLOCKS.network}
image: { repository: shop }
fleet: { maxTasks: 4 }
`;

function synth(extra = '') {
  return synthesizeToJson(parseEnvironment(BASE + extra, 'environments/qa.yaml'));
}

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

describe('every stack', () => {
  const stacks = synth();

  it.each(Object.keys(stacks))('%s pins the AWS provider to the environment', (role) => {
    const json = stacks[role as keyof typeof stacks] as Json;
    expect(json.provider.aws).toEqual([
      {
        region: 'eu-west-1',
        allowed_account_ids: ['123456789012', '210987654321'],
        default_tags: [{ tags: { app: 'shop', environment: 'qa', 'managed-by': 'queue-lanes' } }],
      },
    ]);
    // Fully qualified, so OpenTofu does not resolve a different "aws" provider.
    expect(json.terraform.required_providers).toEqual({ aws: { source: 'registry.terraform.io/hashicorp/aws', version: '6.25.0' } });
  });

  it('outputs the web hosts’ policy for the host-consumer switches from the parameters stack', () => {
    const outputs = (stacks.parameters as Json).output;
    const policy = JSON.parse(outputs.host_consumer_read_policy.value);
    expect(policy.Statement).toEqual([
      expect.objectContaining({
        Action: ['ssm:GetParameter', 'ssm:GetParameters'],
        Resource: expect.stringMatching(
          /^arn:aws:ssm:eu-west-1:\$\{data\.aws_caller_identity\.[^}]+\}:parameter\/shop\/qa\/lanes\/\*\/host-consumer$/,
        ),
      }),
    ]);
    for (const role of ['networking', 'workers', 'scaling'] as const) {
      expect(Object.keys((stacks[role] as Json).output ?? {})).not.toContain('host_consumer_read_policy');
    }
  });

  it('names the four stacks <app>-<env>-<role>', () => {
    expect(Object.keys(stacks)).toEqual(['networking', 'parameters', 'workers', 'scaling']);
    expect((stacks.workers as Json)['//'].metadata.stackName).toBe('shop-qa-workers');
  });
});

/** One stack's props, built directly: the qa environment's workers stack with local state. */
const STACK: EnvironmentStackProps = {
  app: 'shop',
  environment: 'qa',
  region: 'eu-west-1',
  allowedAccountIds: ['123456789012', '210987654321'],
  state: { backend: 'local', directory: '.' },
  role: 'workers',
};

function stack(over: Partial<EnvironmentStackProps> = {}): Json {
  return JSON.parse(Testing.synth(new EnvironmentStack(Testing.app(), { ...STACK, ...over }))) as Json;
}

describe('EnvironmentStack', () => {
  it('pins the AWS provider to the region and accounts, with the default tags', () => {
    expect(stack().provider.aws).toEqual([
      {
        region: 'eu-west-1',
        allowed_account_ids: ['123456789012', '210987654321'],
        default_tags: [{ tags: { app: 'shop', environment: 'qa', 'managed-by': 'queue-lanes' } }],
      },
    ]);
  });

  it('takes its props from the environment through environmentStackProps', () => {
    const env = parseEnvironment(`${BASE}state: { backend: s3, bucket: acme-state, kmsKeyId: alias/acme-state }\n`, 'environments/qa.yaml');
    expect(environmentStackProps(env, 'scaling')).toEqual({
      ...STACK,
      state: { backend: 's3', bucket: 'acme-state', region: 'eu-west-1', keyPrefix: 'shop/qa', kmsKeyId: 'alias/acme-state' },
      role: 'scaling',
    });
  });
});

describe('state backends', () => {
  it('defaults to a local backend with a relative path per stack', () => {
    expect(stack({ role: 'networking' }).terraform.backend).toEqual({
      local: { path: '../../../terraform.shop-qa-networking.tfstate' },
    });
    expect(stack({ role: 'scaling' }).terraform.backend).toEqual({
      local: { path: '../../../terraform.shop-qa-scaling.tfstate' },
    });
  });

  it('keeps local state in a configured relative folder', () => {
    expect(stack({ state: { backend: 'local', directory: 'state' } }).terraform.backend.local.path).toBe(
      '../../../state/terraform.shop-qa-workers.tfstate',
    );
  });

  it('gives each stack its own S3 key, encrypted with the named KMS key and lockfile-locked', () => {
    const state = { backend: 's3', bucket: 'acme-state', region: 'eu-west-1', keyPrefix: 'shop/qa', kmsKeyId: 'alias/acme-state' } as const;
    expect(stack({ state, role: 'networking' }).terraform.backend).toEqual({
      s3: {
        bucket: 'acme-state',
        key: 'shop/qa/networking.tfstate',
        region: 'eu-west-1',
        encrypt: true,
        kms_key_id: 'alias/acme-state',
        use_lockfile: true,
      },
    });
    expect(stack({ state }).terraform.backend.s3.key).toBe('shop/qa/workers.tfstate');
  });

  it('adds the optional DynamoDB table, bucket region and key prefix', () => {
    const state = {
      backend: 's3',
      bucket: 'acme-state',
      region: 'us-east-1',
      keyPrefix: 'tf/shop',
      dynamodbTable: 'tf-locks',
      kmsKeyId: 'alias/tf',
    } as const;
    expect(stack({ state, role: 'parameters' }).terraform.backend).toEqual({
      s3: {
        bucket: 'acme-state',
        key: 'tf/shop/parameters.tfstate',
        region: 'us-east-1',
        encrypt: true,
        use_lockfile: true,
        dynamodb_table: 'tf-locks',
        kms_key_id: 'alias/tf',
      },
    });
  });

  it('uses one named Terraform Cloud workspace per stack', () => {
    const state = {
      backend: 'cloud',
      organization: 'acme',
      project: 'queues',
      hostname: 'app.terraform.io',
      workspacePrefix: 'shop-qa',
    } as const;
    expect(stack({ state, role: 'scaling' }).terraform.cloud).toEqual({
      organization: 'acme',
      hostname: 'app.terraform.io',
      workspaces: { name: 'shop-qa-scaling', project: 'queues' },
    });
    expect(stack({ state, role: 'networking' }).terraform.cloud.workspaces.name).toBe('shop-qa-networking');
  });

  it('honours a Terraform Enterprise hostname and workspace prefix', () => {
    const state = { backend: 'cloud', organization: 'acme', hostname: 'tfe.acme.test', workspacePrefix: 'q' } as const;
    expect(stack({ state }).terraform.cloud).toEqual({
      organization: 'acme',
      hostname: 'tfe.acme.test',
      workspaces: { name: 'q-workers' },
    });
  });
});

describe('runEnvironmentApp', () => {
  const originalExitCode = process.exitCode;
  afterEach(() => {
    process.exitCode = originalExitCode;
    jest.restoreAllMocks();
  });

  it('prints every problem of a bad file, sets exit code 1 and writes nothing', () => {
    const root = mkdtempSync(join(tmpdir(), 'queue-lanes-app-'));
    mkdirSync(join(root, 'environments'));
    writeFileSync(
      join(root, 'environments', 'qa.yaml'),
      BASE.replace('maxTasks: 4', 'maxTasks: 0') + 'lanes: { x: { queues: [x], stage: of } }\n',
    );
    const stderr = jest.spyOn(process.stderr, 'write').mockImplementation(() => true);
    runEnvironmentApp({ environment: 'qa', workspaceRoot: root, outdir: join(root, 'out') });
    const printed = stderr.mock.calls.map((c) => String(c[0])).join('');
    expect(printed).toBe(
      'environments/qa.yaml:11:20 fleet.maxTasks: must be at least 1, got 0\n' +
        'environments/qa.yaml:12:35 lanes.x.stage: "of" is not valid (did you mean "off"?); expected one of: off, baseline, scaling, owned\n' +
        'qa: 2 problem(s); nothing was synthesized\n',
    );
    expect(process.exitCode).toBe(1);
    expect(existsSync(join(root, 'out'))).toBe(false);
  });

  it('turns a construct rejecting its props into a message without a stack trace', () => {
    const root = mkdtempSync(join(tmpdir(), 'queue-lanes-app-'));
    mkdirSync(join(root, 'environments'));
    writeFileSync(
      join(root, 'environments', 'qa.yaml'),
      // A program name the health check cannot put in a pattern: the construct refuses it, with no key to point at.
      `${BASE}redis: { host: queues.internal, keyPrefix: shop_database_ }
lanes: { x: { queues: [x], stage: baseline, command: [php, artisan, "it's"] } }
`,
    );
    const stderr = jest.spyOn(process.stderr, 'write').mockImplementation(() => true);
    runEnvironmentApp({ environment: 'qa', workspaceRoot: root, outdir: join(root, 'out') });
    const printed = stderr.mock.calls.map((c) => String(c[0])).join('');
    expect(printed).toMatch(/^environments\/qa\.yaml: .*"it's"/);
    expect(printed).toMatch(/qa: nothing was synthesized \(QUEUE_LANES_DEBUG=1 shows the stack trace\)\n$/);
    expect(printed).not.toMatch(/^\s+at /m);
    expect(process.exitCode).toBe(1);
  });

  it("places a command's unknown placeholder at its argument's line", () => {
    const root = mkdtempSync(join(tmpdir(), 'queue-lanes-app-'));
    mkdirSync(join(root, 'environments'));
    writeFileSync(
      join(root, 'environments', 'qa.yaml'),
      `${BASE}redis: { host: queues.internal, keyPrefix: shop_database_ }
lanes: { x: { queues: [x], stage: baseline, command: [php, '{nope}'] } }
`,
    );
    const stderr = jest.spyOn(process.stderr, 'write').mockImplementation(() => true);
    runEnvironmentApp({ environment: 'qa', workspaceRoot: root, outdir: join(root, 'out') });
    const printed = stderr.mock.calls.map((c) => String(c[0])).join('');
    expect(printed).toMatch(
      /^environments\/qa\.yaml:13:60 lanes\.x\.command\[1\]: "\{nope\}" uses the unknown placeholder \{nope\}; valid: /,
    );
    expect(process.exitCode).toBe(1);
  });

  it("reports a limit AWS would refuse at apply at the key that causes it: the controller's 4 KB of environment", () => {
    const root = mkdtempSync(join(tmpdir(), 'queue-lanes-app-'));
    mkdirSync(join(root, 'environments'));
    const lanes = Array.from(
      { length: 30 },
      (_, i) => `  lane-${i}:
    queues: [${Array.from({ length: 40 }, (_, j) => `imports-${i}-${j}`).join(', ')}]
    stage: baseline`,
    ).join('\n');
    writeFileSync(
      join(root, 'environments', 'qa.yaml'),
      `${BASE.replace('maxTasks: 4', 'maxTasks: 64')}redis: { host: queues.internal, keyPrefix: shop_database_ }
lanes:
${lanes}
`,
    );
    const stderr = jest.spyOn(process.stderr, 'write').mockImplementation(() => true);
    runEnvironmentApp({ environment: 'qa', workspaceRoot: root, outdir: join(root, 'out') });
    const printed = stderr.mock.calls.map((c) => String(c[0])).join('');
    expect(printed).toMatch(
      /^environments\/qa\.yaml:13:1 lanes: the backlog controller's configuration for 30 lanes past stage off \(1200 queues\) is \d+ bytes even deflated, over the 4096 bytes Lambda allows/,
    );
    expect(printed).toMatch(/qa: 1 problem\(s\); nothing was synthesized\n$/);
    expect(process.exitCode).toBe(1);
  });

  it('deflates a controller configuration past 4 KB, so ten lanes still deploy', () => {
    const lanes = Array.from(
      { length: 10 },
      (_, i) => `  lane-${i}:
    queues: [queue-${i}-a, queue-${i}-b, queue-${i}-c]
    stage: baseline`,
    ).join('\n');
    const text = `${BASE.replace('maxTasks: 4', 'maxTasks: 16')}redis: { host: queues.internal, keyPrefix: shop_database_ }
lanes:
${lanes}
`;
    const stacks = synthesizeToJson(parseEnvironment(text, 'environments/qa.yaml')) as Record<string, Json>;
    const value = Object.values(stacks.scaling.resource.aws_lambda_function as Record<string, Json>)[0].environment.variables
      .CONTROLLER_CONFIG as string;
    expect(value.startsWith('deflate:')).toBe(true);
    expect(value.length).toBeLessThan(1200);
    expect(parseControllerConfig(value).lanes).toHaveLength(10);
  });
});
