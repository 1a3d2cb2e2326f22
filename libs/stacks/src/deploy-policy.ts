/*
 * The least-privilege policy that deploying one stack needs, for the role CI or a
 * Terraform Cloud workspace assumes: what the AWS provider calls to create, read,
 * update, tag and delete each resource type the stack holds, on the environment's
 * own names only, plus the stack's state and the states it reads.
 *
 * The actions are the calls the provider makes: the deploy rehearsal records every
 * call each stack's provider makes against moto (apply, plan, rollback, destroy) and
 * fails when one is not granted here. Resources are the environment's names from
 * libs/config; what AWS names at random (security groups, KMS keys) is scoped by the
 * environment's tags, and the few actions IAM only grants on "*" are listed as such.
 */
import {
  alarmTopicName,
  cloudWorkspaceName,
  clusterName,
  controllerName,
  parameterPathPrefix,
  stackName,
  type EnvironmentConfig,
  type StackRole,
} from '@queue-lanes/config';
import { partitionOf, policyDocument, type PolicyDocument, type PolicyStatement } from '@queue-lanes/iam-policy';

/** IAM's limit on a managed policy, in characters without whitespace. */
export const MAX_MANAGED_POLICY_CHARACTERS = 6144;

/** The parts of a synthesized stack (cdk.tf.json) the policy is derived from. */
export interface SynthesizedStack {
  readonly resource?: Readonly<Record<string, unknown>>;
  readonly data?: Readonly<Record<string, unknown>>;
  readonly terraform?: { readonly backend?: Readonly<Record<string, Readonly<Record<string, unknown>>>> };
}

type Scope =
  | 'any'
  | 'securityGroups'
  | 'vpc'
  | 'parameters'
  | 'kmsKeys'
  | 'kmsAliases'
  | 'cluster'
  | 'services'
  | 'taskDefinitions'
  | 'roles'
  | 'logGroups'
  | 'lambda'
  | 'permittedFunctions'
  | 'queues'
  | 'topics'
  | 'rules'
  | 'schedules'
  | 'alarms'
  | 'dashboards';

/** What the provider calls for one resource or data source type, by where it may call it. */
type Grants = Partial<Record<Scope, readonly string[]>>;

const TAGGING = (service: string) => [`${service}:TagResource`, `${service}:UntagResource`];

const SECURITY_GROUP_RULES: Grants = {
  securityGroups: [
    'ec2:AuthorizeSecurityGroupEgress',
    'ec2:AuthorizeSecurityGroupIngress',
    'ec2:CreateTags',
    'ec2:DeleteTags',
    'ec2:ModifySecurityGroupRules',
    'ec2:RevokeSecurityGroupEgress',
    'ec2:RevokeSecurityGroupIngress',
  ],
  any: ['ec2:DescribeSecurityGroupRules', 'ec2:DescribeSecurityGroups'],
};

const ROLE_POLICIES: Grants = { roles: ['iam:DeleteRolePolicy', 'iam:GetRolePolicy', 'iam:PutRolePolicy'] };

/**
 * Resource and data source types → grants. A type missing here fails the policy
 * (and so synth): every type a stack gains must say what deploying it needs.
 * Reads are what the provider was seen to call (every plan refreshes); writes
 * include the update paths a rehearsal does not take, and each service's tag
 * actions, which AWS checks when a resource is created with tags (moto does not).
 */
const TYPE_GRANTS: Readonly<Record<string, Grants>> = {
  aws_security_group: {
    securityGroups: [
      'ec2:AuthorizeSecurityGroupEgress',
      'ec2:CreateTags',
      'ec2:DeleteSecurityGroup',
      'ec2:DeleteTags',
      'ec2:RevokeSecurityGroupEgress',
      'ec2:RevokeSecurityGroupIngress',
    ],
    vpc: ['ec2:CreateSecurityGroup'],
    any: ['ec2:DescribeNetworkInterfaces', 'ec2:DescribeSecurityGroups'],
  },
  aws_vpc_security_group_ingress_rule: SECURITY_GROUP_RULES,
  aws_vpc_security_group_egress_rule: SECURITY_GROUP_RULES,
  aws_ssm_parameter: {
    parameters: [
      'ssm:AddTagsToResource',
      'ssm:DeleteParameter',
      'ssm:GetParameter',
      'ssm:ListTagsForResource',
      'ssm:PutParameter',
      'ssm:RemoveTagsFromResource',
    ],
    any: ['ssm:DescribeParameters'],
  },
  aws_kms_key: {
    kmsKeys: [
      'kms:DescribeKey',
      'kms:EnableKeyRotation',
      'kms:GetKeyPolicy',
      'kms:GetKeyRotationStatus',
      'kms:ListResourceTags',
      'kms:PutKeyPolicy',
      'kms:ScheduleKeyDeletion',
      'kms:TagResource',
      'kms:UntagResource',
      'kms:UpdateKeyDescription',
    ],
    any: ['kms:CreateKey'],
  },
  aws_kms_alias: {
    kmsAliases: ['kms:CreateAlias', 'kms:DeleteAlias', 'kms:UpdateAlias'],
    kmsKeys: ['kms:CreateAlias', 'kms:DeleteAlias', 'kms:UpdateAlias'],
    any: ['kms:ListAliases'],
  },
  aws_ecs_cluster: {
    cluster: [
      'ecs:CreateCluster',
      'ecs:DeleteCluster',
      'ecs:DescribeClusters',
      'ecs:UpdateCluster',
      'ecs:TagResource',
      'ecs:UntagResource',
    ],
  },
  aws_ecs_cluster_capacity_providers: { cluster: ['ecs:DescribeClusters', 'ecs:PutClusterCapacityProviders'] },
  aws_ecs_task_definition: {
    taskDefinitions: ['ecs:TagResource', 'ecs:UntagResource'],
    // IAM grants these three on "*" only.
    any: ['ecs:DeregisterTaskDefinition', 'ecs:DescribeTaskDefinition', 'ecs:RegisterTaskDefinition'],
    roles: ['iam:PassRole'],
  },
  aws_ecs_service: {
    services: [
      'ecs:CreateService',
      'ecs:DeleteService',
      'ecs:DescribeServices',
      'ecs:UpdateService',
      'ecs:TagResource',
      'ecs:UntagResource',
    ],
    roles: ['iam:PassRole'],
  },
  aws_iam_role: {
    roles: [
      'iam:CreateRole',
      'iam:DeleteRole',
      'iam:GetRole',
      'iam:ListAttachedRolePolicies',
      'iam:ListInstanceProfilesForRole',
      'iam:ListRolePolicies',
      'iam:TagRole',
      'iam:UntagRole',
      'iam:UpdateAssumeRolePolicy',
      'iam:UpdateRole',
      'iam:UpdateRoleDescription',
    ],
  },
  aws_iam_role_policy: ROLE_POLICIES,
  aws_cloudwatch_log_group: {
    // No logs:DeleteLogGroup: every log group outlives its resource (skip_destroy), so deleting one is never a deploy's job.
    logGroups: [
      'logs:AssociateKmsKey',
      'logs:CreateLogGroup',
      'logs:DeleteRetentionPolicy',
      'logs:DisassociateKmsKey',
      'logs:ListTagsForResource',
      'logs:PutRetentionPolicy',
      'logs:TagResource',
      'logs:UntagResource',
    ],
    any: ['logs:DescribeLogGroups'],
  },
  aws_cloudwatch_log_metric_filter: {
    logGroups: ['logs:DeleteMetricFilter', 'logs:DescribeMetricFilters', 'logs:PutMetricFilter'],
    any: ['logs:DescribeMetricFilters'],
  },
  // Resource policies are account-wide, with no ARN of their own.
  aws_cloudwatch_log_resource_policy: { any: ['logs:DeleteResourcePolicy', 'logs:DescribeResourcePolicies', 'logs:PutResourcePolicy'] },
  aws_cloudwatch_metric_alarm: {
    alarms: [
      'cloudwatch:DeleteAlarms',
      'cloudwatch:DescribeAlarms',
      'cloudwatch:ListTagsForResource',
      'cloudwatch:PutMetricAlarm',
      ...TAGGING('cloudwatch'),
    ],
  },
  aws_cloudwatch_dashboard: { dashboards: ['cloudwatch:DeleteDashboards', 'cloudwatch:GetDashboard', 'cloudwatch:PutDashboard'] },
  aws_cloudwatch_event_rule: {
    rules: ['events:DeleteRule', 'events:DescribeRule', 'events:ListTagsForResource', 'events:PutRule', ...TAGGING('events')],
  },
  aws_cloudwatch_event_target: { rules: ['events:ListTargetsByRule', 'events:PutTargets', 'events:RemoveTargets'] },
  aws_lambda_function: {
    lambda: [
      'lambda:CreateFunction',
      'lambda:DeleteFunction',
      'lambda:GetFunction',
      'lambda:GetFunctionCodeSigningConfig',
      'lambda:ListVersionsByFunction',
      'lambda:PutFunctionConcurrency',
      'lambda:DeleteFunctionConcurrency',
      'lambda:UpdateFunctionCode',
      'lambda:UpdateFunctionConfiguration',
      ...TAGGING('lambda'),
    ],
    roles: ['iam:PassRole'],
  },
  // Who may invoke a function: the wake-up roles on the controller, the alarm topic on a subscriber's own function.
  aws_lambda_permission: { permittedFunctions: ['lambda:AddPermission', 'lambda:GetPolicy', 'lambda:RemovePermission'] },
  aws_lambda_function_event_invoke_config: {
    lambda: [
      'lambda:DeleteFunctionEventInvokeConfig',
      'lambda:GetFunctionEventInvokeConfig',
      'lambda:PutFunctionEventInvokeConfig',
      'lambda:UpdateFunctionEventInvokeConfig',
    ],
  },
  aws_scheduler_schedule: {
    schedules: ['scheduler:CreateSchedule', 'scheduler:DeleteSchedule', 'scheduler:GetSchedule', 'scheduler:UpdateSchedule'],
    roles: ['iam:PassRole'],
  },
  aws_sns_topic: {
    topics: [
      'sns:CreateTopic',
      'sns:DeleteTopic',
      'sns:GetTopicAttributes',
      'sns:ListTagsForResource',
      'sns:SetTopicAttributes',
      ...TAGGING('sns'),
    ],
  },
  aws_sns_topic_subscription: {
    // ListSubscriptionsByTopic: the provider finds a subscription still pending confirmation (email, https) by listing the topic's.
    topics: [
      'sns:GetSubscriptionAttributes',
      'sns:ListSubscriptionsByTopic',
      'sns:SetSubscriptionAttributes',
      'sns:Subscribe',
      'sns:Unsubscribe',
    ],
  },
  aws_sqs_queue: {
    queues: [
      'sqs:CreateQueue',
      'sqs:DeleteQueue',
      'sqs:GetQueueAttributes',
      'sqs:ListQueueTags',
      'sqs:SetQueueAttributes',
      'sqs:TagQueue',
      'sqs:UntagQueue',
    ],
  },
  aws_sqs_queue_redrive_allow_policy: { queues: ['sqs:GetQueueAttributes', 'sqs:SetQueueAttributes'] },
  aws_sqs_queue_redrive_policy: { queues: ['sqs:GetQueueAttributes', 'sqs:SetQueueAttributes'] },
  aws_caller_identity: { any: ['sts:GetCallerIdentity'] },
  aws_partition: {},
  terraform_remote_state: {},
};

/** What every stack's provider calls, whatever the stack holds: the account id, at start. */
const PROVIDER_GRANTS: Grants = { any: ['sts:GetCallerIdentity'] };

/**
 * Calls the provider makes that the policy leaves out on purpose, with why: the
 * deploy rehearsal accepts these ungranted.
 */
export const UNGRANTED_CALLS: Readonly<Record<string, string>> = {
  'iam:GetUser':
    'the provider tries it first for the account id; for a role session it fails whatever the policy says, and the provider goes on with sts:GetCallerIdentity',
};

/** One deploy policy per stack of the environment, by role. */
export function deployPolicies(
  env: EnvironmentConfig,
  stacks: Readonly<Record<StackRole, SynthesizedStack>>,
): Record<StackRole, PolicyDocument> {
  return Object.fromEntries(Object.entries(stacks).map(([role, stack]) => [role, deployPolicy(env, role as StackRole, stack)])) as Record<
    StackRole,
    PolicyDocument
  >;
}

/** What deploying one stack needs (see the module comment). */
export function deployPolicy(env: EnvironmentConfig, role: StackRole, stack: SynthesizedStack): PolicyDocument {
  const types = [...Object.keys(stack.resource ?? {}), ...Object.keys(stack.data ?? {})].sort();
  const missing = types.filter((type) => !(type in TYPE_GRANTS));
  if (missing.length > 0) {
    throw new Error(
      `${stackName(env, role)}: no deploy permissions are known for ${missing.join(', ')}; add what the provider calls for them to TYPE_GRANTS in libs/stacks/src/deploy-policy.ts`,
    );
  }
  const byScope = new Map<Scope, Set<string>>();
  for (const grants of [PROVIDER_GRANTS, ...types.map((type) => TYPE_GRANTS[type])]) {
    for (const [scope, actions] of Object.entries(grants) as [Scope, readonly string[]][]) {
      const set = byScope.get(scope) ?? new Set<string>();
      actions.forEach((a) => set.add(a));
      byScope.set(scope, set);
    }
  }
  const statements: PolicyStatement[] = [];
  const order = Object.keys(SCOPES) as Scope[];
  for (const scope of order) {
    const actions = byScope.get(scope);
    if (!actions || actions.size === 0) continue;
    statements.push({ Sid: SCOPES[scope].sid, Effect: 'Allow', Action: [...actions].sort(), ...SCOPES[scope].where(env) });
  }
  statements.push(...stateStatements(env, stack));
  return policyDocument(statements);
}

/**
 * A policy cut into documents of at most `limit` characters (IAM counts them
 * without whitespace), whole statements each, in order: the managed policies
 * the deploy role attaches. Throws when a single statement is over the limit.
 */
export function splitPolicy(policy: PolicyDocument, limit = MAX_MANAGED_POLICY_CHARACTERS): PolicyDocument[] {
  const size = (statements: readonly PolicyStatement[]) => JSON.stringify(policyDocument(statements)).length;
  const parts: PolicyStatement[][] = [[]];
  for (const statement of policy.Statement) {
    if (size([statement]) > limit)
      throw new Error(`deploy policy statement ${statement.Sid ?? ''} alone is over IAM's ${limit} characters`);
    const current = parts[parts.length - 1];
    if (size([...current, statement]) > limit) parts.push([statement]);
    else current.push(statement);
  }
  return parts.map((statements) => policyDocument(statements));
}

interface Where {
  readonly Resource: string | readonly string[];
  readonly Condition?: PolicyStatement['Condition'];
}

const arns = (env: EnvironmentConfig, service: string, resource: string, global = false): string[] =>
  env.allowedAccountIds.map((account) => `arn:${partitionOf(env.region)}:${service}:${global ? '' : env.region}:${account}:${resource}`);

/** What AWS names at random carries the environment's default tags; these pin it. */
const TAGGED = (env: EnvironmentConfig, key: 'aws:ResourceTag' | 'aws:RequestTag') => ({
  StringEquals: { [`${key}/app`]: env.app, [`${key}/environment`]: env.environment },
});

const SCOPES: Readonly<Record<Scope, { readonly sid: string; readonly where: (env: EnvironmentConfig) => Where }>> = {
  any: { sid: 'OnlyGrantedOnAnyResource', where: () => ({ Resource: '*' }) },
  vpc: {
    sid: 'CreateSecurityGroupsInTheVpc',
    where: (env) => ({ Resource: [...arns(env, 'ec2', `vpc/${env.network.vpcId}`), ...arns(env, 'ec2', 'security-group/*')] }),
  },
  securityGroups: {
    sid: 'SecurityGroupsOfTheEnvironment',
    // The Redis and Aurora groups are the application's: the networking stack only adds rules to them.
    where: (env) => ({
      Resource: [
        ...arns(env, 'ec2', `security-group/${env.network.redis.securityGroupId}`),
        ...arns(env, 'ec2', `security-group/${env.network.aurora.securityGroupId}`),
        ...arns(env, 'ec2', 'security-group/*'),
        ...arns(env, 'ec2', 'security-group-rule/*'),
      ],
    }),
  },
  parameters: {
    sid: 'ParametersOfTheEnvironment',
    where: (env) => ({ Resource: arns(env, 'ssm', `parameter${parameterPathPrefix(env)}/*`) }),
  },
  kmsKeys: {
    sid: 'KeysTaggedForTheEnvironment',
    where: (env) => ({ Resource: arns(env, 'kms', 'key/*'), Condition: TAGGED(env, 'aws:ResourceTag') }),
  },
  kmsAliases: { sid: 'KeyAliasesOfTheEnvironment', where: (env) => ({ Resource: arns(env, 'kms', `alias/${clusterName(env)}*`) }) },
  cluster: { sid: 'TheCluster', where: (env) => ({ Resource: arns(env, 'ecs', `cluster/${clusterName(env)}`) }) },
  services: { sid: 'ServicesInTheCluster', where: (env) => ({ Resource: arns(env, 'ecs', `service/${clusterName(env)}/*`) }) },
  taskDefinitions: {
    sid: 'TaskDefinitionsOfTheEnvironment',
    where: (env) => ({ Resource: arns(env, 'ecs', `task-definition/${clusterName(env)}-*:*`) }),
  },
  roles: { sid: 'RolesOfTheEnvironment', where: (env) => ({ Resource: arns(env, 'iam', `role/${clusterName(env)}-*`, true) }) },
  logGroups: {
    sid: 'LogGroupsOfTheEnvironment',
    where: (env) => ({
      // A trailing * also covers the groups' `:*` (log stream) form.
      Resource: [
        `/ecs/${clusterName(env)}/*`,
        `/aws/lambda/${controllerName(env)}`,
        `/aws/lambda/${controllerName(env)}:*`,
        `/aws/events/${clusterName(env)}/*`,
      ].flatMap((group) => arns(env, 'logs', `log-group:${group}`)),
    }),
  },
  lambda: { sid: 'TheController', where: (env) => ({ Resource: arns(env, 'lambda', `function:${controllerName(env)}`) }) },
  permittedFunctions: {
    sid: 'FunctionsTheEnvironmentLetsInvoke',
    where: (env) => ({
      Resource: [
        ...arns(env, 'lambda', `function:${controllerName(env)}`),
        // A subscriber in one of the environment's accounts gets the topic's permission (libs/observability alarm-topic).
        ...env.alarms.subscriptions
          .filter((sub) => sub.protocol === 'lambda' && env.allowedAccountIds.includes(sub.endpoint.split(':')[4]))
          .flatMap((sub) => {
            const fn = sub.endpoint.split(':').slice(0, 7).join(':');
            return [fn, `${fn}:*`];
          }),
      ].filter((arn, index, all) => all.indexOf(arn) === index),
    }),
  },
  queues: { sid: 'QueuesOfTheEnvironment', where: (env) => ({ Resource: arns(env, 'sqs', `${clusterName(env)}-*`) }) },
  topics: { sid: 'TheAlarmTopic', where: (env) => ({ Resource: arns(env, 'sns', alarmTopicName(env)) }) },
  rules: { sid: 'EventRulesOfTheEnvironment', where: (env) => ({ Resource: arns(env, 'events', `rule/${clusterName(env)}-*`) }) },
  schedules: {
    sid: 'TheControllerSchedule',
    where: (env) => ({ Resource: arns(env, 'scheduler', `schedule/default/${controllerName(env)}`) }),
  },
  alarms: { sid: 'AlarmsOfTheEnvironment', where: (env) => ({ Resource: arns(env, 'cloudwatch', `alarm:${clusterName(env)}-*`) }) },
  dashboards: { sid: 'TheDashboard', where: (env) => ({ Resource: arns(env, 'cloudwatch', `dashboard/${clusterName(env)}-*`, true) }) },
};

/**
 * Who may assume the stack's deploy role with Terraform Cloud's dynamic
 * credentials: runs (plan and apply) of that stack's workspace only, through the
 * account's OIDC provider for state.hostname. Undefined unless state.backend is cloud.
 */
export function terraformCloudTrustPolicy(env: EnvironmentConfig, role: StackRole): PolicyDocument | undefined {
  const state = env.state;
  if (state.backend !== 'cloud') return undefined;
  const host = state.hostname;
  const subject = `organization:${state.organization}:project:${state.project ?? '*'}:workspace:${cloudWorkspaceName(state, role)}:run_phase:*`;
  return policyDocument(
    env.allowedAccountIds.map((account) => ({
      Effect: 'Allow',
      Principal: { Federated: `arn:${partitionOf(env.region)}:iam::${account}:oidc-provider/${host}` },
      Action: 'sts:AssumeRoleWithWebIdentity',
      Condition: { StringEquals: { [`${host}:aud`]: 'aws.workload.identity' }, StringLike: { [`${host}:sub`]: subject } },
    })),
  );
}

/** Reading and writing the stack's own state, and reading the states it depends on (S3 backend). */
function stateStatements(env: EnvironmentConfig, stack: SynthesizedStack): PolicyStatement[] {
  const s3 = stack.terraform?.backend?.s3;
  if (!s3 || env.state.backend !== 's3') return [];
  const p = partitionOf(env.region);
  const bucket = `arn:${p}:s3:::${String(s3.bucket)}`;
  const key = String(s3.key);
  const reads = Object.values((stack.data?.terraform_remote_state ?? {}) as Record<string, { config?: { key?: string } }>)
    .map((remote) => remote.config?.key)
    .filter((k): k is string => typeof k === 'string');
  const statements: PolicyStatement[] = [
    {
      Sid: 'ListTheStateBucket',
      Effect: 'Allow',
      Action: ['s3:ListBucket'],
      Resource: bucket,
      Condition: { StringLike: { 's3:prefix': [key, `${key}.tflock`] } },
    },
    {
      Sid: 'WriteThisState',
      Effect: 'Allow',
      Action: ['s3:DeleteObject', 's3:GetObject', 's3:PutObject'],
      Resource: [`${bucket}/${key}`, `${bucket}/${key}.tflock`],
    },
  ];
  if (reads.length > 0)
    statements.push({
      Sid: 'ReadTheStatesItDependsOn',
      Effect: 'Allow',
      Action: ['s3:GetObject'],
      Resource: reads.map((k) => `${bucket}/${k}`),
    });
  if (env.state.backend === 's3' && env.state.dynamodbTable) {
    statements.push({
      Sid: 'LockThisState',
      Effect: 'Allow',
      Action: ['dynamodb:DeleteItem', 'dynamodb:GetItem', 'dynamodb:PutItem'],
      Resource: env.allowedAccountIds.map(
        (a) => `arn:${p}:dynamodb:${String(s3.region ?? env.region)}:${a}:table/${String(s3.dynamodb_table)}`,
      ),
    });
  }
  if (env.state.backend === 's3' && env.state.kmsKeyId) statements.push(stateKeyStatement(env, env.state.kmsKeyId, env.state.region));
  return statements;
}

/**
 * Using the state's KMS key (S3 calls it on the deploy role's behalf). IAM grants a
 * key's use by its key ARN only: an alias ARN in Resource names the alias, not the key
 * behind it, so a grant on it lets no one encrypt or decrypt (AWS KMS developer guide,
 * "Specifying KMS keys in IAM policy statements" and "Use aliases to control access to
 * KMS keys"). A key given by alias is granted as those pages say: any key of the
 * alias's account and region that carries the alias (kms:ResourceAliases).
 */
function stateKeyStatement(env: EnvironmentConfig, id: string, stateRegion: string): PolicyStatement {
  const use = { Sid: 'EncryptTheState', Effect: 'Allow', Action: ['kms:Decrypt', 'kms:Encrypt', 'kms:GenerateDataKey'] } as const;
  const alias = /(?:^|:)(alias\/.+)$/.exec(id)?.[1];
  if (alias === undefined) return { ...use, Resource: [id] };
  // alias/<name> is the state region's alias in each account; an alias ARN names its own.
  const [, partition, , region, account] = id.startsWith('arn:') ? id.split(':') : [];
  return {
    ...use,
    Resource: (account ? [account] : env.allowedAccountIds).map(
      (a) => `arn:${partition ?? partitionOf(stateRegion)}:kms:${region ?? stateRegion}:${a}:key/*`,
    ),
    Condition: { 'ForAnyValue:StringEquals': { 'kms:ResourceAliases': alias } },
  };
}
