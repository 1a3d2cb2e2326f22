// Types of the matchers tools/jest-setup.ts installs (Testing.setupJest()).
import type {} from 'cdktf/lib/testing/adapters/jest';
import { CONTROLLER_CONFIG_ENV, parseControllerConfig, type ControllerConfigInput } from '@queue-lanes/contract';
import { LambdaFunction } from '@cdktf/provider-aws/lib/lambda-function';
import { TerraformStack, Testing, Token } from 'cdktf';
import { Construct } from 'constructs';
import { isAbsolute } from 'node:path';
import { BacklogControllerFunction, type BacklogControllerFunctionProps } from './backlog-controller-function';
import {
  ACCOUNT,
  CONTROLLER_SG,
  KEY,
  PARAM,
  SUBNETS,
  fixtureArchive,
  list,
  one,
  ref,
  resources,
  statements,
  type Json,
  type Resource,
} from './testing/fixtures';

/*
 * The function built from small props: a configuration written out as the contract's
 * input (how the environment maps to it is controller-config.test.ts's), literal service ARNs.
 */
const WEB_ROLE = `arn:aws:iam::${ACCOUNT}:role/propertyfeed-web`;
const SERVICE = (lane: string) => `arn:aws:ecs:eu-west-2:${ACCOUNT}:service/propertyfeed-staging/propertyfeed-${lane}`;
const CONFIG: ControllerConfigInput = {
  cluster: 'propertyfeed-staging',
  environment: 'staging',
  fleetMaxTasks: 8,
  reservedTasks: 1,
  redis: {
    host: 'queues.cache.internal',
    keyPrefix: 'propertyfeed_database_',
    authParameterName: '/propertyfeed/staging/env/REDIS_PASSWORD',
  },
  lanes: [
    { name: 'image', service: 'propertyfeed-image', queues: ['image'], min: 1, max: 3, backlogPerTask: 50, priority: 1 },
    { name: 'sync', service: 'propertyfeed-sync', queues: ['sync'], min: 0, max: 1, backlogPerTask: 50, priority: 10 },
    { name: 'bulk', service: 'propertyfeed-bulk', queues: ['bulk'], sized: false, min: 0, max: 2, backlogPerTask: 50, priority: 30 },
  ],
};
const PROPS: BacklogControllerFunctionProps = {
  app: 'propertyfeed',
  environment: 'staging',
  region: 'eu-west-2',
  controllerConfig: CONFIG,
  logRetentionInDays: 400,
  wakeInvokerRoleArns: [WEB_ROLE],
  serviceArns: { image: SERVICE('image'), sync: SERVICE('sync') },
  securityGroupId: CONTROLLER_SG,
  subnetIds: SUBNETS,
  kmsKeyArn: KEY,
  redisAuthParameterArn: PARAM('REDIS_PASSWORD'),
  archive: fixtureArchive(),
};

/** The function of `props` alone in a stack (under `scaling`, as the scaling construct places it), synthesized. */
function synth(props: Partial<BacklogControllerFunctionProps> = {}): { json: Json; text: string; controller: BacklogControllerFunction } {
  const stack = new TerraformStack(Testing.app(), 'test');
  const controller = new BacklogControllerFunction(new Construct(stack, 'scaling'), 'controller', { ...PROPS, ...props });
  const text = Testing.synth(stack);
  return { json: JSON.parse(text) as Json, text, controller };
}

const s = synth();
const { json, controller } = s;
const fn = one(json, 'aws_lambda_function');
const account = '${data.aws_caller_identity.scaling_controller_account_511873F1.account_id}';
const dlqArn = ref(controller.deadLetterQueue, 'arn');
const functionArn = ref(controller.function, 'arn');

describe('the controller function', () => {
  it('is <app>-<env>-backlog-controller on Node.js 22 with the bundled handler', () => {
    expect(fn).toEqual(
      expect.objectContaining({
        function_name: 'propertyfeed-staging-backlog-controller',
        runtime: 'nodejs22.x',
        handler: 'index.handler',
        architectures: ['x86_64'],
        memory_size: 256,
        timeout: 50,
        source_code_hash: fixtureArchive().sourceCodeHash,
      }),
    );
  });

  it('runs one tick at a time, traced, in the private subnets with the controller security group', () => {
    expect(s.text).toHaveResourceWithProperties(LambdaFunction, {
      reserved_concurrent_executions: 1,
      tracing_config: expect.objectContaining({ mode: 'Active' }),
      vpc_config: expect.objectContaining({ subnet_ids: SUBNETS, security_group_ids: [CONTROLLER_SG] }),
    });
  });

  it('encrypts its environment with the environment key and sends failed async invocations to its encrypted DLQ', () => {
    expect(fn.kms_key_arn).toBe(KEY);
    expect(fn.dead_letter_config).toEqual({ target_arn: dlqArn });
    expect(one(json, 'aws_sqs_queue', (q) => q.name === 'propertyfeed-staging-backlog-controller-dlq')).toEqual(
      expect.objectContaining({ kms_master_key_id: KEY, message_retention_seconds: 1209600 }),
    );
  });

  it('loads its package from the stack folder by a relative path', () => {
    expect(fn.filename).toMatch(/^assets\/[^/]+\/[0-9a-f]{32}\/controller\.zip$/);
    expect(isAbsolute(fn.filename as string)).toBe(false);
    expect(fn.filename).toContain(fixtureArchive().assetHash);
  });

  it('waits for its log group and its policy (ENI permissions) before it is created', () => {
    expect(fn.depends_on).toEqual([
      `aws_cloudwatch_log_group.${controller.logGroup.friendlyUniqueId}`,
      `aws_iam_role_policy.${controller.policy.friendlyUniqueId}`,
    ]);
  });

  it('does not retry a failed tick and drops stale events to the DLQ', () => {
    expect(one(json, 'aws_lambda_function_event_invoke_config')).toEqual(
      expect.objectContaining({ maximum_retry_attempts: 0, maximum_event_age_in_seconds: 120 }),
    );
  });

  it('logs to /aws/lambda/<function>, encrypted, kept as long as the file says', () => {
    expect(one(json, 'aws_cloudwatch_log_group', (g) => String(g.name).startsWith('/aws/lambda/'))).toEqual(
      expect.objectContaining({ name: '/aws/lambda/propertyfeed-staging-backlog-controller', retention_in_days: 400, kms_key_id: KEY }),
    );
  });
});

describe('CONTROLLER_CONFIG', () => {
  const config = parseControllerConfig((fn.environment as { variables: Record<string, string> }).variables[CONTROLLER_CONFIG_ENV]);

  it('is the configuration it is given, as the controller parses it: the controller defaults applied', () => {
    expect(config).toEqual(controller.config);
    expect(config.lanes.map((l) => [l.name, l.service, l.sized, l.min, l.max, l.priority, l.drainMinutes])).toEqual([
      ['image', 'propertyfeed-image', true, 1, 3, 1, 15],
      ['sync', 'propertyfeed-sync', true, 0, 1, 10, 15],
      ['bulk', 'propertyfeed-bulk', false, 0, 2, 30, 15],
    ]);
    expect(config).toMatchObject({ namespace: 'QueueLanes', fleetMaxTasks: 8, reservedTasks: 1, cluster: 'propertyfeed-staging' });
    expect(config.redis).toMatchObject({ host: 'queues.cache.internal', port: 6379, tls: true, retryAfterSeconds: 90 });
  });

  it('fails the synth where the controller would refuse it at cold start', () => {
    const [image, sync] = CONFIG.lanes;
    expect(() => synth({ controllerConfig: { ...CONFIG, lanes: [image, { ...sync, queues: ['image'] }] } })).toThrow(
      'the backlog controller would reject its configuration',
    );
  });
});

describe('the controller role', () => {
  const role = one(json, 'aws_iam_role', (r) => r.name === 'propertyfeed-staging-backlog-controller');
  const policy = statements(one(json, 'aws_iam_role_policy', (p) => p.name === 'backlog-controller').policy);
  const bySid = (sid: string) => policy.find((p) => p.Sid === sid);

  it('is assumed by Lambda only', () => {
    expect(statements(role.assume_role_policy)).toEqual([
      { Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com' }, Action: 'sts:AssumeRole' },
    ]);
  });

  it('describes and updates exactly the controller-managed lane services', () => {
    expect(bySid('ScaleLaneServices')).toEqual({
      Sid: 'ScaleLaneServices',
      Effect: 'Allow',
      Action: ['ecs:DescribeServices', 'ecs:UpdateService'],
      Resource: [SERVICE('image'), SERVICE('sync')],
    });
  });

  it('publishes metrics in its namespace only', () => {
    expect(bySid('PublishLaneMetrics')).toEqual({
      Sid: 'PublishLaneMetrics',
      Effect: 'Allow',
      Action: 'cloudwatch:PutMetricData',
      Resource: '*',
      Condition: { StringEquals: { 'cloudwatch:namespace': 'QueueLanes' } },
    });
  });

  it('reads metrics back with GetMetricData, which IAM only grants on "*"', () => {
    expect(bySid('ReadDrainHistory')).toEqual({
      Sid: 'ReadDrainHistory',
      Effect: 'Allow',
      Action: 'cloudwatch:GetMetricData',
      Resource: '*',
    });
  });

  it('reads the Redis AUTH token parameter and nothing else in SSM', () => {
    expect(bySid('ReadRedisAuthToken')).toEqual({
      Sid: 'ReadRedisAuthToken',
      Effect: 'Allow',
      Action: 'ssm:GetParameter',
      Resource: PARAM('REDIS_PASSWORD'),
    });
  });

  it('decrypts with the environment key, and generates data keys only through SQS for its DLQ', () => {
    expect(bySid('DecryptWithEnvironmentKey')).toEqual({
      Sid: 'DecryptWithEnvironmentKey',
      Effect: 'Allow',
      Action: 'kms:Decrypt',
      Resource: KEY,
    });
    expect(bySid('EncryptDeadLetters')).toEqual({
      Sid: 'EncryptDeadLetters',
      Effect: 'Allow',
      Action: 'kms:GenerateDataKey',
      Resource: KEY,
      Condition: { StringEquals: { 'kms:ViaService': 'sqs.eu-west-2.amazonaws.com' } },
    });
    expect(bySid('SendDeadLetters')).toEqual({ Sid: 'SendDeadLetters', Effect: 'Allow', Action: 'sqs:SendMessage', Resource: dlqArn });
  });

  it('writes its own log group only, and traces to X-Ray', () => {
    expect(bySid('WriteOwnLogs')).toEqual({
      Sid: 'WriteOwnLogs',
      Effect: 'Allow',
      Action: ['logs:CreateLogStream', 'logs:PutLogEvents'],
      Resource: `${ref(controller.logGroup, 'arn')}:log-stream:*`,
    });
    expect(bySid('UploadTraces')).toEqual({
      Sid: 'UploadTraces',
      Effect: 'Allow',
      Action: ['xray:PutTelemetryRecords', 'xray:PutTraceSegments'],
      Resource: '*',
    });
  });

  it('manages network interfaces in its subnets and security group only', () => {
    const ec2 = (resource: string) => `arn:aws:ec2:eu-west-2:${account}:${resource}`;
    expect(policy.filter((p) => p.Sid?.includes('NetworkInterfaces'))).toEqual([
      {
        Sid: 'CreateNetworkInterfaces',
        Effect: 'Allow',
        Action: 'ec2:CreateNetworkInterface',
        Resource: [ec2('network-interface/*'), ...SUBNETS.map((id) => ec2(`subnet/${id}`)), ec2(`security-group/${CONTROLLER_SG}`)],
      },
      {
        Sid: 'ManageNetworkInterfaces',
        Effect: 'Allow',
        Action: ['ec2:AssignPrivateIpAddresses', 'ec2:DeleteNetworkInterface', 'ec2:UnassignPrivateIpAddresses'],
        Resource: ec2('network-interface/*'),
      },
      {
        Sid: 'DescribeNetworkInterfaces',
        Effect: 'Allow',
        Action: ['ec2:DescribeNetworkInterfaces', 'ec2:DescribeSubnets'],
        Resource: '*',
      },
    ]);
  });

  it('has exactly these statements', () => {
    expect(policy.map((p) => p.Sid)).toEqual([
      'ScaleLaneServices',
      'PublishLaneMetrics',
      'ReadDrainHistory',
      'ReadRedisAuthToken',
      'DecryptWithEnvironmentKey',
      'EncryptDeadLetters',
      'SendDeadLetters',
      'WriteOwnLogs',
      'UploadTraces',
      'CreateNetworkInterfaces',
      'ManageNetworkInterfaces',
      'DescribeNetworkInterfaces',
    ]);
  });

  it('reads no SSM parameter when Redis has no AUTH', () => {
    const redis = { ...CONFIG.redis!, authParameterName: undefined };
    const open = synth({ controllerConfig: { ...CONFIG, redis }, redisAuthParameterArn: undefined });
    const sids = statements(one(open.json, 'aws_iam_role_policy', (p) => p.name === 'backlog-controller').policy).map((p) => p.Sid);
    expect(sids).not.toContain('ReadRedisAuthToken');
  });
});

describe('bad props', () => {
  it('needs the ARN of every service it sizes, and no other', () => {
    expect(() => synth({ serviceArns: { image: SERVICE('image') } })).toThrow(
      'serviceArns: no service ARN for lane sync, which the controller sizes',
    );
    expect(() => synth({ serviceArns: { ...PROPS.serviceArns, bulk: SERVICE('bulk') } })).toThrow(
      'serviceArns: lane bulk is not sized by the controller, so its service must not be writable by it',
    );
  });

  it('needs the AUTH token parameter it reads Redis with', () => {
    expect(() => synth({ redisAuthParameterArn: undefined })).toThrow(
      "redisAuthParameterArn: needed for the Redis AUTH token /propertyfeed/staging/env/REDIS_PASSWORD; pass the SecureString's ARN",
    );
  });

  it('needs a private subnet', () => {
    expect(() => synth({ subnetIds: [] })).toThrow('subnetIds: the function needs at least one private subnet');
  });
});

describe('the controller role with SQS lanes', () => {
  const queue = (name: string) => `arn:aws:sqs:eu-west-2:${ACCOUNT}:${name}`;
  const feeds = {
    name: 'feeds',
    service: 'propertyfeed-feeds',
    queues: ['propertyfeed-staging-feeds'],
    min: 0,
    max: 3,
    backlogPerTask: 50,
  };
  const sqsOnly = synth({
    controllerConfig: {
      ...CONFIG,
      redis: undefined,
      lanes: [{ ...feeds, broker: 'sqs', sqs: { deadLetterQueue: 'propertyfeed-staging-feeds-dlq' } }],
    },
    serviceArns: { feeds: SERVICE('feeds') },
    sqsQueueArns: [queue('propertyfeed-staging-feeds'), queue('propertyfeed-staging-feeds-dlq')],
    redisAuthParameterArn: undefined,
  });

  it('reads exactly the queues it is given, with the two calls it makes', () => {
    // AWS documents a resource for both (SQS Developer Guide, "Amazon SQS API permissions:
    // Actions and resource reference": arn:aws:sqs:region:account_id:queue_name), so no "*".
    // moto accepts any policy; this is checked against that rule, not against moto.
    expect(policy(sqsOnly.json).find((p) => p.Sid === 'ReadSqsLaneQueues')).toEqual({
      Sid: 'ReadSqsLaneQueues',
      Effect: 'Allow',
      Action: ['sqs:GetQueueAttributes', 'sqs:GetQueueUrl'],
      Resource: [queue('propertyfeed-staging-feeds'), queue('propertyfeed-staging-feeds-dlq')],
    });
  });

  it('is absent without SQS queues, and an SQS-only configuration reads no Redis', () => {
    expect(policy(json).map((p) => p.Sid)).not.toContain('ReadSqsLaneQueues');
    expect(sqsOnly.controller.config.redis).toBeUndefined();
    expect(policy(sqsOnly.json).map((p) => p.Sid)).not.toContain('ReadRedisAuthToken');
  });
});

function policy(synthesized: typeof json): ReturnType<typeof statements> {
  return statements(one(synthesized, 'aws_iam_role_policy', (p) => p.name === 'backlog-controller').policy);
}

describe('every IAM policy of the scaling stack', () => {
  // The only "*" resources: actions IAM offers no resource type for.
  const unscopable = new Set([
    'cloudwatch:PutMetricData',
    'cloudwatch:GetMetricData',
    'xray:PutTelemetryRecords',
    'xray:PutTraceSegments',
    'ec2:DescribeNetworkInterfaces',
    'ec2:DescribeSubnets',
  ]);

  it('grants no "*" action, and "*" resources only where AWS offers no resource type', () => {
    const policies = resources(json, 'aws_iam_role_policy').filter((p) => !String(p.role).includes('workers_'));
    expect(policies.map((p) => p.name)).toEqual(['backlog-controller', 'invoke-backlog-controller']);
    for (const p of policies) {
      for (const st of statements(p.policy)) {
        for (const action of list(st.Action)) expect(action).not.toMatch(/\*/);
        if (list(st.Resource).includes('*')) {
          for (const action of list(st.Action)) expect(unscopable).toContain(action);
        }
      }
    }
  });
});

describe('the schedule', () => {
  const schedule = one(json, 'aws_scheduler_schedule');

  it('invokes the function every minute, encrypted with the environment key', () => {
    expect(schedule).toEqual(
      expect.objectContaining({
        name: 'propertyfeed-staging-backlog-controller',
        schedule_expression: 'rate(1 minute)',
        flexible_time_window: { mode: 'OFF' },
        kms_key_arn: KEY,
      }),
    );
    expect(schedule.target).toEqual(
      expect.objectContaining({
        arn: functionArn,
        role_arn: ref(controller.scheduleRole, 'arn'),
        input: '{"source":"queue-lanes.schedule"}',
      }),
    );
  });

  it('retries a failed delivery within the minute, then dead-letters it to its own encrypted queue', () => {
    expect(schedule.target).toEqual(
      expect.objectContaining({
        retry_policy: { maximum_event_age_in_seconds: 60, maximum_retry_attempts: 2 },
        dead_letter_config: { arn: ref(controller.scheduleDeadLetterQueue, 'arn') },
      }),
    );
    expect(one(json, 'aws_sqs_queue', (q) => q.name === 'propertyfeed-staging-controller-schedule-dlq')).toEqual(
      expect.objectContaining({ kms_master_key_id: KEY, message_retention_seconds: 1209600 }),
    );
  });

  it('has a role of its own, for EventBridge Scheduler in this account, that may invoke exactly this function', () => {
    const role = one(json, 'aws_iam_role', (r) => r.name === 'propertyfeed-staging-controller-schedule');
    expect(statements(role.assume_role_policy)).toEqual([
      {
        Effect: 'Allow',
        Principal: { Service: 'scheduler.amazonaws.com' },
        Action: 'sts:AssumeRole',
        Condition: { StringEquals: { 'aws:SourceAccount': account } },
      },
    ]);
    expect(statements(one(json, 'aws_iam_role_policy', (p) => p.name === 'invoke-backlog-controller').policy)).toEqual([
      { Sid: 'InvokeController', Effect: 'Allow', Action: 'lambda:InvokeFunction', Resource: functionArn },
      { Sid: 'SendDeadLetters', Effect: 'Allow', Action: 'sqs:SendMessage', Resource: ref(controller.scheduleDeadLetterQueue, 'arn') },
      { Sid: 'DecryptWithEnvironmentKey', Effect: 'Allow', Action: 'kms:Decrypt', Resource: KEY },
      {
        Sid: 'EncryptDeadLetters',
        Effect: 'Allow',
        Action: 'kms:GenerateDataKey',
        Resource: KEY,
        Condition: { StringEquals: { 'kms:ViaService': 'sqs.eu-west-2.amazonaws.com' } },
      },
    ]);
  });
});

describe('wake-up calls', () => {
  it('lets each role in controller.wakeInvokerRoleArns invoke the function', () => {
    const permissions: Resource[] = resources(json, 'aws_lambda_permission');
    expect(permissions).toEqual([
      expect.objectContaining({
        statement_id: `wake-${ACCOUNT}-propertyfeed-web`,
        action: 'lambda:InvokeFunction',
        function_name: ref(controller.function, 'function_name'),
        principal: WEB_ROLE,
      }),
    ]);
    expect(Object.keys(controller.wakePermissions)).toEqual([WEB_ROLE]);
  });

  it('offers the policy an application role needs to call it', () => {
    const policy = JSON.parse(controller.wakeInvokePolicy);
    expect(policy).toEqual({
      Version: '2012-10-17',
      Statement: [{ Sid: 'WakeBacklogController', Effect: 'Allow', Action: 'lambda:InvokeFunction', Resource: expect.any(String) }],
    });
    // The function's ARN, as a token Terraform fills in.
    expect(Token.isUnresolved(policy.Statement[0].Resource)).toBe(true);
  });

  it('grants nobody else', () => {
    expect(resources(synth({ wakeInvokerRoleArns: undefined }).json, 'aws_lambda_permission')).toEqual([]);
  });
});
