import { KMS_KEY_ARN, SECURITY_GROUP_ID, controllerMeasuredLanes, isScaled, type EnvironmentConfig } from '@queue-lanes/config';
import type { WorkerService } from '@queue-lanes/worker-service';
import type { SqsQueue } from '@cdktf/provider-aws/lib/sqs-queue';
import { Token } from 'cdktf';
import { Construct } from 'constructs';
import { BacklogControllerFunction } from './backlog-controller-function';
import type { ControllerArchive } from './controller-archive';
import { SqsLaneQueues } from './sqs-lane-queues';

export interface WorkerScalingProps {
  /** The validated environment. */
  readonly env: EnvironmentConfig;
  /** The workers stack's content: the cluster and the lane services to scale. */
  readonly workerService: WorkerService;
  /** The controller security group (networking stack). */
  readonly controllerSecurityGroupId: string;
  /** The environment's KMS key (parameters stack): the controller's environment and logs, and every queue. */
  readonly kmsKeyArn: string;
  /** `/<app>/<env>`: the parameters' path prefix (parameters stack). */
  readonly parameterPathPrefix: string;
  /**
   * Runtime parameter name → SSM parameter ARN (the parameters lib's
   * `containerSecrets`); must hold `redis.authParameter` when the file names one.
   */
  readonly parameterArns: Readonly<Record<string, string>>;
  /**
   * Private subnets of the controller's network interfaces.
   * @default env.network.privateSubnetIds
   */
  readonly subnetIds?: readonly string[];
  /**
   * The controller's Lambda package.
   * @default the cached, deterministic bundle of libs/backlog-controller
   */
  readonly controllerArchive?: ControllerArchive;
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
    const { env, workerService } = props;
    validate(props);

    const sqsLanes: Record<string, SqsLaneQueues> = {};
    for (const lane of env.lanes.filter((l) => l.broker === 'sqs')) {
      sqsLanes[lane.name] = new SqsLaneQueues(this, `sqs-${lane.name}`, { env, lane, kmsKeyArn: props.kmsKeyArn });
    }

    const measured = controllerMeasuredLanes(env);
    this.controllerLanes = measured.map((l) => l.name);
    const sized = measured.filter((l) => l.sizedBy === 'controller');
    if (measured.length > 0) {
      const auth = env.redis.authParameter;
      const readsRedis = measured.some((l) => l.broker === 'redis');
      this.controller = new BacklogControllerFunction(this, 'controller', {
        env,
        serviceArns: Object.fromEntries(sized.map((l) => [l.name, workerService.lanes[l.name].service.id])),
        sqsQueueArns: measured.flatMap((l) =>
          l.broker === 'sqs' ? [sqsLanes[l.name].queue.arn, sqsLanes[l.name].deadLetterQueue.arn] : [],
        ),
        securityGroupId: props.controllerSecurityGroupId,
        subnetIds: props.subnetIds ?? env.network.privateSubnetIds,
        kmsKeyArn: props.kmsKeyArn,
        parameterPathPrefix: props.parameterPathPrefix,
        ...(auth !== undefined && readsRedis ? { redisAuthParameterArn: props.parameterArns[auth] } : {}),
        ...(props.controllerArchive ? { archive: props.controllerArchive } : {}),
      });
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

/** Checks the props against each other before anything is created; throws with what to fix. */
function validate(props: WorkerScalingProps): void {
  const { env, workerService } = props;
  for (const lane of env.lanes.filter(isScaled)) {
    if (!workerService.lanes[lane.name]) {
      throw new Error(`lanes.${lane.name}: stage ${lane.stage} is scaled, but the workers have no service for it`);
    }
  }
  const auth = env.redis.authParameter;
  if (auth !== undefined && controllerMeasuredLanes(env).some((l) => l.broker === 'redis') && !props.parameterArns[auth]) {
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
