import {
  KMS_KEY_ARN,
  SECURITY_GROUP_ID,
  controllerMeasuredLanes,
  isScaled,
  type EnvironmentConfig,
  type LaneConfig,
} from '@queue-lanes/config';
import type { ControllerConfig, ControllerConfigInput } from '@queue-lanes/contract';
import { buildControllerConfig, validateControllerConfig, type ControllerConfigOptions } from '@queue-lanes/contract/environment';
import type { SqsQueue } from '@cdktf/provider-aws/lib/sqs-queue';
import { Token } from 'cdktf';
import { Construct } from 'constructs';
import { BacklogControllerFunction, type BacklogControllerFunctionProps } from './backlog-controller-function';
import type { ControllerArchive } from './controller-archive';
import { SqsLaneQueues } from './sqs-lane-queues';

/** A lane as the scaling reads it: libs/config's resolved lane, narrowed. */
export type ScalingLane = Pick<LaneConfig, 'name' | 'stage' | 'broker' | 'sqs'>;

export interface WorkerScalingProps {
  /** The application: the first part of every name (`<app>-<env>-…`). */
  readonly app: string;
  /** The environment: the second part of every name. */
  readonly environment: string;
  /** The region the controller runs in. */
  readonly region: string;
  /** Every lane, stage off included, in priority order: SQS lanes get their queues, scaled lanes need a service. */
  readonly lanes: readonly ScalingLane[];
  /**
   * CONTROLLER_CONFIG before the controller's defaults (`buildControllerConfig`): its lanes
   * are the ones it measures, and it sizes those marked `sized`.
   * @default no controller (every lane at stage off)
   */
  readonly controllerConfig?: ControllerConfigInput;
  /** Days the controller's log group keeps its logs (the environment's `logs.retentionDays`). */
  readonly logRetentionInDays: number;
  /**
   * Application roles that may invoke the controller directly (wake-up calls).
   * @default []
   */
  readonly wakeInvokerRoleArns?: readonly string[];
  /**
   * The runtime parameter that holds the Redis AUTH token (`redis.authParameter`); a key of {@link parameterArns}.
   * @default none (Redis without AUTH)
   */
  readonly redisAuthParameter?: string;
  /** Lane name → its ECS service's ARN (the workers stack's services); every scaled lane needs one. */
  readonly laneServiceArns: Readonly<Record<string, string>>;
  /** The controller security group (networking stack). */
  readonly controllerSecurityGroupId: string;
  /** The environment's KMS key (parameters stack): the controller's environment and logs, and every queue. */
  readonly kmsKeyArn: string;
  /**
   * Runtime parameter name → SSM parameter ARN (the parameters lib's
   * `containerSecrets`); must hold `redis.authParameter` when the file names one.
   */
  readonly parameterArns: Readonly<Record<string, string>>;
  /** Private subnets of the controller's network interfaces. */
  readonly subnetIds: readonly string[];
  /**
   * The controller's Lambda package.
   * @default the cached, deterministic bundle of libs/backlog-controller
   */
  readonly controllerArchive?: ControllerArchive;
}

/** What compose wires into the scaling from the other stacks. */
export type WorkerScalingResources = ControllerConfigOptions &
  Pick<WorkerScalingProps, 'laneServiceArns' | 'controllerSecurityGroupId' | 'kmsKeyArn' | 'parameterArns' | 'controllerArchive'>;

/** The scaling construct's props for one environment, as compose builds them: the controller's config is the contract's. */
export function workerScalingProps(env: EnvironmentConfig, resources: WorkerScalingResources): WorkerScalingProps {
  const { parameterPathPrefix, ...wiring } = resources;
  const measured = controllerMeasuredLanes(env).length > 0;
  return {
    app: env.app,
    environment: env.environment,
    region: env.region,
    lanes: env.lanes,
    ...(measured ? { controllerConfig: buildControllerConfig(env, { parameterPathPrefix }) } : {}),
    logRetentionInDays: env.logs.retentionDays,
    wakeInvokerRoleArns: env.controller.wakeInvokerRoleArns,
    redisAuthParameter: env.redis.authParameter,
    subnetIds: env.network.privateSubnetIds,
    ...wiring,
  };
}

/**
 * The `scaling` stack's content: one controller for both brokers.
 *
 * - Every lane past stage off, Redis or SQS, is measured by one
 *   {@link BacklogControllerFunction} per environment, which sizes those at
 *   stages scaling and owned; none is created while every lane is off.
 * - SQS lanes get their queues at every stage ({@link SqsLaneQueues}).
 * - Lanes at stage baseline keep the fixed count the workers stack gives them.
 */
export class WorkerScaling extends Construct {
  /** The backlog controller; present when a lane is past stage off. */
  readonly controller?: BacklogControllerFunction;
  /** Names of the lanes the controller measures, in priority order (it sizes those with sizedBy controller). */
  readonly controllerLanes: readonly string[];
  /** Each SQS lane's queues, by lane name. */
  readonly sqsLanes: Readonly<Record<string, SqsLaneQueues>>;
  /** Each SQS lane's queue, by lane name. */
  readonly queues: Readonly<Record<string, SqsQueue>>;
  /** Each SQS lane's dead-letter queue, by lane name. */
  readonly deadLetterQueues: Readonly<Record<string, SqsQueue>>;

  constructor(scope: Construct, id: string, props: WorkerScalingProps) {
    super(scope, id);
    validate(props);

    const sqsLanes: Record<string, SqsLaneQueues> = {};
    for (const lane of props.lanes) {
      if (lane.broker !== 'sqs' || !lane.sqs) continue;
      sqsLanes[lane.name] = new SqsLaneQueues(this, `sqs-${lane.name}`, {
        app: props.app,
        environment: props.environment,
        laneName: lane.name,
        sqs: lane.sqs,
        kmsKeyArn: props.kmsKeyArn,
      });
    }

    // Parsed as the Lambda will (defaults applied) to read which lanes it sizes; the function gets it as given.
    const input = props.controllerConfig;
    const config = input && validateControllerConfig(input);
    this.controllerLanes = (config?.lanes ?? []).map((l) => l.name);
    if (input && config) {
      this.controller = new BacklogControllerFunction(this, 'controller', controllerProps(props, input, config, sqsLanes));
    }

    this.sqsLanes = sqsLanes;
    const byLane = <T>(pick: (s: SqsLaneQueues) => T | undefined) =>
      Object.fromEntries(
        Object.entries(sqsLanes).flatMap(([name, s]) => {
          const value = pick(s);
          return value === undefined ? [] : [[name, value] as const];
        }),
      );
    this.queues = byLane((s) => s.queue);
    this.deadLetterQueues = byLane((s) => s.deadLetterQueue);
  }
}

/** The controller's props: the services it sizes, the queues it reads, the AUTH token when it reads Redis. */
function controllerProps(
  props: WorkerScalingProps,
  input: ControllerConfigInput,
  config: ControllerConfig,
  sqsLanes: Readonly<Record<string, SqsLaneQueues>>,
): BacklogControllerFunctionProps {
  const auth = props.redisAuthParameter;
  return {
    app: props.app,
    environment: props.environment,
    region: props.region,
    controllerConfig: input,
    logRetentionInDays: props.logRetentionInDays,
    wakeInvokerRoleArns: props.wakeInvokerRoleArns,
    serviceArns: Object.fromEntries(config.lanes.filter((l) => l.sized).map((l) => [l.name, props.laneServiceArns[l.name]])),
    sqsQueueArns: config.lanes.flatMap((l) =>
      l.broker === 'sqs' ? [sqsLanes[l.name].queue.arn, sqsLanes[l.name].deadLetterQueue.arn] : [],
    ),
    securityGroupId: props.controllerSecurityGroupId,
    subnetIds: props.subnetIds,
    kmsKeyArn: props.kmsKeyArn,
    ...(auth !== undefined && config.redis ? { redisAuthParameterArn: props.parameterArns[auth] } : {}),
    ...(props.controllerArchive ? { archive: props.controllerArchive } : {}),
  };
}

/** Checks the props against each other before anything is created; throws with what to fix. */
function validate(props: WorkerScalingProps): void {
  for (const lane of props.lanes.filter(isScaled)) {
    if (!props.laneServiceArns[lane.name]) {
      throw new Error(`lanes.${lane.name}: stage ${lane.stage} is scaled, but the workers have no service for it`);
    }
  }
  const auth = props.redisAuthParameter;
  if (auth !== undefined && props.controllerConfig?.redis && !props.parameterArns[auth]) {
    throw new Error(`redis.authParameter: ${auth} is not among the parameters (${Object.keys(props.parameterArns).join(', ') || 'none'})`);
  }
  const literal = (v: string) => !Token.isUnresolved(v);
  if (literal(props.controllerSecurityGroupId) && !SECURITY_GROUP_ID.test(props.controllerSecurityGroupId)) {
    throw new Error(
      `controllerSecurityGroupId: ${JSON.stringify(props.controllerSecurityGroupId)} is not a security-group id like sg-0123456789abcdef0`,
    );
  }
  if (literal(props.kmsKeyArn) && !KMS_KEY_ARN.test(props.kmsKeyArn)) {
    throw new Error(`kmsKeyArn: ${JSON.stringify(props.kmsKeyArn)} is not a KMS key ARN like arn:aws:kms:eu-west-2:111111111111:key/<id>`);
  }
}
