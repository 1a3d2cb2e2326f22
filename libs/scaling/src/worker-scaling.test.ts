// Types of the matchers tools/jest-setup.ts installs (Testing.setupJest()).
import type {} from 'cdktf/lib/testing/adapters/jest';
import { CONTROLLER_CONFIG_ENV, parseControllerConfig } from '@queue-lanes/contract';
import { buildControllerConfig } from '@queue-lanes/contract/environment';
import { Testing } from 'cdktf';
import { WorkerScaling, workerScalingProps } from './index';
import { controllerArchive } from './controller-archive';
import {
  CONTROLLER_SG,
  KEY,
  PARAMETERS,
  SUBNETS,
  env,
  one,
  redisLane,
  ref,
  resources,
  sqsLane,
  statements,
  synth,
  type Json,
} from './testing/fixtures';

/** Resource types the scaling construct creates (the workers' own resources aside). */
const SCALING_TYPES = [
  'aws_lambda_function',
  'aws_lambda_function_event_invoke_config',
  'aws_lambda_permission',
  'aws_scheduler_schedule',
  'aws_sqs_queue',
  'aws_sqs_queue_redrive_allow_policy',
  'aws_appautoscaling_target',
  'aws_appautoscaling_policy',
  'aws_cloudwatch_metric_alarm',
];
const created = (json: Json) => SCALING_TYPES.filter((type) => resources(json, type).length > 0);
const controllerConfig = (json: Json) =>
  parseControllerConfig(
    (one(json, 'aws_lambda_function').environment as { variables: Record<string, string> }).variables[CONTROLLER_CONFIG_ENV],
  );

describe('stages', () => {
  it('off: nothing for a Redis lane', () => {
    expect(created(synth(env(redisLane('image', 'off'))).json)).toEqual([]);
  });

  it('baseline: measured by the controller, never sized by it', () => {
    const s = synth(env([redisLane('image', 'baseline'), redisLane('sync', 'scaling')].join('\n')));
    expect(controllerConfig(s.json).lanes.map((l) => [l.name, l.sized])).toEqual([
      ['image', false],
      ['sync', true],
    ]);
    expect(s.scaling.controller!.statements.find((st) => st.Sid === 'ScaleLaneServices')!.Resource).toHaveLength(1);
  });

  it('paused: the controller measures the lane but never sizes it, whatever its broker', () => {
    const s = synth(
      env(
        [redisLane('image', 'scaling', ['paused: true']), sqsLane('feeds', 'owned', ['paused: true', 'tasks: { min: 0, max: 3 }'])].join(
          '\n',
        ),
      ),
    );
    const config = controllerConfig(s.json);
    expect(config.lanes.map((l) => [l.name, l.sized])).toEqual([
      ['image', false],
      ['feeds', false],
    ]);
    // Both paused lanes count at their maximum against the cap: 2 + 3.
    expect(config.reservedTasks).toBe(5);
    expect(s.scaling.controller!.statements.map((st) => st.Sid)).not.toContain('ScaleLaneServices');
    expect(resources(s.json, 'aws_appautoscaling_policy')).toEqual([]);
  });

  it('only SQS lanes: the controller sizes them, with no Redis to read and no App Auto Scaling', () => {
    const s = synth(env(sqsLane('feeds', 'scaling')));
    expect(controllerConfig(s.json).lanes.map((l) => [l.name, l.broker, l.sized])).toEqual([['feeds', 'sqs', true]]);
    expect(controllerConfig(s.json).redis).toBeUndefined();
    expect(created(s.json).filter((type) => type.startsWith('aws_appautoscaling'))).toEqual([]);
    expect(created(s.json)).toEqual(expect.arrayContaining(['aws_sqs_queue', 'aws_sqs_queue_redrive_allow_policy', 'aws_lambda_function']));
  });

  it('Redis and SQS lanes side by side: one controller sizes both under one fleet cap', () => {
    const s = synth(env([redisLane('image', 'scaling'), sqsLane('feeds', 'owned', ['tasks: { min: 0, max: 3 }'])].join('\n')));
    const config = controllerConfig(s.json);
    expect(config.lanes.map((l) => [l.name, l.broker, l.sized])).toEqual([
      ['image', 'redis', true],
      ['feeds', 'sqs', true],
    ]);
    expect(config.reservedTasks).toBe(0);
    expect(s.scaling.controller!.statements.find((st) => st.Sid === 'ScaleLaneServices')!.Resource).toHaveLength(2);
  });
});

describe('workerScalingProps, the adapter from the environment', () => {
  const wiring = {
    laneServiceArns: {},
    controllerSecurityGroupId: CONTROLLER_SG,
    kmsKeyArn: KEY,
    parameterPathPrefix: '/propertyfeed/staging',
    parameterArns: PARAMETERS,
  };

  it("hands the controller the contract's configuration for the file, with the file's subnets, AUTH parameter and wake-up roles", () => {
    const e = env([redisLane('image', 'scaling'), sqsLane('feeds', 'off')].join('\n'), {
      controller: 'controller: { wakeInvokerRoleArns: ["arn:aws:iam::111111111111:role/web"] }',
    });
    const props = workerScalingProps(e, wiring);
    expect(props.controllerConfig).toEqual(buildControllerConfig(e, { parameterPathPrefix: '/propertyfeed/staging' }));
    expect(props).toMatchObject({
      lanes: e.lanes,
      subnetIds: SUBNETS,
      redisAuthParameter: 'REDIS_PASSWORD',
      wakeInvokerRoleArns: ['arn:aws:iam::111111111111:role/web'],
      logRetentionInDays: 400,
    });
  });

  it('gives no controller configuration while every lane is off', () => {
    expect(workerScalingProps(env(redisLane('image', 'off')), wiring).controllerConfig).toBeUndefined();
  });
});

describe('the SQS lanes', () => {
  it("give the controller the queues and dead-letter queues of those past off, in the controller's lane order", () => {
    const s = synth(
      env(
        [
          redisLane('sync', 'scaling'),
          sqsLane('feeds', 'owned', ['tasks: { min: 0, max: 3 }']),
          sqsLane('exports', 'baseline'),
          sqsLane('archive', 'off'),
        ].join('\n'),
      ),
    );
    const { feeds, exports, archive } = s.scaling.sqsLanes;
    const policy = statements(one(s.json, 'aws_iam_role_policy', (p) => p.name === 'backlog-controller').policy);
    expect(policy.find((st) => st.Sid === 'ReadSqsLaneQueues')!.Resource).toEqual([
      ref(feeds.queue, 'arn'),
      ref(feeds.deadLetterQueue, 'arn'),
      ref(exports.queue, 'arn'),
      ref(exports.deadLetterQueue, 'arn'),
    ]);
    // A lane at off keeps its queues (a rollback deletes no message), which the controller does not read.
    expect(archive.queueName).toBe('propertyfeed-staging-archive');
  });
});

describe('bad input', () => {
  it('needs the ARN of the AUTH token parameter', () => {
    expect(() => synth(env(redisLane('image', 'scaling')), { parameterArns: { DB_PASSWORD: PARAMETERS.DB_PASSWORD } })).toThrow(
      'redis.authParameter: REDIS_PASSWORD is not among the parameters (DB_PASSWORD)',
    );
  });

  it('needs a service for every scaled lane', () => {
    const stack = Testing.stubVersion(Testing.app());
    expect(
      () =>
        new WorkerScaling(stack, 'scaling', {
          app: 'propertyfeed',
          environment: 'staging',
          region: 'eu-west-2',
          lanes: [{ name: 'image', stage: 'scaling', broker: 'redis' }],
          logRetentionInDays: 30,
          laneServiceArns: {},
          controllerSecurityGroupId: CONTROLLER_SG,
          kmsKeyArn: KEY,
          parameterArns: PARAMETERS,
          subnetIds: SUBNETS,
        }),
    ).toThrow('lanes.image: stage scaling is scaled, but the workers have no service for it');
  });

  it('rejects a literal that is not a security group or KMS key', () => {
    const e = env(redisLane('image', 'scaling'));
    expect(() => synth(e, { controllerSecurityGroupId: 'controller' })).toThrow(
      'controllerSecurityGroupId: "controller" is not a security-group id like sg-0123456789abcdef0',
    );
    expect(() => synth(e, { kmsKeyArn: 'alias/propertyfeed-staging' })).toThrow(
      'kmsKeyArn: "alias/propertyfeed-staging" is not a KMS key ARN like arn:aws:kms:eu-west-2:111111111111:key/<id>',
    );
  });
});

describe('the real controller package', () => {
  it('is the cached bundle of libs/backlog-controller, referenced by its hash', () => {
    const archive = controllerArchive();
    const s = synth(env(redisLane('sync', 'scaling')), { controllerArchive: undefined });
    const fn = one(s.json, 'aws_lambda_function');
    expect(fn.source_code_hash).toBe(archive.sourceCodeHash);
    expect(fn.filename).toBe(`assets/scaling_controller_package_0C3A3EC4/${archive.assetHash}/controller.zip`);
  }, 60_000);
});
