import type { CapacityStrategyItem } from '@queue-lanes/config';
import { CloudwatchLogGroup } from '@cdktf/provider-aws/lib/cloudwatch-log-group';
import type { EcsCluster } from '@cdktf/provider-aws/lib/ecs-cluster';
import type { EcsClusterCapacityProviders } from '@cdktf/provider-aws/lib/ecs-cluster-capacity-providers';
import { EcsService, type EcsServiceConfig } from '@cdktf/provider-aws/lib/ecs-service';
import { EcsTaskDefinition, type EcsTaskDefinitionConfig } from '@cdktf/provider-aws/lib/ecs-task-definition';
import { IamRole, type IamRoleConfig } from '@cdktf/provider-aws/lib/iam-role';
import { IamRolePolicy } from '@cdktf/provider-aws/lib/iam-role-policy';
import { Token } from 'cdktf';
import { Construct } from 'constructs';
import { appContainer, imageReference, initContainer, runtimeVolumes, type RuntimeVolume } from './container';
import { partitionOf, policyDocument, writeLogStreams, type PolicyStatement } from '@queue-lanes/iam-policy';
import { ecrRepositoryArn, ecsTasksTrustPolicy } from './iam';
import {
  KMS_KEY_ARN,
  MAX_ROLE_NAME,
  SECURITY_GROUP_ID,
  SUBNET_ID,
  SettingError,
  clusterName,
  logGroupName,
  logGroupRetention,
  roleName,
  serviceName,
  taskFamily,
} from '@queue-lanes/config';

/** The image every workload of the environment runs. */
export interface WorkloadImage {
  /** The repository without tag: an ECR repository URI (the execution role may then pull from it) or another registry path. */
  readonly repository: string;
  /** The tag, or a `sha256:` digest (then referenced `@sha256:…`). */
  readonly tag: string;
}

/** The S3 bucket (and key prefix) the applications may read and write. */
export interface WorkloadStorage {
  /** The bucket's name. */
  readonly bucket: string;
  /** Key prefix the task roles may use, ending in `/`; empty grants the whole bucket. */
  readonly prefix: string;
}

/** What every workload of an environment reads: its names, where it runs, what it may read. */
export interface WorkloadSettings {
  /** The application's name: the first part of every name (`<app>-<lane>`, `/ecs/<app>-<env>/…`). */
  readonly app: string;
  /** The environment's name: part of every name, and every container's APP_ENV. */
  readonly environment: string;
  /** The region the tasks run in: their log driver, the task role's trust and the ARNs it is granted. */
  readonly region: string;
  /** The accounts the environment deploys to: the task role trusts tasks of these only; granted ARNs name each. */
  readonly allowedAccountIds: readonly string[];
  /** The application image every container runs. */
  readonly image: WorkloadImage;
  /** Days every log group keeps its events (a value CloudWatch offers). */
  readonly logRetentionDays: number;
  /** The Laravel application's folder in the image; its runtime folders are mounted writable under it. */
  readonly appRoot: string;
  /** The non-root user every container runs as (name or uid, optionally `:group`). */
  readonly user: string;
  /**
   * Allow `aws ecs execute-command` into the containers; sessions are logged and encrypted with `kmsKeyArn`.
   * @default false
   */
  readonly enableEcsExec?: boolean;
  /**
   * The bucket (and key prefix) the task roles may read and write.
   * @default no storage access
   */
  readonly storage?: WorkloadStorage;
  /** Digest of the runtime parameters' values (libs/config): a changed value makes new task definitions. */
  readonly parametersDigest: string;
  /** The worker security group (from the networking stack). */
  readonly securityGroupId: string;
  /** Private subnets the tasks run in; tasks never get a public IP. */
  readonly subnetIds: readonly string[];
  /**
   * Environment-variable name → SSM parameter ARN (from the parameters stack),
   * injected into every container as `secrets` (`valueFrom`). A parameter named
   * APP_ENV or LOG_CHANNEL replaces the container's own; LANE and LANE_QUEUES are
   * the container's and may not be parameters.
   */
  readonly secrets: Readonly<Record<string, string>>;
  /** The environment's KMS key ARN: encrypts the log groups and ECS Exec sessions. */
  readonly kmsKeyArn: string;
  /**
   * IAM policy JSON granting ssm:GetParameters on exactly the `secrets` parameters
   * and kms:Decrypt on their key (the parameters lib's read-access document);
   * attached to every execution role.
   */
  readonly parameterReadPolicyJson: string;
}

/** What every workload of the environment shares: the settings, and what WorkerService creates once for all (ECS Exec is read from execLogGroup alone). */
export interface WorkloadContext extends Omit<WorkloadSettings, 'enableEcsExec'> {
  /** The environment's cluster. */
  readonly cluster: EcsCluster;
  /** The cluster's capacity providers; services wait for them. */
  readonly capacityProviders: EcsClusterCapacityProviders;
  /**
   * The ECS Exec session log group; ECS Exec is on exactly when it is given.
   * @default ECS Exec off
   */
  readonly execLogGroup?: CloudwatchLogGroup;
}

/** The names and places of an environment, as the naming module and ARNs read them. */
export type WorkloadPlace = Pick<WorkloadSettings, 'app' | 'environment' | 'region' | 'allowedAccountIds'>;

/** What ECS accepts in one task definition (RegisterTaskDefinition), bytes. */
export const TASK_DEFINITION_BYTES = 65536;

/** One ECS service of the environment, resolved: a lane or the scheduler. */
export interface WorkloadSpec {
  /** Lane name, or `scheduler`: the last part of the log group, family and role names. */
  readonly name: string;
  /** Tags beyond the provider's default tags (`lane` for a lane). */
  readonly tags: Readonly<Record<string, string>>;
  readonly cpu: number;
  readonly memory: number;
  readonly architecture: 'x86_64' | 'arm64';
  /** Application containers, each with its name and command (a lane's process groups each run their own). */
  readonly containers: readonly { readonly name: string; readonly command: readonly string[] }[];
  /** The environment file's key that adds containers (a lane's workers or groups), for an over-size task definition. */
  readonly containersKey: readonly (string | number)[];
  readonly stopTimeout: number;
  /** Lane workers: their commands run through the worker entry point, which protects the task where `protection` is set (scaleInProtection). */
  readonly worker?: { readonly protection: boolean };
  /** Plain (non-secret) environment; a secret of the same name wins. */
  readonly environment: Readonly<Record<string, string>>;
  readonly desiredCount: number;
  /** Leave desired_count to a scaler after creation. */
  readonly ignoreDesiredCount: boolean;
  readonly minimumHealthyPercent: number;
  readonly maximumPercent: number;
  readonly capacity: readonly CapacityStrategyItem[];
  /** Extra task-role statements (beyond storage and ECS Exec). */
  readonly taskStatements: readonly PolicyStatement[];
}

/**
 * What every ECS workload of an environment is and exposes, created once here:
 * its log group, execution and task roles, task definition and service.
 * LaneService and SchedulerService give it their spec.
 */
export abstract class WorkloadService extends Construct {
  /** `<app>-<name>` in the cluster. */
  readonly serviceName: string;
  /** The count Terraform sets (the initial one only where something else owns it). */
  readonly desiredCount: number;
  /** `/ecs/<app>-<env>/<name>`, KMS-encrypted, kept `logRetentionDays`. */
  readonly logGroup: CloudwatchLogGroup;
  /** Lets ECS pull the image, write the log group and read the parameters. */
  readonly executionRole: IamRole;
  /** ECR pull and log writing, on the execution role. */
  readonly executionPolicy: IamRolePolicy;
  /** The parameters lib's read policy, on the execution role. */
  readonly parameterReadPolicy: IamRolePolicy;
  /** The application's role: storage access, ECS Exec, and what the workload adds (task protection, queues). */
  readonly taskRole: IamRole;
  /** The task role's policy; absent when the workload needs no AWS access. */
  readonly taskPolicy?: IamRolePolicy;
  readonly taskDefinition: EcsTaskDefinition;
  readonly service: EcsService;
  /** The writable volumes every container mounts (the root filesystem is read-only). */
  readonly volumes: readonly RuntimeVolume[];
  /** Hard memory limit of each app container, MiB (task memory / containers). */
  readonly containerMemory: number;

  /** `spec` is validated against the environment before anything is created. */
  protected constructor(scope: Construct, id: string, ctx: WorkloadContext, spec: WorkloadSpec) {
    super(scope, id);
    validateSpec(ctx, spec);
    const tags = { ...spec.tags };
    this.serviceName = serviceName(ctx, spec.name);
    this.desiredCount = spec.desiredCount;
    this.logGroup = new CloudwatchLogGroup(this, 'log-group', {
      name: logGroupName(ctx, spec.name),
      ...logGroupRetention(ctx.logRetentionDays),
      kmsKeyId: ctx.kmsKeyArn,
      tags,
    });

    // Execution role: what ECS itself needs to start the task.
    this.executionRole = new IamRole(this, 'execution-role', executionRoleProps(ctx, spec.name, tags));
    this.executionPolicy = new IamRolePolicy(this, 'execution-policy', {
      name: 'pull-and-log',
      role: this.executionRole.id,
      policy: JSON.stringify(policyDocument(executionStatements(ctx, this.logGroup))),
    });
    this.parameterReadPolicy = new IamRolePolicy(this, 'parameter-read-policy', {
      name: 'read-parameters',
      role: this.executionRole.id,
      policy: ctx.parameterReadPolicyJson,
    });

    // Task role: what the application may do.
    this.taskRole = new IamRole(this, 'task-role', taskRoleProps(ctx, spec.name, tags));
    this.taskPolicy = createTaskPolicy(this, this.taskRole, taskStatements(ctx, spec));

    this.volumes = runtimeVolumes(ctx.appRoot, ctx.execLogGroup !== undefined);
    this.containerMemory = Math.floor(spec.memory / spec.containers.length);
    const containers = containerDefinitions(ctx, spec, this.volumes, this.containerMemory, this.logGroup);
    this.taskDefinition = new EcsTaskDefinition(this, 'task-definition', {
      ...taskDefinitionProps(ctx, spec, this.volumes, containers),
      executionRoleArn: this.executionRole.arn,
      taskRoleArn: this.taskRole.arn,
      tags,
    });
    this.service = new EcsService(this, 'service', {
      ...serviceProps(ctx, spec, this.taskDefinition),
      tags,
      // Tasks must not start before the providers exist and the roles can pull and log.
      dependsOn: [ctx.capacityProviders, this.executionPolicy, this.parameterReadPolicy, ...(this.taskPolicy ? [this.taskPolicy] : [])],
      ...(spec.ignoreDesiredCount ? { lifecycle: { ignoreChanges: ['desired_count'] } } : {}),
    });
  }
}

const ARN = /^arn:aws[a-z-]*:/;

/**
 * Checks the shared props once, before anything is created (WorkerService, for
 * every workload it makes); throws with what to fix.
 */
export function validateContext(ctx: WorkloadSettings): void {
  const literal = (v: string) => !Token.isUnresolved(v);
  if (literal(ctx.securityGroupId) && !SECURITY_GROUP_ID.test(ctx.securityGroupId)) {
    throw new Error(`securityGroupId: ${JSON.stringify(ctx.securityGroupId)} is not a security-group id like sg-0123456789abcdef0`);
  }
  if (ctx.subnetIds.length === 0) throw new Error('subnetIds: at least one private subnet is needed');
  for (const id of ctx.subnetIds) {
    if (literal(id) && !SUBNET_ID.test(id)) {
      throw new Error(`subnetIds: ${JSON.stringify(id)} is not a subnet id like subnet-0123456789abcdef0`);
    }
  }
  if (literal(ctx.kmsKeyArn) && !KMS_KEY_ARN.test(ctx.kmsKeyArn)) {
    throw new Error(
      `kmsKeyArn: ${JSON.stringify(ctx.kmsKeyArn)} is not a KMS key ARN like arn:aws:kms:eu-west-2:111111111111:key/<id> (CloudWatch Logs takes no alias)`,
    );
  }
  for (const [name, arn] of Object.entries(ctx.secrets)) {
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) {
      throw new Error(`secrets: ${JSON.stringify(name)} is not an environment-variable name`);
    }
    if (literal(arn) && !(ARN.test(arn) && /:(ssm|secretsmanager):/.test(arn))) {
      throw new Error(`secrets.${name}: ${JSON.stringify(arn)} is not an SSM parameter or Secrets Manager ARN`);
    }
  }
  const policy = ctx.parameterReadPolicyJson;
  // A whole-value token (e.g. a data source's json) is checked by Terraform; literal JSON here.
  if (!(Token.isUnresolved(policy) && !policy.trimStart().startsWith('{'))) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(policy);
    } catch {
      throw new Error("parameterReadPolicyJson: is not valid JSON; pass the parameters lib's read policy document");
    }
    if (!parsed || typeof parsed !== 'object' || !Array.isArray((parsed as { Statement?: unknown }).Statement)) {
      throw new Error('parameterReadPolicyJson: is not an IAM policy document (no Statement list)');
    }
  }
}

/**
 * Environment every workload gets unless a parameter of the same name says
 * otherwise. LOG_CHANNEL stderr: the awslogs driver ships only stdout and stderr,
 * and the lanes' log metric filters (Redis and Aurora errors, failed jobs) read
 * nothing else; libs/config refuses a parameter that would log to a file.
 */
export const WORKLOAD_DEFAULTS: Readonly<Record<string, string>> = { LOG_CHANNEL: 'stderr' };

/**
 * Set on every workload: the digest of the runtime parameters (libs/config), so a
 * changed parameter value makes a new task definition and the services roll onto
 * it. A secret rotated out of band changes nothing here: roll the services then
 * (docs/operations.md, "Runtime parameters and secrets").
 */
export const PARAMETERS_DIGEST_VARIABLE = 'QUEUE_LANES_PARAMETERS_DIGEST';

/** What every workload's containers get: the defaults and the parameters' digest. */
export function workloadDefaults(settings: Pick<WorkloadSettings, 'parametersDigest'>): Record<string, string> {
  return { ...WORKLOAD_DEFAULTS, [PARAMETERS_DIGEST_VARIABLE]: settings.parametersDigest };
}

/** Names the container sets that a parameter may override (a secret of the same name wins). */
const OVERRIDABLE = new Set(['APP_ENV', ...Object.keys(WORKLOAD_DEFAULTS)]);

/** Checks one workload's spec (names that IAM or ECS would reject). */
export function validateSpec(ctx: Pick<WorkloadSettings, 'app' | 'environment' | 'secrets'>, spec: WorkloadSpec): void {
  const { secrets } = ctx;
  for (const kind of ['execution', 'task'] as const) {
    const name = roleName(ctx, spec.name, kind);
    if (name.length > MAX_ROLE_NAME) {
      throw new Error(
        `${spec.name}: the IAM role name ${name} is ${name.length} characters; IAM allows ${MAX_ROLE_NAME}: shorten the app, environment or lane name`,
      );
    }
  }
  for (const name of Object.keys(spec.environment)) {
    if (Object.hasOwn(secrets, name) && !OVERRIDABLE.has(name)) {
      throw new Error(
        `secrets.${name}: the container sets ${name} itself (to ${JSON.stringify(spec.environment[name])}); rename the parameter`,
      );
    }
  }
}

/** The execution role: ECS itself assumes it to start the task. */
function executionRoleProps(env: WorkloadPlace, name: string, tags: Record<string, string>): IamRoleConfig {
  return {
    name: roleName(env, name, 'execution'),
    description: `ECS pulls the image, writes ${logGroupName(env, name)} and reads the parameters for ${serviceName(env, name)}`,
    assumeRolePolicy: JSON.stringify(ecsTasksTrustPolicy()),
    tags,
  };
}

/** Pulling the image (from ECR, when the repository is there) and writing the workload's log group. */
function executionStatements(env: Pick<WorkloadSettings, 'image'>, logGroup: CloudwatchLogGroup): PolicyStatement[] {
  const repositoryArn = ecrRepositoryArn(env.image.repository);
  return [
    ...(repositoryArn
      ? [
          {
            Sid: 'PullImage',
            Effect: 'Allow' as const,
            Action: ['ecr:BatchCheckLayerAvailability', 'ecr:BatchGetImage', 'ecr:GetDownloadUrlForLayer'],
            Resource: repositoryArn,
          },
          {
            // GetAuthorizationToken has no resource type: "*" is the only valid Resource.
            Sid: 'RegistryLogin',
            Effect: 'Allow' as const,
            Action: 'ecr:GetAuthorizationToken',
            Resource: '*',
          },
        ]
      : []),
    writeLogStreams('WriteLogs', logGroup.arn),
  ];
}

/** The task role: the application assumes it, from this environment's tasks only. */
function taskRoleProps(env: WorkloadPlace, name: string, tags: Record<string, string>): IamRoleConfig {
  return {
    name: roleName(env, name, 'task'),
    description: `The application in ${serviceName(env, name)}`,
    assumeRolePolicy: JSON.stringify(
      ecsTasksTrustPolicy({ partition: partitionOf(env.region), region: env.region, accounts: [...env.allowedAccountIds] }),
    ),
    tags,
  };
}

/** What the application may do: storage, what the workload adds, and ECS Exec when it is on. */
function taskStatements(ctx: WorkloadContext, spec: WorkloadSpec): PolicyStatement[] {
  const partition = partitionOf(ctx.region);
  return [
    ...storageStatements(ctx.storage, partition),
    ...spec.taskStatements,
    ...(ctx.execLogGroup ? ecsExecStatements(ctx, partition, [...ctx.allowedAccountIds], ctx.kmsKeyArn, ctx.execLogGroup) : []),
  ];
}

/** The task role's policy, or none when the application needs no AWS access. */
function createTaskPolicy(scope: Construct, taskRole: IamRole, statements: PolicyStatement[]): IamRolePolicy | undefined {
  if (statements.length === 0) return undefined;
  return new IamRolePolicy(scope, 'task-policy', {
    name: 'application',
    role: taskRole.id,
    policy: JSON.stringify(policyDocument(statements)),
  });
}

/**
 * The init container and one app container per spec container; throws at the
 * spec's `containersKey` when they would not fit in a task definition.
 */
function containerDefinitions(
  ctx: WorkloadContext,
  spec: WorkloadSpec,
  volumes: readonly RuntimeVolume[],
  memory: number,
  logGroup: CloudwatchLogGroup,
): object[] {
  const image = imageReference(ctx.image.repository, ctx.image.tag);
  const logs = { group: logGroup.name, region: ctx.region, streamPrefix: spec.name };
  const environment = Object.fromEntries(Object.entries(spec.environment).filter(([name]) => !Object.hasOwn(ctx.secrets, name)));
  const containers = [
    initContainer(image, ctx.user, volumes, logs, spec.worker !== undefined),
    ...spec.containers.map(({ name, command }) =>
      appContainer({
        name,
        image,
        command,
        ...(spec.worker ? { worker: spec.worker } : {}),
        user: ctx.user,
        appRoot: ctx.appRoot,
        memory,
        stopTimeout: spec.stopTimeout,
        environment,
        secrets: ctx.secrets,
        volumes,
        logs,
      }),
    ),
  ];
  checkDefinitionSize(ctx, spec, containers);
  return containers;
}

/** Throws at the spec's `containersKey` when the container definitions pass what ECS accepts. */
function checkDefinitionSize(env: Pick<WorkloadSettings, 'app' | 'environment'>, spec: WorkloadSpec, containers: readonly object[]): void {
  const definitionBytes = Buffer.byteLength(JSON.stringify(containers), 'utf8');
  if (definitionBytes > TASK_DEFINITION_BYTES) {
    throw new SettingError(
      spec.containersKey,
      `the task definition of ${serviceName(env, spec.name)} would hold ${definitionBytes} bytes of container definitions (${spec.containers.length} worker containers of ${Math.ceil(definitionBytes / containers.length)} bytes each), over the ${TASK_DEFINITION_BYTES} bytes ECS accepts in a task definition; run fewer processes per task (and more tasks), or fewer parameters`,
    );
  }
}

/** A Fargate task definition of the spec's size and architecture, over the given containers (roles and tags added by the caller). */
function taskDefinitionProps(
  env: Pick<WorkloadSettings, 'app' | 'environment'>,
  spec: WorkloadSpec,
  volumes: readonly RuntimeVolume[],
  containers: readonly object[],
): EcsTaskDefinitionConfig {
  return {
    family: taskFamily(env, spec.name),
    requiresCompatibilities: ['FARGATE'],
    networkMode: 'awsvpc',
    cpu: String(spec.cpu),
    memory: String(spec.memory),
    runtimePlatform: {
      operatingSystemFamily: 'LINUX',
      cpuArchitecture: spec.architecture === 'arm64' ? 'ARM64' : 'X86_64',
    },
    volume: volumes.map((v) => ({ name: v.name })),
    containerDefinitions: JSON.stringify(containers),
  };
}

/** The service in the cluster's private subnets, rolled back by the circuit breaker (tags, dependencies and lifecycle added by the caller). */
function serviceProps(ctx: WorkloadContext, spec: WorkloadSpec, taskDefinition: EcsTaskDefinition): EcsServiceConfig {
  return {
    name: serviceName(ctx, spec.name),
    cluster: ctx.cluster.arn,
    taskDefinition: taskDefinition.arn,
    desiredCount: spec.desiredCount,
    platformVersion: 'LATEST',
    capacityProviderStrategy: spec.capacity.map((c) => ({ capacityProvider: c.provider, base: c.base, weight: c.weight })),
    networkConfiguration: {
      subnets: [...ctx.subnetIds],
      securityGroups: [ctx.securityGroupId],
      assignPublicIp: false,
    },
    deploymentCircuitBreaker: { enable: true, rollback: true },
    deploymentMinimumHealthyPercent: spec.minimumHealthyPercent,
    deploymentMaximumPercent: spec.maximumPercent,
    enableExecuteCommand: ctx.execLogGroup !== undefined,
    propagateTags: 'SERVICE',
    enableEcsManagedTags: true,
  };
}

/** Read, write and delete under the configured bucket prefix (runtime.storage). */
function storageStatements(storage: WorkloadStorage | undefined, partition: string): PolicyStatement[] {
  if (!storage) return [];
  const bucket = `arn:${partition}:s3:::${storage.bucket}`;
  return [
    {
      Sid: 'ListStoragePrefix',
      Effect: 'Allow',
      Action: 's3:ListBucket',
      Resource: bucket,
      ...(storage.prefix ? { Condition: { StringLike: { 's3:prefix': [`${storage.prefix}*`] } } } : {}),
    },
    {
      Sid: 'UseStorageObjects',
      Effect: 'Allow',
      Action: ['s3:AbortMultipartUpload', 's3:DeleteObject', 's3:GetObject', 's3:PutObject'],
      Resource: `${bucket}/${storage.prefix}*`,
    },
  ];
}

/** What the SSM agent inside a container needs for ECS Exec sessions, logged to the session log group. */
function ecsExecStatements(
  env: Pick<WorkloadSettings, 'region'>,
  partition: string,
  accounts: readonly string[],
  kmsKeyArn: string,
  execLogGroup: CloudwatchLogGroup,
): PolicyStatement[] {
  return [
    {
      // The Session Manager channel actions have no resource type: "*" is the only valid Resource.
      Sid: 'EcsExecChannels',
      Effect: 'Allow',
      Action: [
        'ssmmessages:CreateControlChannel',
        'ssmmessages:CreateDataChannel',
        'ssmmessages:OpenControlChannel',
        'ssmmessages:OpenDataChannel',
      ],
      Resource: '*',
    },
    {
      Sid: 'EcsExecFindLogGroup',
      Effect: 'Allow',
      Action: 'logs:DescribeLogGroups',
      Resource: accounts.map((a) => `arn:${partition}:logs:${env.region}:${a}:log-group:*`),
    },
    writeLogStreams('EcsExecWriteSessionLogs', execLogGroup.arn),
    {
      Sid: 'EcsExecDecryptSessions',
      Effect: 'Allow',
      Action: 'kms:Decrypt',
      Resource: kmsKeyArn,
    },
  ];
}

/** `arn:…:ecs:<region>:<account>:task/<cluster>/*` for each allowed account. */
export function clusterTaskArns(env: WorkloadPlace): string[] {
  const partition = partitionOf(env.region);
  return env.allowedAccountIds.map((a) => `arn:${partition}:ecs:${env.region}:${a}:task/${clusterName(env)}/*`);
}
