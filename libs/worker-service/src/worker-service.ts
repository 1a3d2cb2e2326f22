import type { EnvironmentConfig } from '@queue-lanes/config';
import { CloudwatchLogGroup } from '@cdktf/provider-aws/lib/cloudwatch-log-group';
import { EcsCluster } from '@cdktf/provider-aws/lib/ecs-cluster';
import { EcsClusterCapacityProviders } from '@cdktf/provider-aws/lib/ecs-cluster-capacity-providers';
import { Construct } from 'constructs';
import { LaneService } from './lane-service';
import { ECS_EXEC, clusterName, logGroupName, logGroupRetention } from '@queue-lanes/config';
import { SchedulerService } from './scheduler-service';
import { validateContext, type WorkloadContext } from './workload';

export interface WorkerServiceProps {
  /** The validated environment: lanes, image, runtime, logs and scheduler settings. */
  readonly env: EnvironmentConfig;
  /** The worker security group (from the networking stack). */
  readonly securityGroupId: string;
  /**
   * Private subnets the tasks run in; tasks never get a public IP.
   * @default env.network.privateSubnetIds
   */
  readonly subnetIds?: readonly string[];
  /**
   * Environment-variable name → SSM parameter ARN (from the parameters stack),
   * injected into every container as `secrets` (`valueFrom`). A parameter named
   * APP_ENV replaces the container's own APP_ENV; LANE and LANE_QUEUES are the
   * container's and may not be parameters.
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

/**
 * The `workers` stack's content: the environment's cluster `<app>-<env>` with
 * Container Insights and the FARGATE and FARGATE_SPOT capacity providers, one
 * {@link LaneService} per lane (at `off` with 0 tasks), and the scheduler singleton
 * when `scheduler.service.enabled`. ECS Exec is off unless `runtime.enableEcsExec`;
 * then sessions are encrypted with the environment key and logged to
 * `/ecs/<app>-<env>/ecs-exec`.
 */
export class WorkerService extends Construct {
  /** `<app>-<env>`. */
  readonly clusterName: string;
  readonly cluster: EcsCluster;
  /** FARGATE and FARGATE_SPOT on the cluster. */
  readonly capacityProviders: EcsClusterCapacityProviders;
  /** ECS Exec session logs; present when `runtime.enableEcsExec`. */
  readonly execLogGroup?: CloudwatchLogGroup;
  /** Lane name → its service and resources, for every lane (stage off included). */
  readonly lanes: Readonly<Record<string, LaneService>>;
  /** The scheduler singleton; present when `scheduler.service.enabled`. */
  readonly scheduler?: SchedulerService;

  constructor(scope: Construct, id: string, props: WorkerServiceProps) {
    super(scope, id);
    const { env } = props;
    const shared = {
      env,
      securityGroupId: props.securityGroupId,
      subnetIds: props.subnetIds ?? env.network.privateSubnetIds,
      secrets: props.secrets,
      kmsKeyArn: props.kmsKeyArn,
      parameterReadPolicyJson: props.parameterReadPolicyJson,
    };
    validateContext(shared);

    this.clusterName = clusterName(env);
    if (env.runtime.enableEcsExec) {
      this.execLogGroup = new CloudwatchLogGroup(this, 'ecs-exec-log-group', {
        name: logGroupName(env, ECS_EXEC),
        ...logGroupRetention(env),
        kmsKeyId: props.kmsKeyArn,
      });
    }
    this.cluster = new EcsCluster(this, 'cluster', {
      name: this.clusterName,
      setting: [{ name: 'containerInsights', value: 'enhanced' }],
      ...(this.execLogGroup
        ? {
            configuration: {
              executeCommandConfiguration: {
                kmsKeyId: props.kmsKeyArn,
                logging: 'OVERRIDE',
                logConfiguration: {
                  cloudWatchLogGroupName: this.execLogGroup.name,
                  cloudWatchEncryptionEnabled: true,
                },
              },
            },
          }
        : {}),
    });
    this.capacityProviders = new EcsClusterCapacityProviders(this, 'capacity-providers', {
      clusterName: this.cluster.name,
      capacityProviders: ['FARGATE', 'FARGATE_SPOT'],
      // Lanes set their own strategy; this only applies to tasks started without one.
      defaultCapacityProviderStrategy: [{ capacityProvider: 'FARGATE', base: 0, weight: 1 }],
    });

    const ctx: WorkloadContext = {
      ...shared,
      cluster: this.cluster,
      capacityProviders: this.capacityProviders,
      execLogGroup: this.execLogGroup,
    };
    this.lanes = Object.fromEntries(env.lanes.map((lane) => [lane.name, new LaneService(this, `lane-${lane.name}`, { ...ctx, lane })]));
    if (env.scheduler.service.enabled) {
      this.scheduler = new SchedulerService(this, 'scheduler', ctx);
    }
  }
}
