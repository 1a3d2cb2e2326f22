import { CONTROLLER_CONFIG_ENV, encodeControllerConfig, type ControllerConfig, type ControllerConfigInput } from '@queue-lanes/contract';
import { CloudwatchLogGroup } from '@cdktf/provider-aws/lib/cloudwatch-log-group';
import { DataAwsCallerIdentity } from '@cdktf/provider-aws/lib/data-aws-caller-identity';
import { IamRole } from '@cdktf/provider-aws/lib/iam-role';
import { IamRolePolicy } from '@cdktf/provider-aws/lib/iam-role-policy';
import { LambdaFunction } from '@cdktf/provider-aws/lib/lambda-function';
import { LambdaFunctionEventInvokeConfig } from '@cdktf/provider-aws/lib/lambda-function-event-invoke-config';
import { LambdaPermission } from '@cdktf/provider-aws/lib/lambda-permission';
import { SchedulerSchedule } from '@cdktf/provider-aws/lib/scheduler-schedule';
import { SqsQueue } from '@cdktf/provider-aws/lib/sqs-queue';
import { AssetType, TerraformAsset } from 'cdktf';
import { Construct } from 'constructs';
import { controllerArchive, type ControllerArchive } from './controller-archive';
import { validateControllerConfig } from '@queue-lanes/contract/environment';
import { partitionOf, policyDocument, serviceEndpoint, writeLogStreams, type PolicyStatement } from '@queue-lanes/iam-policy';
import {
  controllerDeadLetterQueueName,
  controllerLogGroupName,
  controllerName,
  logGroupRetention,
  scheduleDeadLetterQueueName,
  scheduleRoleName,
  SettingError,
} from '@queue-lanes/config';

/** What Lambda allows for all of a function's environment variables together (keys and values), bytes. */
export const LAMBDA_ENVIRONMENT_BYTES = 4096;

export interface BacklogControllerFunctionProps {
  /** The application: the function is `<app>-<env>-backlog-controller`. */
  readonly app: string;
  /** The environment: the function is `<app>-<env>-backlog-controller`. */
  readonly environment: string;
  /** The region the function runs in: its IAM statements name this region's resources. */
  readonly region: string;
  /**
   * CONTROLLER_CONFIG before the controller's defaults: the lanes it measures and sizes,
   * the fleet cap, how to reach Redis (`buildControllerConfig` of `@queue-lanes/contract/environment`).
   */
  readonly controllerConfig: ControllerConfigInput;
  /** Days the function's log group keeps its logs (the environment's `logs.retentionDays`). */
  readonly logRetentionInDays: number;
  /**
   * Application roles that may invoke the function directly (wake-up calls).
   * @default []
   */
  readonly wakeInvokerRoleArns?: readonly string[];
  /**
   * ARN of the ECS service of each lane the controller sizes, by lane name: the
   * only services the function may describe and update (cross-stack references
   * to the workers stack's services). Lanes it only measures have none.
   */
  readonly serviceArns: Readonly<Record<string, string>>;
  /**
   * ARNs of the queues and dead-letter queues of the SQS lanes the controller
   * measures: the only queues it may read (GetQueueUrl, GetQueueAttributes).
   * @default none
   */
  readonly sqsQueueArns?: readonly string[];
  /** The controller security group (networking stack): egress to Redis and HTTPS. */
  readonly securityGroupId: string;
  /** Private subnets the function's network interfaces go in. */
  readonly subnetIds: readonly string[];
  /** The environment's KMS key: the function's environment, log group and dead-letter queues. */
  readonly kmsKeyArn: string;
  /** ARN of the Redis AUTH token's SecureString; required when {@link controllerConfig} reads Redis with one. */
  readonly redisAuthParameterArn?: string;
  /**
   * The Lambda package.
   * @default controllerArchive(): the cached, deterministic bundle of libs/backlog-controller
   */
  readonly archive?: ControllerArchive;
}

/** What the schedule's helpers read of the environment: the names, and the region of its statements. */
type EnvironmentNames = Pick<BacklogControllerFunctionProps, 'app' | 'environment' | 'region'>;

/** A schedule that misses its minute is useless: the next one comes a minute later. */
export const SCHEDULE_EXPRESSION = 'rate(1 minute)';
/** Below the one-minute schedule, so a slow tick never overlaps the next with reserved concurrency 1. */
export const CONTROLLER_TIMEOUT_SECONDS = 50;
export const CONTROLLER_MEMORY_MB = 256;
export const CONTROLLER_RUNTIME = 'nodejs22.x';
/** Dead letters are for people to read: keep them the longest SQS allows (14 days). */
const DEAD_LETTER_RETENTION_SECONDS = 1_209_600;

/**
 * The backlog controller of one environment (docs/scaling.md): the Lambda
 * `<app>-<env>-backlog-controller` in the private subnets with the controller security group, reserved concurrency 1, X-Ray
 * tracing, its environment encrypted with the environment key, and
 * CONTROLLER_CONFIG derived from the environment file; its own log group; a
 * dead-letter queue for failed asynchronous invocations; an EventBridge
 * Scheduler schedule that invokes it every minute through a role that may invoke
 * exactly this function; and invoke permissions for the application roles in
 * `controller.wakeInvokerRoleArns` (wake-up calls).
 *
 * This is the synthesized side; the code the function runs is libs/backlog-controller
 * (its `BacklogController` class), bundled into {@link archive}.
 */
export class BacklogControllerFunction extends Construct {
  /** `<app>-<env>-backlog-controller`. */
  readonly functionName: string;
  /** CONTROLLER_CONFIG as the Lambda will read it (validated with the controller's schema, defaults applied). */
  readonly config: ControllerConfig;
  /** The JSON in CONTROLLER_CONFIG. */
  readonly configJson: string;
  /** CONTROLLER_CONFIG as the function gets it: {@link configJson}, deflated when it would not fit Lambda's environment. */
  readonly configValue: string;
  /** The Lambda package (a deterministic zip of the bundled handler). */
  readonly archive: ControllerArchive;
  /** The package, copied into the stack's assets folder at synth. */
  readonly asset: TerraformAsset;
  /** `/aws/lambda/<function>`, KMS-encrypted, retention from `logs.retentionDays`. */
  readonly logGroup: CloudwatchLogGroup;
  /** `<app>-<env>-backlog-controller-dlq`: asynchronous invocations that failed, encrypted with the environment key. */
  readonly deadLetterQueue: SqsQueue;
  /** The function's execution role, `<app>-<env>-backlog-controller`. */
  readonly role: IamRole;
  /** The execution role's only policy (see {@link statements}). */
  readonly policy: IamRolePolicy;
  /** The execution role's statements, as attached. */
  readonly statements: readonly PolicyStatement[];
  readonly function: LambdaFunction;
  /** No retries of a failed tick (the next one comes within a minute); stale events are dropped to the dead-letter queue. */
  readonly invokeConfig: LambdaFunctionEventInvokeConfig;
  /** Every minute, with retries and a dead-letter queue of its own. */
  readonly schedule: SchedulerSchedule;
  /** `<app>-<env>-controller-schedule`: what EventBridge Scheduler assumes to invoke the function. */
  readonly scheduleRole: IamRole;
  readonly schedulePolicy: IamRolePolicy;
  /** `<app>-<env>-controller-schedule-dlq`: ticks the scheduler could not deliver. */
  readonly scheduleDeadLetterQueue: SqsQueue;
  /** Invoke permission per role in `controller.wakeInvokerRoleArns`, by role ARN. */
  readonly wakePermissions: Readonly<Record<string, LambdaPermission>>;
  /** A policy (JSON) to attach to an application role elsewhere, so it may send wake-up calls. */
  readonly wakeInvokePolicy: string;

  constructor(scope: Construct, id: string, props: BacklogControllerFunctionProps) {
    super(scope, id);
    this.config = validateControllerConfig(props.controllerConfig);
    const sized = this.config.lanes.filter((lane) => lane.sized);
    validateProps(props, sized, this.config.redis?.authParameterName);

    this.functionName = controllerName(props);
    // Defaults applied, so the Lambda reads exactly what the tests and reviewers see.
    this.configJson = JSON.stringify(this.config);
    this.configValue = environmentValue(this.config, this.configJson);
    this.archive = props.archive ?? controllerArchive();
    const account = new DataAwsCallerIdentity(this, 'account').accountId;
    this.asset = new TerraformAsset(this, 'package', {
      path: this.archive.file,
      type: AssetType.FILE,
      assetHash: this.archive.assetHash,
    });
    this.logGroup = new CloudwatchLogGroup(this, 'log-group', {
      name: controllerLogGroupName(props),
      ...logGroupRetention(props.logRetentionInDays),
      kmsKeyId: props.kmsKeyArn,
    });
    this.deadLetterQueue = deadLetterQueue(this, 'dead-letter-queue', controllerDeadLetterQueueName(props), props.kmsKeyArn);

    ({
      role: this.role,
      statements: this.statements,
      policy: this.policy,
    } = executionRole(this, props, {
      sizedServiceArns: sized.map((lane) => props.serviceArns[lane.name]),
      namespace: this.config.namespace,
      deadLetterQueueArn: this.deadLetterQueue.arn,
      logGroupArn: this.logGroup.arn,
      arn: accountArn(props.region, account),
    }));
    ({ function: this.function, invokeConfig: this.invokeConfig } = controllerFunction(this, props, this));
    ({
      deadLetterQueue: this.scheduleDeadLetterQueue,
      role: this.scheduleRole,
      policy: this.schedulePolicy,
      schedule: this.schedule,
    } = controllerSchedule(this, props, this.function, props.kmsKeyArn, account));
    this.wakePermissions = wakePermissions(this, props.wakeInvokerRoleArns ?? [], this.function);
    this.wakeInvokePolicy = JSON.stringify(
      policyDocument([{ Sid: 'WakeBacklogController', Effect: 'Allow', Action: 'lambda:InvokeFunction', Resource: this.function.arn }]),
    );
  }
}

/** `arn:<partition>:<service>:<region>:<account>:<resource>`, for the resources of this account and region. */
type AccountArn = (service: string, resource: string) => string;

function accountArn(region: string, account: string): AccountArn {
  const partition = partitionOf(region);
  return (service, resource) => `arn:${partition}:${service}:${region}:${account}:${resource}`;
}

/** `<account>-<role name>`, in the characters a Lambda statement id allows, so the id follows the role, not its position. */
function roleSlug(roleArn: string): string {
  const match = /:iam::(\d{12}):role\/(?:.*\/)?([^/]+)$/.exec(roleArn);
  const slug = match ? `${match[1]}-${match[2]}` : roleArn;
  return slug.replace(/[^A-Za-z0-9_-]/g, '-').slice(0, 90);
}

/** Props that disagree with the configuration: a service the controller sizes without its ARN, or one it must not touch. */
function validateProps(
  props: BacklogControllerFunctionProps,
  sized: readonly { readonly name: string }[],
  redisAuthParameterName: string | undefined,
): void {
  for (const lane of sized) {
    if (!props.serviceArns[lane.name]) throw new Error(`serviceArns: no service ARN for lane ${lane.name}, which the controller sizes`);
  }
  for (const name of Object.keys(props.serviceArns)) {
    if (!sized.some((lane) => lane.name === name)) {
      throw new Error(`serviceArns: lane ${name} is not sized by the controller, so its service must not be writable by it`);
    }
  }
  if (redisAuthParameterName !== undefined && props.redisAuthParameterArn === undefined) {
    throw new Error(`redisAuthParameterArn: needed for the Redis AUTH token ${redisAuthParameterName}; pass the SecureString's ARN`);
  }
  if (props.subnetIds.length === 0) throw new Error('subnetIds: the function needs at least one private subnet');
}

/** CONTROLLER_CONFIG's value: readable JSON while it fits Lambda's environment, deflated when it would not; refused past even that. */
function environmentValue(config: ControllerConfig, json: string): string {
  const value = encodeControllerConfig(json, LAMBDA_ENVIRONMENT_BYTES - CONTROLLER_CONFIG_ENV.length);
  const environmentBytes = Buffer.byteLength(CONTROLLER_CONFIG_ENV + value, 'utf8');
  if (environmentBytes > LAMBDA_ENVIRONMENT_BYTES) {
    const lanes = config.lanes.length;
    const queues = config.lanes.reduce((sum, lane) => sum + lane.queues.length, 0);
    throw new SettingError(
      ['lanes'],
      `the backlog controller's configuration for ${lanes} lanes past stage off (${queues} queues) is ${environmentBytes} bytes even deflated, over the ${LAMBDA_ENVIRONMENT_BYTES} bytes Lambda allows for a function's environment variables, so the deploy would fail; each measured lane takes about ${Math.ceil(environmentBytes / lanes)} bytes: set lanes at off, merge lanes, or shorten lane and queue names`,
    );
  }
  return value;
}

/** A dead-letter queue for people to read: encrypted with the environment key, kept as long as SQS allows. */
function deadLetterQueue(scope: Construct, id: string, name: string, kmsKeyArn: string): SqsQueue {
  return new SqsQueue(scope, id, { name, kmsMasterKeyId: kmsKeyArn, messageRetentionSeconds: DEAD_LETTER_RETENTION_SECONDS });
}

/** What the execution role's statements name, beside the props. */
interface ExecutionResources {
  readonly sizedServiceArns: readonly string[];
  readonly namespace: string;
  readonly deadLetterQueueArn: string;
  readonly logGroupArn: string;
  readonly arn: AccountArn;
}

/** The function's execution role `<app>-<env>-backlog-controller`, which only Lambda assumes, and its one policy. */
function executionRole(
  scope: Construct,
  props: BacklogControllerFunctionProps,
  known: ExecutionResources,
): { role: IamRole; statements: PolicyStatement[]; policy: IamRolePolicy } {
  const role = new IamRole(scope, 'role', {
    name: controllerName(props),
    description: `Backlog controller of ${props.app} ${props.environment}: reads Redis and SQS, publishes QueueLanes metrics, sets lane desired counts`,
    assumeRolePolicy: JSON.stringify(
      policyDocument([{ Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com' }, Action: 'sts:AssumeRole' }]),
    ),
  });
  const statements = [...workStatements(props, known), ...runtimeStatements(props, known), ...networkInterfaceStatements(props, known.arn)];
  const policy = new IamRolePolicy(scope, 'policy', {
    name: 'backlog-controller',
    role: role.id,
    policy: JSON.stringify(policyDocument(statements)),
  });
  return { role, statements, policy };
}

/** The controller's work: ECS only on the services it sizes, metrics under its namespace, the SQS lanes' queues, the Redis AUTH token. */
function workStatements(props: BacklogControllerFunctionProps, known: ExecutionResources): PolicyStatement[] {
  return [
    // DescribeServices reads the sized lanes' desired counts; UpdateService sets them. Nothing else in the cluster.
    ...(known.sizedServiceArns.length > 0
      ? [
          {
            Sid: 'ScaleLaneServices',
            Effect: 'Allow' as const,
            Action: ['ecs:DescribeServices', 'ecs:UpdateService'],
            Resource: [...known.sizedServiceArns],
          },
        ]
      : []),
    {
      // PutMetricData has no resource type; the namespace condition is how it is scoped.
      Sid: 'PublishLaneMetrics',
      Effect: 'Allow',
      Action: 'cloudwatch:PutMetricData',
      Resource: '*',
      Condition: { StringEquals: { 'cloudwatch:namespace': known.namespace } },
    },
    {
      // GetMetricData (the drain history the function reads back) supports no resource type
      // and no condition key in IAM: "*" is the only Resource AWS accepts for it.
      Sid: 'ReadDrainHistory',
      Effect: 'Allow',
      Action: 'cloudwatch:GetMetricData',
      Resource: '*',
    },
    ...((props.sqsQueueArns ?? []).length > 0
      ? [
          {
            // Both actions take the queue's ARN as their resource (the SQS Developer Guide's
            // "Amazon SQS API permissions: Actions and resource reference"): exactly these queues.
            Sid: 'ReadSqsLaneQueues',
            Effect: 'Allow' as const,
            Action: ['sqs:GetQueueAttributes', 'sqs:GetQueueUrl'],
            Resource: [...props.sqsQueueArns!],
          },
        ]
      : []),
    ...(props.redisAuthParameterArn !== undefined
      ? [{ Sid: 'ReadRedisAuthToken', Effect: 'Allow' as const, Action: 'ssm:GetParameter', Resource: props.redisAuthParameterArn }]
      : []),
  ];
}

/** Running as a Lambda: the environment key, its own dead letters and logs, traces. */
function runtimeStatements(props: BacklogControllerFunctionProps, known: ExecutionResources): PolicyStatement[] {
  return [
    // The function's environment, the SecureString AUTH token and the dead-letter queue are under this key.
    decryptWithEnvironmentKey(props.kmsKeyArn),
    encryptDeadLetters(props.kmsKeyArn, props.region),
    sendDeadLetters(known.deadLetterQueueArn),
    // Its own log group only; the group exists before the function, so no CreateLogGroup.
    writeLogStreams('WriteOwnLogs', known.logGroupArn),
    {
      // X-Ray's trace upload actions have no resource type: "*" is the only valid Resource.
      Sid: 'UploadTraces',
      Effect: 'Allow',
      Action: ['xray:PutTelemetryRecords', 'xray:PutTraceSegments'],
      Resource: '*',
    },
  ];
}

/** The function's network interfaces in the private subnets. */
function networkInterfaceStatements(props: BacklogControllerFunctionProps, arn: AccountArn): PolicyStatement[] {
  const subnetArns = props.subnetIds.map((s) => arn('ec2', `subnet/${s}`));
  return [
    {
      // Lambda creates the function's network interfaces with the execution role: in the
      // configured subnets, with the controller security group, in this account and region.
      Sid: 'CreateNetworkInterfaces',
      Effect: 'Allow',
      Action: 'ec2:CreateNetworkInterface',
      Resource: [arn('ec2', 'network-interface/*'), ...subnetArns, arn('ec2', `security-group/${props.securityGroupId}`)],
    },
    {
      // Network interfaces get ids Lambda picks, so the interfaces of this account and region.
      Sid: 'ManageNetworkInterfaces',
      Effect: 'Allow',
      Action: ['ec2:AssignPrivateIpAddresses', 'ec2:DeleteNetworkInterface', 'ec2:UnassignPrivateIpAddresses'],
      Resource: arn('ec2', 'network-interface/*'),
    },
    {
      // EC2 Describe* actions support no resource-level permissions: "*" is the only valid Resource.
      Sid: 'DescribeNetworkInterfaces',
      Effect: 'Allow',
      Action: ['ec2:DescribeNetworkInterfaces', 'ec2:DescribeSubnets'],
      Resource: '*',
    },
  ];
}

/** `kms:Decrypt` with the environment key. */
function decryptWithEnvironmentKey(kmsKeyArn: string): PolicyStatement {
  return { Sid: 'DecryptWithEnvironmentKey', Effect: 'Allow', Action: 'kms:Decrypt', Resource: kmsKeyArn };
}

/** Sending to an encrypted dead-letter queue needs a data key, only through SQS. */
function encryptDeadLetters(kmsKeyArn: string, region: string): PolicyStatement {
  return {
    Sid: 'EncryptDeadLetters',
    Effect: 'Allow',
    Action: 'kms:GenerateDataKey',
    Resource: kmsKeyArn,
    Condition: { StringEquals: { 'kms:ViaService': serviceEndpoint('sqs', region) } },
  };
}

function sendDeadLetters(deadLetterQueueArn: string): PolicyStatement {
  return { Sid: 'SendDeadLetters', Effect: 'Allow', Action: 'sqs:SendMessage', Resource: deadLetterQueueArn };
}

/** The Lambda and how it is invoked: no retries, stale events to its dead-letter queue. */
function controllerFunction(
  scope: Construct,
  props: BacklogControllerFunctionProps,
  parts: Pick<
    BacklogControllerFunction,
    'functionName' | 'archive' | 'asset' | 'configValue' | 'logGroup' | 'deadLetterQueue' | 'role' | 'policy'
  >,
): { function: LambdaFunction; invokeConfig: LambdaFunctionEventInvokeConfig } {
  const fn = new LambdaFunction(scope, 'function', {
    functionName: parts.functionName,
    description: `queue-lanes backlog controller: measures the lanes of ${props.app} ${props.environment} and sizes the scaled ones from their backlog`,
    role: parts.role.arn,
    runtime: CONTROLLER_RUNTIME,
    architectures: ['x86_64'],
    handler: parts.archive.handler,
    filename: parts.asset.path,
    sourceCodeHash: parts.archive.sourceCodeHash,
    memorySize: CONTROLLER_MEMORY_MB,
    timeout: CONTROLLER_TIMEOUT_SECONDS,
    // One tick at a time: two overlapping ticks could both scale the same lane.
    reservedConcurrentExecutions: 1,
    tracingConfig: { mode: 'Active' },
    kmsKeyArn: props.kmsKeyArn,
    environment: { variables: { [CONTROLLER_CONFIG_ENV]: parts.configValue } },
    vpcConfig: { subnetIds: [...props.subnetIds], securityGroupIds: [props.securityGroupId] },
    deadLetterConfig: { targetArn: parts.deadLetterQueue.arn },
    // The log group first, so Lambda never creates one without the key and retention;
    // the policy first, so Lambda may create the network interfaces.
    dependsOn: [parts.logGroup, parts.policy],
  });
  const invokeConfig = new LambdaFunctionEventInvokeConfig(scope, 'invoke-config', {
    functionName: fn.functionName,
    // A failed tick is not retried: the next scheduled tick reads everything afresh.
    maximumRetryAttempts: 0,
    // A tick or wake-up that waited two minutes is stale; it goes to the dead-letter queue.
    maximumEventAgeInSeconds: 120,
  });
  return { function: fn, invokeConfig };
}

/** The every-minute tick: an EventBridge Scheduler schedule, the role it invokes the function with, and its own dead-letter queue. */
function controllerSchedule(
  scope: Construct,
  env: EnvironmentNames,
  fn: LambdaFunction,
  kmsKeyArn: string,
  account: string,
): { deadLetterQueue: SqsQueue; role: IamRole; policy: IamRolePolicy; schedule: SchedulerSchedule } {
  const dlq = deadLetterQueue(scope, 'schedule-dead-letter-queue', scheduleDeadLetterQueueName(env), kmsKeyArn);
  const { role, policy } = scheduleRole(scope, env, { fn, deadLetterQueue: dlq, kmsKeyArn, account });
  const schedule = new SchedulerSchedule(scope, 'schedule', {
    name: controllerName(env),
    description: `A backlog-controller tick every minute for ${env.app} ${env.environment}`,
    scheduleExpression: SCHEDULE_EXPRESSION,
    flexibleTimeWindow: { mode: 'OFF' },
    kmsKeyArn: kmsKeyArn,
    target: {
      arn: fn.arn,
      roleArn: role.arn,
      // Any event without "wake" is a scheduled tick.
      input: JSON.stringify({ source: 'queue-lanes.schedule' }),
      // Retries cover a failed Invoke call (throttling, service errors), within the minute only.
      retryPolicy: { maximumEventAgeInSeconds: 60, maximumRetryAttempts: 2 },
      deadLetterConfig: { arn: dlq.arn },
    },
    dependsOn: [policy],
  });
  return { deadLetterQueue: dlq, role, policy, schedule };
}

/** `<app>-<env>-controller-schedule`, which only this account's schedules assume: it may invoke the function and send it dead letters. */
function scheduleRole(
  scope: Construct,
  env: EnvironmentNames,
  on: { readonly fn: LambdaFunction; readonly deadLetterQueue: SqsQueue; readonly kmsKeyArn: string; readonly account: string },
): { role: IamRole; policy: IamRolePolicy } {
  const role = new IamRole(scope, 'schedule-role', {
    name: scheduleRoleName(env),
    description: `EventBridge Scheduler invokes ${controllerName(env)} every minute`,
    assumeRolePolicy: JSON.stringify(
      policyDocument([
        {
          Effect: 'Allow',
          Principal: { Service: 'scheduler.amazonaws.com' },
          Action: 'sts:AssumeRole',
          // Only schedules of this account (confused-deputy protection, as the Scheduler guide advises).
          Condition: { StringEquals: { 'aws:SourceAccount': on.account } },
        },
      ]),
    ),
  });
  const policy = new IamRolePolicy(scope, 'schedule-policy', {
    name: 'invoke-backlog-controller',
    role: role.id,
    policy: JSON.stringify(
      policyDocument([
        { Sid: 'InvokeController', Effect: 'Allow', Action: 'lambda:InvokeFunction', Resource: on.fn.arn },
        sendDeadLetters(on.deadLetterQueue.arn),
        // The schedule (its input) and the dead-letter queue are encrypted with the environment key;
        // EventBridge Scheduler decrypts the input with this role when it invokes the target.
        decryptWithEnvironmentKey(on.kmsKeyArn),
        encryptDeadLetters(on.kmsKeyArn, env.region),
      ]),
    ),
  });
  return { role, policy };
}

/** Invoke permission for each role in `controller.wakeInvokerRoleArns` (wake-up calls), by role ARN. */
function wakePermissions(scope: Construct, roleArns: readonly string[], fn: LambdaFunction): Record<string, LambdaPermission> {
  const permissions: Record<string, LambdaPermission> = {};
  for (const roleArn of roleArns) {
    const slug = roleSlug(roleArn);
    permissions[roleArn] = new LambdaPermission(scope, `wake-${slug}`, {
      statementId: `wake-${slug}`,
      action: 'lambda:InvokeFunction',
      functionName: fn.functionName,
      principal: roleArn,
    });
  }
  return permissions;
}
