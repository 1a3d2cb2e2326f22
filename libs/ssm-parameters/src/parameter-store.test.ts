// Types of the matchers tools/jest-setup.ts installs (Testing.setupJest()).
import type {} from 'cdktf/lib/testing/adapters/jest';
import { STAGES } from '@queue-lanes/config';
import { sampleEnvironment } from '@queue-lanes/config/testing';
import { DataAwsCallerIdentity } from '@cdktf/provider-aws/lib/data-aws-caller-identity';
import { KmsAlias } from '@cdktf/provider-aws/lib/kms-alias';
import { KmsKey } from '@cdktf/provider-aws/lib/kms-key';
import { SsmParameter } from '@cdktf/provider-aws/lib/ssm-parameter';
import { TerraformOutput, TerraformStack, Testing } from 'cdktf';
import { ParameterStore, parameterStoreProps, type ParameterStoreProps } from './index';
import { SECRET_PLACEHOLDER, hostConsumerState } from './parameter-store';

type Resources = Record<string, Record<string, Record<string, unknown>>>;
interface Synthesized {
  resource: Resources;
  data?: Resources;
  output?: Record<string, { value: string }>;
}

/** The sample staging file with these parameters and lanes, parsed and defaulted by libs/config. */
const ENV = sampleEnvironment(
  `  quiet: { queues: [quiet], stage: off }
  sync: { queues: [sync], stage: baseline }
  image: { queues: [image], stage: scaling }
  bulk: { queues: [bulk], stage: owned }`,
  {
    parameters: `parameters:
  plain:
    APP_ENV: staging
    REDIS_PORT: 6379
    APP_DEBUG: false
    MAIL_FROM_NAME: "Property Feed"
  secure: [DB_PASSWORD, APP_KEY]`,
  },
);

function build(props: ParameterStoreProps) {
  const stack = new TerraformStack(Testing.app(), 'stack');
  const store = new ParameterStore(stack, 'parameters', props);
  const json = Testing.synth(stack);
  return { stack, store, json, parsed: JSON.parse(json) as Synthesized };
}

/** The logical id of the parameter named `name`. */
function parameterId(parsed: Synthesized, name: string): string {
  const ids = Object.entries(parsed.resource.aws_ssm_parameter)
    .filter(([, p]) => p.name === name)
    .map(([id]) => id);
  expect(ids).toHaveLength(1);
  return ids[0];
}

/** A value as Terraform will see it: tokens turned into `${…}` expressions. */
function resolved(stack: TerraformStack, value: unknown): unknown {
  const id = `resolved${stack.node.children.length}`;
  new TerraformOutput(stack, id, { value });
  return (JSON.parse(Testing.synth(stack)) as Synthesized).output![id].value;
}

const arnOf = (parsed: Synthesized, name: string) => `\${aws_ssm_parameter.${parameterId(parsed, name)}.arn}`;

/** An IAM resource pattern as IAM matches it: `*` any run of characters, `?` any one, the rest literal. */
function iamPattern(resource: string): RegExp {
  const body = resource
    .replace(/[.+^${}()|[\]\\]/g, '\\$&')
    .replace(/\*/g, '.*')
    .replace(/\?/g, '.');
  return new RegExp(`^${body}$`);
}

describe('ParameterStore', () => {
  const { stack, store, json, parsed } = build(parameterStoreProps(ENV));
  const keyArn = `\${aws_kms_key.${Object.keys(parsed.resource.aws_kms_key)[0]}.arn}`;
  const partitionId = Object.keys(parsed.data!.aws_partition)[0];
  const PARTITION = `\${data.aws_partition.${partitionId}.partition}`;
  const DNS_SUFFIX = `\${data.aws_partition.${partitionId}.dns_suffix}`;
  const ACCOUNT = `\${data.aws_caller_identity.${Object.keys(parsed.data!.aws_caller_identity)[0]}.account_id}`;

  it('creates a rotated customer-managed key with an alias', () => {
    expect(json).toHaveResourceWithProperties(KmsKey, {
      description: 'Secrets, logs and queues of propertyfeed staging (queue-lanes)',
      enable_key_rotation: true,
      deletion_window_in_days: 30,
    });
    expect(json).toHaveResourceWithProperties(KmsAlias, {
      name: 'alias/propertyfeed-staging',
      target_key_id: `\${aws_kms_key.${Object.keys(parsed.resource.aws_kms_key)[0]}.key_id}`,
    });
    expect(json).toHaveDataSource(DataAwsCallerIdentity);
    expect(resolved(stack, store.keyArn)).toBe(keyArn);
  });

  it('lets the account administer the key and CloudWatch Logs use it for this account’s log groups', () => {
    const key = Object.values(parsed.resource.aws_kms_key)[0];
    expect(typeof key.policy).toBe('string');
    expect(JSON.parse(key.policy as string)).toEqual({
      Version: '2012-10-17',
      Statement: [
        {
          Sid: 'AccountAdministersKey',
          Effect: 'Allow',
          Principal: { AWS: `arn:${PARTITION}:iam::${ACCOUNT}:root` },
          Action: 'kms:*',
          Resource: '*',
        },
        {
          Sid: 'CloudWatchLogsEncryptsLogGroups',
          Effect: 'Allow',
          Principal: { Service: `logs.eu-west-2.${DNS_SUFFIX}` },
          Action: ['kms:Encrypt*', 'kms:Decrypt*', 'kms:ReEncrypt*', 'kms:GenerateDataKey*', 'kms:Describe*'],
          Resource: '*',
          Condition: {
            ArnLike: { 'kms:EncryptionContext:aws:logs:arn': `arn:${PARTITION}:logs:eu-west-2:${ACCOUNT}:log-group:*` },
          },
        },
      ],
    });
  });

  it('manages each plain value from the file as a String under /<app>/<env>/env/', () => {
    for (const [name, value] of [
      ['APP_ENV', 'staging'],
      ['REDIS_PORT', '6379'],
      ['APP_DEBUG', 'false'],
    ]) {
      expect(json).toHaveResourceWithProperties(SsmParameter, {
        name: `/propertyfeed/staging/env/${name}`,
        type: 'String',
        value,
        description: `${name} for propertyfeed staging, managed from the environment file`,
      });
      const parameter = parsed.resource.aws_ssm_parameter[parameterId(parsed, `/propertyfeed/staging/env/${name}`)];
      expect(parameter).not.toHaveProperty('lifecycle');
      expect(parameter).not.toHaveProperty('key_id');
    }
  });

  it('creates each secret as a write-only SecureString placeholder under the key’s alias, whose value Terraform then leaves alone', () => {
    for (const name of ['APP_KEY', 'DB_PASSWORD']) {
      expect(json).toHaveResourceWithProperties(SsmParameter, {
        name: `/propertyfeed/staging/env/${name}`,
        type: 'SecureString',
        key_id: `\${aws_kms_alias.${Object.keys(parsed.resource.aws_kms_alias)[0]}.name}`,
        value_wo: SECRET_PLACEHOLDER,
        value_wo_version: 1,
        lifecycle: { ignore_changes: ['value', 'value_wo_version'] },
        description: `${name} for propertyfeed staging; set out of band, write-only in Terraform (never in state)`,
      });
    }
    expect(SECRET_PLACEHOLDER).toBe('placeholder-set-out-of-band');
  });

  it('never writes a secret parameter with value, which the provider would read back into state', () => {
    const secrets = Object.values(parsed.resource.aws_ssm_parameter as Record<string, Record<string, unknown>>).filter(
      (p) => p.type === 'SecureString',
    );
    expect(secrets.length).toBeGreaterThan(0);
    for (const secret of secrets) expect(secret).not.toHaveProperty('value');
  });

  it.each([
    ['quiet', 'off', 'enabled'],
    ['sync', 'baseline', 'enabled'],
    ['image', 'scaling', 'enabled'],
    ['bulk', 'owned', 'disabled'],
  ])('publishes lane %s at stage %s with its host consumers %s', (lane, stage, hostConsumer) => {
    expect(json).toHaveResourceWithProperties(SsmParameter, {
      name: `/propertyfeed/staging/lanes/${lane}/stage`,
      type: 'String',
      value: stage,
      tags: { lane },
    });
    expect(json).toHaveResourceWithProperties(SsmParameter, {
      name: `/propertyfeed/staging/lanes/${lane}/host-consumer`,
      type: 'String',
      value: hostConsumer,
      tags: { lane },
    });
    expect(store.hostConsumerParameters[lane].valueInput).toBe(hostConsumer);
    expect(store.stageParameters[lane].valueInput).toBe(stage);
  });

  it('creates nothing else', () => {
    expect(
      Object.values(parsed.resource.aws_ssm_parameter)
        .map((p) => p.name)
        .sort(),
    ).toEqual([
      '/propertyfeed/staging/env/APP_DEBUG',
      '/propertyfeed/staging/env/APP_ENV',
      '/propertyfeed/staging/env/APP_KEY',
      '/propertyfeed/staging/env/DB_PASSWORD',
      '/propertyfeed/staging/env/MAIL_FROM_NAME',
      '/propertyfeed/staging/env/REDIS_PORT',
      ...['bulk', 'image', 'quiet', 'sync'].flatMap((lane) => [
        `/propertyfeed/staging/lanes/${lane}/host-consumer`,
        `/propertyfeed/staging/lanes/${lane}/stage`,
      ]),
    ]);
    expect(Object.keys(parsed.resource).sort()).toEqual(['aws_kms_alias', 'aws_kms_key', 'aws_ssm_parameter']);
  });

  it('maps every runtime variable, plain and secret, to its parameter ARN for ECS secrets', () => {
    const names = ['APP_DEBUG', 'APP_ENV', 'APP_KEY', 'DB_PASSWORD', 'MAIL_FROM_NAME', 'REDIS_PORT'];
    expect(resolved(stack, store.containerSecrets)).toEqual(
      Object.fromEntries(names.map((name) => [name, arnOf(parsed, `/propertyfeed/staging/env/${name}`)])),
    );
  });

  it('grants GetParameters on exactly the runtime parameters and Decrypt on the key through SSM', () => {
    const names = ['APP_DEBUG', 'APP_ENV', 'APP_KEY', 'DB_PASSWORD', 'MAIL_FROM_NAME', 'REDIS_PORT'];
    const policy = JSON.parse(resolved(stack, store.readPolicy) as string);
    expect(policy).toEqual({
      Version: '2012-10-17',
      Statement: [
        {
          Sid: 'ReadRuntimeParameters',
          Effect: 'Allow',
          Action: 'ssm:GetParameters',
          Resource: names.map((name) => arnOf(parsed, `/propertyfeed/staging/env/${name}`)),
        },
        {
          Sid: 'DecryptRuntimeSecrets',
          Effect: 'Allow',
          Action: 'kms:Decrypt',
          Resource: keyArn,
          Condition: { StringEquals: { 'kms:ViaService': `ssm.eu-west-2.${DNS_SUFFIX}` } },
        },
      ],
    });
    expect(resolved(stack, store.readStatements)).toEqual(policy.Statement);
  });

  it('lets the web hosts read every lane’s host-consumer switch and nothing else, with no key access', () => {
    const policy = JSON.parse(resolved(stack, store.hostConsumerReadPolicy) as string);
    expect(policy).toEqual({
      Version: '2012-10-17',
      Statement: [
        {
          Sid: 'ReadHostConsumerSwitches',
          Effect: 'Allow',
          Action: ['ssm:GetParameter', 'ssm:GetParameters'],
          Resource: `arn:aws:ssm:eu-west-2:${ACCOUNT}:parameter/propertyfeed/staging/lanes/*/host-consumer`,
        },
      ],
    });
    expect(resolved(stack, store.hostConsumerReadStatements)).toEqual(policy.Statement);
    // Read as IAM reads it, the resource matches exactly the switches, not the stages or the runtime variables.
    const names = Object.values(parsed.resource.aws_ssm_parameter).map((p) => p.name as string);
    const arn = (name: string) => `arn:aws:ssm:eu-west-2:${ACCOUNT}:parameter${name}`;
    const granted = names.filter((name) => iamPattern(policy.Statement[0].Resource).test(arn(name)));
    expect(granted.sort()).toEqual(['bulk', 'image', 'quiet', 'sync'].map((lane) => `/propertyfeed/staging/lanes/${lane}/host-consumer`));
    // So no kms:Decrypt: every switch is a String, which SSM stores unencrypted.
    for (const name of granted) {
      expect(json).toHaveResourceWithProperties(SsmParameter, { name, type: 'String' });
      expect(parsed.resource.aws_ssm_parameter[parameterId(parsed, name)]).not.toHaveProperty('key_id');
    }
  });
});

describe('ParameterStore options and edge cases', () => {
  const base: ParameterStoreProps = { app: 'propertyfeed', environment: 'staging', region: 'eu-west-2' };

  it('takes a shorter key deletion window', () => {
    expect(build({ ...base, keyDeletionWindowInDays: 7 }).json).toHaveResourceWithProperties(KmsKey, {
      deletion_window_in_days: 7,
    });
  });

  it('names the partition of the region in the host-consumer read policy', () => {
    const { stack, store } = build({ ...base, region: 'cn-north-1', lanes: [{ name: 'image', stage: 'owned' }] });
    const [statement] = JSON.parse(resolved(stack, store.hostConsumerReadPolicy) as string).Statement;
    expect(statement.Resource).toMatch(
      /^arn:aws-cn:ssm:cn-north-1:\$\{data\.aws_caller_identity\.[^}]+\}:parameter\/propertyfeed\/staging\/lanes\/\*\/host-consumer$/,
    );
  });

  it('still yields a valid read policy when there are no runtime parameters', () => {
    const { stack, store, parsed } = build({ ...base, lanes: [{ name: 'image', stage: 'off' }] });
    expect(resolved(stack, store.containerSecrets)).toEqual({});
    const policy = JSON.parse(resolved(stack, store.readPolicy) as string);
    expect(policy.Statement.map((s: { Sid: string }) => s.Sid)).toEqual(['DecryptRuntimeSecrets']);
    expect(Object.keys(parsed.resource.aws_ssm_parameter)).toHaveLength(2);
  });

  it('hands the key ARN and parameter ARNs to other stacks as cross-stack references', () => {
    const app = Testing.app();
    const parameters = new TerraformStack(app, 'parameters');
    const store = new ParameterStore(parameters, 'parameters', { ...base, secure: ['APP_KEY'] });
    const workers = new TerraformStack(app, 'workers');
    new SsmParameter(workers, 'consumer', {
      name: '/test/refs',
      type: 'String',
      value: `${store.keyArn} ${store.containerSecrets.APP_KEY}`,
    });
    // As App.synth does: preparing resolves the references, adding outputs and remote state.
    for (const stack of [parameters, workers]) stack.prepareStack();
    const consumer = JSON.parse(Testing.synth(workers)) as Synthesized;
    const producer = JSON.parse(Testing.synth(parameters)) as Synthesized;
    expect(
      Object.values(producer.output ?? {})
        .map((o) => o.value)
        .sort(),
    ).toEqual([
      `\${aws_kms_key.${Object.keys(producer.resource.aws_kms_key)[0]}.arn}`,
      arnOf(producer, '/propertyfeed/staging/env/APP_KEY'),
    ]);
    expect(consumer.resource.aws_ssm_parameter.consumer.value).toMatch(
      /^\$\{data\.terraform_remote_state\.[^.]+\.outputs\.[^}]+\} \$\{data\.terraform_remote_state\.[^.]+\.outputs\.[^}]+\}$/,
    );
  });

  it('maps each stage to the host-consumer switch', () => {
    expect(STAGES.map(hostConsumerState)).toEqual(['enabled', 'enabled', 'enabled', 'disabled']);
  });
});

describe('ParameterStore validation', () => {
  const base: ParameterStoreProps = { app: 'propertyfeed', environment: 'staging', region: 'eu-west-2' };

  function error(props: ParameterStoreProps): string {
    try {
      build(props);
    } catch (e) {
      return (e as Error).message;
    }
    throw new Error('expected the props to be rejected');
  }

  it('rejects an empty plain value, which SSM cannot store', () => {
    expect(error({ ...base, plain: { MAIL_PASSWORD: '' } })).toBe(
      'ParameterStore /propertyfeed/staging:\n  parameters.plain.MAIL_PASSWORD: SSM cannot store an empty value; give it a value or leave it out',
    );
  });

  it('rejects a plain value over the standard tier’s 4096 bytes', () => {
    expect(error({ ...base, plain: { CERT: 'é'.repeat(2049) } })).toBe(
      'ParameterStore /propertyfeed/staging:\n  parameters.plain.CERT: the value is 4098 bytes, over the 4096 SSM allows in a standard parameter',
    );
    expect(() => build({ ...base, plain: { CERT: 'x'.repeat(4096) } })).not.toThrow();
  });

  it('rejects an app name SSM reserves as a prefix', () => {
    expect(error({ ...base, app: 'ssm-tools' })).toBe(
      'ParameterStore /ssm-tools/staging:\n  app "ssm-tools" would put the parameters under /ssm-tools/, but SSM parameter names must not begin with "aws" or "ssm"',
    );
    expect(error({ ...base, app: 'aws' })).toMatch(/SSM parameter names must not begin with "aws" or "ssm"$/);
    expect(() => build({ ...base, app: 'awesome' })).not.toThrow();
  });

  it('rejects a parameter name too long for SSM', () => {
    const name = `A${'B'.repeat(1000)}`;
    // "arn:aws:ssm:eu-west-2:000000000000:parameter" is 44 characters, the prefix /propertyfeed/staging/env/ 26.
    expect(error({ ...base, secure: [name] })).toBe(
      `ParameterStore /propertyfeed/staging:\n  parameters.secure.${name}: the parameter name /propertyfeed/staging/env/ABBBBBBBBBBBBB… is ${44 + 26 + 1001 - 1011} characters over SSM's limit of 1011 (counted with its ARN)`,
    );
  });

  it('rejects a secret listed twice or also listed as plain', () => {
    expect(error({ ...base, plain: { APP_KEY: 'x' }, secure: ['DB_PASSWORD', 'DB_PASSWORD', 'APP_KEY'] })).toBe(
      'ParameterStore /propertyfeed/staging:\n' +
        '  parameters.secure: DB_PASSWORD is listed twice\n' +
        '  parameters.secure: APP_KEY is also in parameters.plain; a variable is either plain or secret',
    );
  });

  it('rejects names that are not SSM path segments and lanes listed twice', () => {
    expect(
      error({
        ...base,
        plain: { 'BAD NAME': 'x' },
        lanes: [
          { name: 'image', stage: 'off' },
          { name: 'image', stage: 'owned' },
        ],
      }),
    ).toBe(
      'ParameterStore /propertyfeed/staging:\n' +
        '  parameters.plain.BAD NAME: "BAD NAME" is not a valid SSM parameter name segment\n' +
        '  lanes.image: the lane is listed twice',
    );
  });

  it('rejects a key deletion window KMS does not allow', () => {
    expect(error({ ...base, keyDeletionWindowInDays: 6 })).toBe(
      'ParameterStore /propertyfeed/staging:\n  keyDeletionWindowInDays: 6 is not a whole number of days from 7 to 30',
    );
  });
});
