import type { EnvironmentConfig } from '@queue-lanes/config';
import { WorkerNetwork, workerNetworkProps } from '@queue-lanes/networking';
import { Observability, observabilityProps } from '@queue-lanes/observability';
import { WorkerScaling, workerScalingProps } from '@queue-lanes/scaling';
import { ParameterStore, parameterStoreProps } from '@queue-lanes/ssm-parameters';
import { WorkerService, workerServiceProps } from '@queue-lanes/worker-service';
import { TerraformOutput } from 'cdktf';
import type { Construct } from 'constructs';
import { EnvironmentStack, environmentStackProps } from './environment-stack';
import { terraformLiterals } from './literals';

/** The four stacks of one environment. */
export interface EnvironmentStacks {
  readonly networking: EnvironmentStack;
  readonly parameters: EnvironmentStack;
  readonly workers: EnvironmentStack;
  readonly scaling: EnvironmentStack;
  /** Worker and controller security groups (in `networking`); other stacks use their ids. */
  readonly network: WorkerNetwork;
  /** Runtime parameters, their KMS key, lane switches and read policy (in `parameters`). */
  readonly parameterStore: ParameterStore;
  /** The cluster, one service per active lane and the scheduler (in `workers`); the scaling stack targets `workerService.lanes[<lane>].service`. */
  readonly workerService: WorkerService;
  /** Queues of SQS lanes, and the backlog controller that sizes every lane (in `scaling`). */
  readonly workerScaling: WorkerScaling;
  /** Dashboard, alarm topic, log metric filters and alarms (in `scaling`). */
  readonly observability: Observability;
}

/**
 * Builds every stack of one environment from its validated configuration.
 * Stacks depend on each other only through cdktf cross-stack references; every
 * string of the file reaches them as a Terraform literal (./literals).
 */
export function composeEnvironment(scope: Construct, config: EnvironmentConfig): EnvironmentStacks {
  const env = terraformLiterals(config);
  const networking = new EnvironmentStack(scope, environmentStackProps(env, 'networking'));
  const network = new WorkerNetwork(networking, 'network', workerNetworkProps(env));
  const parameters = new EnvironmentStack(scope, environmentStackProps(env, 'parameters'));
  const parameterStore = new ParameterStore(parameters, 'parameters', parameterStoreProps(env));
  // The web hosts' role lives outside these stacks; its owners attach this document to it.
  new TerraformOutput(parameters, 'host_consumer_read_policy', {
    value: parameterStore.hostConsumerReadPolicy,
    description: "IAM policy (JSON) for the web hosts' role: read the lanes' host-consumer switches (the host agent)",
  });
  const workers = new EnvironmentStack(scope, environmentStackProps(env, 'workers'));
  const workerService = new WorkerService(
    workers,
    'workers',
    workerServiceProps(env, {
      securityGroupId: network.workerSecurityGroupId,
      secrets: parameterStore.containerSecrets,
      kmsKeyArn: parameterStore.keyArn,
      parameterReadPolicyJson: parameterStore.readPolicy,
    }),
  );
  const scaling = new EnvironmentStack(scope, environmentStackProps(env, 'scaling'));
  const workerScaling = new WorkerScaling(
    scaling,
    'scaling',
    workerScalingProps(env, {
      laneServiceArns: workerService.serviceArns,
      controllerSecurityGroupId: network.controllerSecurityGroupId,
      kmsKeyArn: parameterStore.keyArn,
      parameterPathPrefix: parameterStore.pathPrefix,
      parameterArns: parameterStore.containerSecrets,
    }),
  );
  const observability = new Observability(
    scaling,
    'observability',
    observabilityProps(env, {
      kmsKeyArn: parameterStore.keyArn,
      logGroupNames: Object.fromEntries(Object.entries(workerService.lanes).map(([lane, s]) => [lane, s.logGroup.name])),
      ...(workerScaling.controller ? { controllerFunctionName: workerScaling.controller.functionName } : {}),
    }),
  );
  return { networking, parameters, workers, scaling, network, parameterStore, workerService, workerScaling, observability };
}
