import {
  KEY_DELETION_WINDOW_DAYS,
  keyDeletionWindowProblem,
  laneParameterName,
  parameterPathPrefix,
  runtimeParameterName,
  type EnvironmentConfig,
  type Stage,
} from '@queue-lanes/config';
import { DataAwsCallerIdentity } from '@cdktf/provider-aws/lib/data-aws-caller-identity';
import { DataAwsPartition } from '@cdktf/provider-aws/lib/data-aws-partition';
import { KmsAlias } from '@cdktf/provider-aws/lib/kms-alias';
import { KmsKey } from '@cdktf/provider-aws/lib/kms-key';
import { SsmParameter } from '@cdktf/provider-aws/lib/ssm-parameter';
import { Construct } from 'constructs';
import { accountAdministersKey, partitionOf, policyDocument, type PolicyStatement } from '@queue-lanes/iam-policy';

/*
 * Naming (the operators' runbook depends on it):
 *
 *   /<app>/<env>/env/<NAME>                 one per runtime variable, plain (String) or secret (SecureString)
 *   /<app>/<env>/lanes/<lane>/stage         off | baseline | scaling | owned
 *   /<app>/<env>/lanes/<lane>/host-consumer enabled | disabled
 *
 * <NAME> is the environment-variable name the container sees, unchanged, so the
 * path says which variable it feeds.
 */

/** A plain parameter's value as the environment file gives it. */
export type PlainValue = string | number | boolean;

/** What the parameters need to know about a lane. */
export interface LaneStage {
  /** The lane's name (a path segment). */
  readonly name: string;
  /** Where the lane is in its rollout. */
  readonly stage: Stage;
}

export interface ParameterStoreProps {
  /** The application; the first path segment. */
  readonly app: string;
  /** The environment; the second path segment. */
  readonly environment: string;
  /** The environment's region, for the CloudWatch Logs and SSM service names in the policies. */
  readonly region: string;
  /**
   * Plain runtime variables (type String), managed from the environment file:
   * the value here is the value in SSM, so it cannot go stale.
   * @default {}
   */
  readonly plain?: Readonly<Record<string, PlainValue>>;
  /**
   * Secret runtime variables (type SecureString under the environment's key).
   * Terraform creates each with a placeholder and never changes the value again;
   * operators set the real value out of band.
   * @default []
   */
  readonly secure?: readonly string[];
  /**
   * Every lane, stage off included, so the web hosts always find their switch.
   * @default []
   */
  readonly lanes?: readonly LaneStage[];
  /**
   * Days KMS waits before deleting the key once it is scheduled for deletion (7-30).
   * @default 30
   */
  readonly keyDeletionWindowInDays?: number;
}

/**
 * A secret parameter's description. Changing it after the parameter is written-only
 * makes the provider put an empty value, which SSM refuses (the apply fails, the
 * secret is untouched): keep it as it is.
 */
export function secretDescription(name: string, label: string): string {
  return `${name} for ${label}; set out of band, write-only in Terraform (never in state)`;
}

/** The value SecureString parameters are created with; anything else means it was set. */
export const SECRET_PLACEHOLDER = 'placeholder-set-out-of-band';
/** SSM's limit on a standard-tier value, in bytes (UTF-8). */
export const MAX_STANDARD_VALUE_BYTES = 4096;
/** SSM's limit on a parameter name, counted with the ARN around it. */
const MAX_NAME_WITH_ARN = 1011;

/**
 * What the web hosts' process supervisor does with a lane's queues: it runs its
 * consumers until ECS owns the lane, so rollback is one stage change.
 */
export function hostConsumerState(stage: Stage): 'enabled' | 'disabled' {
  return stage === 'owned' ? 'disabled' : 'enabled';
}

/** The parameter construct's props for one environment, as compose builds them. */
export function parameterStoreProps(env: EnvironmentConfig): ParameterStoreProps {
  return {
    app: env.app,
    environment: env.environment,
    region: env.region,
    plain: env.parameters.plain,
    secure: env.parameters.secure,
    lanes: env.lanes.map((lane) => ({ name: lane.name, stage: lane.stage })),
  };
}

/**
 * The environment's runtime parameters under `/<app>/<env>/`, the customer-managed
 * key that encrypts its secrets (and, through the other stacks, its logs, queues
 * and Lambda environment), each lane's stage and host-consumer switch, the IAM
 * statements that read the runtime parameters, and the policy with which the web
 * hosts read the host-consumer switches.
 */
export class ParameterStore extends Construct {
  /** `/<app>/<env>`: every parameter's path starts with it. */
  readonly pathPrefix: string;
  /** The environment's customer-managed key (rotated yearly). */
  readonly key: KmsKey;
  /** ARN of {@link key}, for CloudWatch log groups, SQS queues and Lambda environments in other stacks. */
  readonly keyArn: string;
  /** `alias/<app>-<env>`: the key the SecureString parameters name. */
  readonly keyAlias: KmsAlias;
  /** The key policy, as set on {@link key}. */
  readonly keyPolicy: string;
  /** Plain runtime parameters (String), by environment-variable name. */
  readonly plainParameters: Readonly<Record<string, SsmParameter>>;
  /** Secret runtime parameters (SecureString placeholders), by environment-variable name. */
  readonly secureParameters: Readonly<Record<string, SsmParameter>>;
  /** `/<app>/<env>/lanes/<lane>/stage`, by lane name. */
  readonly stageParameters: Readonly<Record<string, SsmParameter>>;
  /** `/<app>/<env>/lanes/<lane>/host-consumer`, by lane name. */
  readonly hostConsumerParameters: Readonly<Record<string, SsmParameter>>;
  /**
   * Environment-variable name → parameter ARN, plain and secret alike: the
   * `secrets: [{ name, valueFrom }]` of an ECS container definition. The ARNs are
   * resource attributes, so using them in another stack makes cross-stack references.
   */
  readonly containerSecrets: Readonly<Record<string, string>>;
  /**
   * `ssm:GetParameters` on exactly the runtime parameters (when there are any), and
   * `kms:Decrypt` on the key through SSM only: for the worker execution role and the
   * controller to add to their own policies.
   */
  readonly readStatements: readonly PolicyStatement[];
  /** {@link readStatements} as a policy document (JSON), to attach as it is. */
  readonly readPolicy: string;
  /**
   * `ssm:GetParameter` and `ssm:GetParameters` on `/<app>/<env>/lanes/<any lane>/host-consumer`
   * and nothing else: for the web hosts' role, which the host agent reads the switches with.
   */
  readonly hostConsumerReadStatements: readonly PolicyStatement[];
  /** {@link hostConsumerReadStatements} as a policy document (JSON), to attach to the web hosts' role as it is. */
  readonly hostConsumerReadPolicy: string;

  constructor(scope: Construct, id: string, props: ParameterStoreProps) {
    super(scope, id);
    validate(props);
    const label = `${props.app} ${props.environment}`;
    this.pathPrefix = parameterPathPrefix(props);

    const account = new DataAwsCallerIdentity(this, 'account').accountId;
    const partitionData = new DataAwsPartition(this, 'partition');
    const dnsSuffix = partitionData.dnsSuffix;

    this.keyPolicy = JSON.stringify(environmentKeyPolicy(props.region, account, partitionData.partition, dnsSuffix));
    this.key = new KmsKey(this, 'key', {
      description: `Secrets, logs and queues of ${label} (queue-lanes)`,
      enableKeyRotation: true,
      deletionWindowInDays: props.keyDeletionWindowInDays ?? KEY_DELETION_WINDOW_DAYS.default,
      policy: this.keyPolicy,
    });
    this.keyArn = this.key.arn;
    this.keyAlias = new KmsAlias(this, 'alias', {
      name: `alias/${props.app}-${props.environment}`,
      targetKeyId: this.key.keyId,
    });

    this.plainParameters = plainParameters(this, props, label);
    this.secureParameters = secureParameters(this, props, label, this.keyAlias);
    const switches = laneSwitches(this, props, props.lanes ?? [], label);
    this.stageParameters = switches.stage;
    this.hostConsumerParameters = switches.hostConsumer;

    const runtime = { ...this.plainParameters, ...this.secureParameters };
    const names = Object.keys(runtime).sort();
    this.containerSecrets = Object.fromEntries(names.map((name) => [name, runtime[name].arn]));
    const statements = readStatements(
      names.map((name) => runtime[name].arn),
      this.keyArn,
      `ssm.${props.region}.${dnsSuffix}`,
    );
    this.readStatements = statements;
    this.readPolicy = JSON.stringify(policyDocument(statements));

    this.hostConsumerReadStatements = hostConsumerReadStatements(props, account);
    this.hostConsumerReadPolicy = JSON.stringify(policyDocument(this.hostConsumerReadStatements));
  }
}

/** Plain runtime parameters (String), their values from the environment file, by name. */
function plainParameters(scope: Construct, props: ParameterStoreProps, label: string): Record<string, SsmParameter> {
  const plain = props.plain ?? {};
  const parameters: Record<string, SsmParameter> = {};
  for (const name of Object.keys(plain).sort()) {
    parameters[name] = new SsmParameter(scope, `env-${name}`, {
      name: runtimeParameterName(props, name),
      description: `${name} for ${label}, managed from the environment file`,
      type: 'String',
      tier: 'Standard',
      value: String(plain[name]),
    });
  }
  return parameters;
}

/** Secret runtime parameters (SecureString placeholders under the environment key), by name. */
function secureParameters(scope: Construct, props: ParameterStoreProps, label: string, keyAlias: KmsAlias): Record<string, SsmParameter> {
  const parameters: Record<string, SsmParameter> = {};
  for (const name of [...(props.secure ?? [])].sort()) {
    parameters[name] = new SsmParameter(scope, `env-${name}`, {
      name: runtimeParameterName(props, name),
      description: secretDescription(name, label),
      type: 'SecureString',
      tier: 'Standard',
      // The alias, not the ARN: SSM keeps the identifier it was given, and operators
      // put the real value with `--key-id alias/<app>-<env>`, so Terraform sees no drift.
      keyId: keyAlias.name,
      // Write-only (Terraform and OpenTofu 1.11 and later): the placeholder goes to
      // SSM on create and never into state, and once the provider has seen value_wo
      // its reads keep the decrypted value out of state too.
      valueWo: SECRET_PLACEHOLDER,
      valueWoVersion: 1,
      // The real value is put with `aws ssm put-parameter --overwrite`; Terraform must
      // never reset it. A value_wo_version change would write the placeholder over it,
      // and a parameter created by an earlier release (value, no version) would see
      // one; so neither counts as a change. Such a parameter moves to write-only on
      // the apply that changes its description (secretDescription): the provider puts
      // the value it last read back unchanged, and from then on keeps it out of state.
      lifecycle: { ignoreChanges: ['value', 'value_wo_version'] },
    });
  }
  return parameters;
}

/** Reading exactly the runtime parameters (when there are any), and decrypting them through SSM only. */
function readStatements(parameterArns: readonly string[], keyArn: string, ssmService: string): PolicyStatement[] {
  const statements: PolicyStatement[] = [];
  if (parameterArns.length > 0) {
    statements.push({
      Sid: 'ReadRuntimeParameters',
      Effect: 'Allow',
      Action: 'ssm:GetParameters',
      Resource: [...parameterArns],
    });
  }
  statements.push({
    Sid: 'DecryptRuntimeSecrets',
    Effect: 'Allow',
    Action: 'kms:Decrypt',
    Resource: keyArn,
    Condition: { StringEquals: { 'kms:ViaService': ssmService } },
  });
  return statements;
}

/** Reading any lane's host-consumer switch, and nothing else: for the web hosts' role. */
function hostConsumerReadStatements(props: ParameterStoreProps, account: string): PolicyStatement[] {
  return [
    {
      Sid: 'ReadHostConsumerSwitches',
      Effect: 'Allow',
      // Not GetParametersByPath: IAM checks it against the path alone, so it would
      // also hand out every lane's stage and whatever else lives under lanes/.
      Action: ['ssm:GetParameter', 'ssm:GetParameters'],
      // Any lane, not the lanes of today: the hosts' role is managed outside these
      // stacks, and GetParameters fails whole when one name is denied, so a lane
      // added later would cut every lane of a host off its switch.
      // No kms:Decrypt: the switches are String parameters.
      Resource: `arn:${partitionOf(props.region)}:ssm:${props.region}:${account}:parameter${laneParameterName(props, '*', 'host-consumer')}`,
    },
  ];
}

/** Problems the config schema does not catch, because they need the derived SSM names. */
function validate(props: ParameterStoreProps): void {
  const problems: string[] = [];
  const prefix = parameterPathPrefix(props);
  if (/^(aws|ssm)/i.test(props.app)) {
    problems.push(
      `app "${props.app}" would put the parameters under /${props.app}/, but SSM parameter names must not begin with "aws" or "ssm"`,
    );
  }
  const plain = props.plain ?? {};
  const secure = props.secure ?? [];
  const segment = /^[A-Za-z0-9_.-]+$/;
  const lengthProblem = (key: string, name: string): string | undefined => {
    const withArn = `arn:aws:ssm:${props.region}:000000000000:parameter${name}`.length;
    return withArn > MAX_NAME_WITH_ARN
      ? `${key}: the parameter name ${name.slice(0, 40)}… is ${withArn - MAX_NAME_WITH_ARN} characters over SSM's limit of ${MAX_NAME_WITH_ARN} (counted with its ARN)`
      : undefined;
  };
  for (const [name, value] of Object.entries(plain)) {
    const key = `parameters.plain.${name}`;
    if (!segment.test(name)) problems.push(`${key}: "${name}" is not a valid SSM parameter name segment`);
    const length = lengthProblem(key, runtimeParameterName(props, name));
    if (length) problems.push(length);
    const bytes = Buffer.byteLength(String(value), 'utf8');
    if (bytes === 0) {
      problems.push(`${key}: SSM cannot store an empty value; give it a value or leave it out`);
    } else if (bytes > MAX_STANDARD_VALUE_BYTES) {
      problems.push(`${key}: the value is ${bytes} bytes, over the ${MAX_STANDARD_VALUE_BYTES} SSM allows in a standard parameter`);
    }
  }
  const seen = new Set<string>();
  for (const name of secure) {
    const key = `parameters.secure`;
    if (!segment.test(name)) problems.push(`${key}: "${name}" is not a valid SSM parameter name segment`);
    if (seen.has(name)) problems.push(`${key}: ${name} is listed twice`);
    if (Object.hasOwn(plain, name)) problems.push(`${key}: ${name} is also in parameters.plain; a variable is either plain or secret`);
    seen.add(name);
    const length = lengthProblem(`${key}.${name}`, runtimeParameterName(props, name));
    if (length) problems.push(length);
  }
  const lanes = new Set<string>();
  for (const lane of props.lanes ?? []) {
    if (!segment.test(lane.name)) problems.push(`lanes.${lane.name}: "${lane.name}" is not a valid SSM parameter name segment`);
    if (lanes.has(lane.name)) problems.push(`lanes.${lane.name}: the lane is listed twice`);
    lanes.add(lane.name);
  }
  const window = props.keyDeletionWindowInDays;
  const windowProblem = keyDeletionWindowProblem(window);
  if (windowProblem) problems.push(windowProblem);
  if (problems.length > 0) {
    throw new Error(`ParameterStore ${prefix}:\n  ${problems.join('\n  ')}`);
  }
}

/**
 * The environment key's policy: the account administers it through IAM, and
 * CloudWatch Logs may use it for this account's log groups in the region.
 */
function environmentKeyPolicy(region: string, account: string, partition: string, dnsSuffix: string) {
  return policyDocument([
    accountAdministersKey(partition, account),
    {
      Sid: 'CloudWatchLogsEncryptsLogGroups',
      Effect: 'Allow',
      Principal: { Service: `logs.${region}.${dnsSuffix}` },
      Action: ['kms:Encrypt*', 'kms:Decrypt*', 'kms:ReEncrypt*', 'kms:GenerateDataKey*', 'kms:Describe*'],
      Resource: '*',
      Condition: {
        ArnLike: {
          'kms:EncryptionContext:aws:logs:arn': `arn:${partition}:logs:${region}:${account}:log-group:*`,
        },
      },
    },
  ]);
}

/** Per lane, its stage and its host-consumer switch, which the web hosts' agent reads. */
function laneSwitches(
  scope: Construct,
  names: Parameters<typeof laneParameterName>[0],
  lanes: readonly LaneStage[],
  label: string,
): { stage: Record<string, SsmParameter>; hostConsumer: Record<string, SsmParameter> } {
  const stageParameters: Record<string, SsmParameter> = {};
  const hostConsumerParameters: Record<string, SsmParameter> = {};
  for (const lane of lanes) {
    stageParameters[lane.name] = new SsmParameter(scope, `lane-${lane.name}-stage`, {
      name: laneParameterName(names, lane.name, 'stage'),
      description: `Rollout stage of lane ${lane.name} in ${label}: off, baseline, scaling or owned`,
      type: 'String',
      tier: 'Standard',
      value: lane.stage,
      tags: { lane: lane.name },
    });
    hostConsumerParameters[lane.name] = new SsmParameter(scope, `lane-${lane.name}-host-consumer`, {
      name: laneParameterName(names, lane.name, 'host-consumer'),
      description: `Whether the web hosts run the consumers of lane ${lane.name} in ${label}: enabled until the lane is owned, then disabled`,
      type: 'String',
      tier: 'Standard',
      value: hostConsumerState(lane.stage),
      tags: { lane: lane.name },
    });
  }
  return { stage: stageParameters, hostConsumer: hostConsumerParameters };
}
