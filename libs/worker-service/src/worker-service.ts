import type { EnvironmentConfig, LaneConfig } from '@queue-lanes/config';
import { CloudwatchLogGroup } from '@cdktf/provider-aws/lib/cloudwatch-log-group';
import { EcsCluster } from '@cdktf/provider-aws/lib/ecs-cluster';
import { EcsClusterCapacityProviders } from '@cdktf/provider-aws/lib/ecs-cluster-capacity-providers';
import { Construct } from 'constructs';
import { LaneService, type LaneSettings } from './lane-service';
import { ECS_EXEC, clusterName, logGroupName, logGroupRetention } from '@queue-lanes/config';
import { SchedulerService, type SchedulerSettings } from './scheduler-service';
import { validateContext, type WorkloadContext, type WorkloadSettings } from './workload';

export interface WorkerServiceProps extends WorkloadSettings {
  /** Every lane, at any stage: one {@link LaneService} each (stage `off` included, at 0 tasks). */
  readonly lanes: readonly LaneSettings[];
  /**
   * The scheduler singleton's size; when given, `php artisan schedule:work` runs as an ECS service.
   * @default no scheduler service (it runs on the hosts, or nowhere)
   */
  readonly scheduler?: SchedulerSettings;
}

/** What the other stacks give the workers: the security group, and the parameters and their key. */
export type WorkerServiceResources = Pick<WorkerServiceProps, 'securityGroupId' | 'secrets' | 'kmsKeyArn' | 'parameterReadPolicyJson'>;

/** The worker service's props for one environment, as compose builds them: the file's settings and the other stacks' resources. */
export function workerServiceProps(env: EnvironmentConfig, resources: WorkerServiceResources): WorkerServiceProps {
  const { runtime } = env;
  return {
    app: env.app,
    environment: env.environment,
    region: env.region,
    allowedAccountIds: env.allowedAccountIds,
    image: env.image,
    logRetentionDays: env.logs.retentionDays,
    appRoot: runtime.appRoot,
    user: runtime.user,
    enableEcsExec: runtime.enableEcsExec,
    ...(runtime.storage ? { storage: runtime.storage } : {}),
    parametersDigest: env.parametersDigest,
    subnetIds: env.network.privateSubnetIds,
    ...resources,
    lanes: env.lanes.map(laneSettings),
    ...(env.scheduler.service.enabled ? { scheduler: { cpu: env.scheduler.service.cpu, memory: env.scheduler.service.memory } } : {}),
  };
}

/** What a lane service reads of a resolved lane. */
function laneSettings(lane: LaneConfig): LaneSettings {
  return {
    name: lane.name,
    queues: lane.queues,
    groups: lane.groups,
    grouped: lane.grouped,
    ...(lane.command ? { command: lane.command } : {}),
    connection: lane.connection,
    broker: lane.broker,
    stage: lane.stage,
    sizedBy: lane.sizedBy,
    tasks: lane.tasks,
    cpu: lane.cpu,
    memory: lane.memory,
    architecture: lane.architecture,
    stopTimeout: lane.stopTimeout,
    scaleInProtection: lane.scaleInProtection,
    deployment: lane.deployment,
    capacity: lane.capacity,
  };
}

/**
 * The `workers` stack's content: the environment's cluster `<app>-<env>` with
 * Container Insights and the FARGATE and FARGATE_SPOT capacity providers, one
 * {@link LaneService} per lane (at `off` with 0 tasks), and the scheduler singleton
 * when `scheduler` is given. ECS Exec is off unless `enableEcsExec`;
 * then sessions are encrypted with the environment key and logged to
 * `/ecs/<app>-<env>/ecs-exec`.
 */
export class WorkerService extends Construct {
  /** `<app>-<env>`. */
  readonly clusterName: string;
  readonly cluster: EcsCluster;
  /** FARGATE and FARGATE_SPOT on the cluster. */
  readonly capacityProviders: EcsClusterCapacityProviders;
  /** ECS Exec session logs; present when `enableEcsExec`. */
  readonly execLogGroup?: CloudwatchLogGroup;
  /** Lane name → its service and resources, for every lane (stage off included). */
  readonly lanes: Readonly<Record<string, LaneService>>;
  /** Lane name → its ECS service's ARN (a token): what the scaling takes to size the lane. */
  readonly serviceArns: Readonly<Record<string, string>>;
  /** The scheduler singleton; present when `scheduler` is given. */
  readonly scheduler?: SchedulerService;

  constructor(scope: Construct, id: string, props: WorkerServiceProps) {
    super(scope, id);
    const { lanes, scheduler, enableEcsExec, ...settings } = props;
    validateContext(settings);

    this.clusterName = clusterName(props);
    if (enableEcsExec ?? false) {
      this.execLogGroup = new CloudwatchLogGroup(this, 'ecs-exec-log-group', {
        name: logGroupName(props, ECS_EXEC),
        ...logGroupRetention(props.logRetentionDays),
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
      ...settings,
      cluster: this.cluster,
      capacityProviders: this.capacityProviders,
      execLogGroup: this.execLogGroup,
    };
    this.lanes = Object.fromEntries(lanes.map((lane) => [lane.name, new LaneService(this, `lane-${lane.name}`, { ...ctx, lane })]));
    this.serviceArns = Object.fromEntries(Object.entries(this.lanes).map(([lane, s]) => [lane, s.service.id]));
    if (scheduler) {
      this.scheduler = new SchedulerService(this, 'scheduler', { ...ctx, scheduler });
    }
  }
}
