import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
// The clients' own protocol implementation (a dependency of every v3 client), for moto; see motoClients.
import { AwsQueryProtocol } from '@aws-sdk/core/protocols';
import { CreateClusterCommand, CreateServiceCommand, DescribeServicesCommand, ECSClient } from '@aws-sdk/client-ecs';
import { CreateQueueCommand, SQSClient } from '@aws-sdk/client-sqs';
import { SSMClient } from '@aws-sdk/client-ssm';

/*
 * AWS clients pointed at moto, with a per-client count of the commands sent
 * (an SDK middleware), so tests can assert "one PutMetricData per tick".
 *
 * CloudWatch speaks three protocols (AWS Query, JSON 1.0, CBOR); SDK v3 uses
 * JSON, but moto answers only what its botocore's model lists, and the .venv's
 * botocore is held at 1.35 by checkov's boto3 pin, whose CloudWatch model is
 * Query-only. So the test clients use the Query protocol; the default-client
 * tests (handler entry, bundle) point CloudWatch at cloudwatch-stub.ts instead.
 */

export const TEST_REGION = 'eu-west-2';
export const TEST_CREDENTIALS = { accessKeyId: 'testing', secretAccessKey: 'testing' };
const credentials = TEST_CREDENTIALS;

export interface CountedClients {
  readonly ecs: ECSClient;
  readonly cloudwatch: CloudWatchClient;
  readonly ssm: SSMClient;
  readonly sqs: SQSClient;
  /** Commands sent, by name ("PutMetricDataCommand"), across the four clients. */
  readonly sent: Map<string, number>;
  /** Forgets the counts. */
  reset(): void;
}

type AnyClient = ECSClient | CloudWatchClient | SSMClient | SQSClient;

/** Clients for moto at `endpoint`; `fail` makes the named commands throw before they are sent. */
export function motoClients(endpoint: string, fail: readonly string[] = []): CountedClients {
  const sent = new Map<string, number>();
  const options = { endpoint, region: TEST_REGION, credentials, maxAttempts: 1 };
  const ecs = new ECSClient(options);
  const cloudwatch = new CloudWatchClient({ ...options, protocol: AwsQueryProtocol });
  const ssm = new SSMClient(options);
  const sqs = new SQSClient(options);
  for (const client of [ecs, cloudwatch, ssm, sqs] as AnyClient[]) {
    (client.middlewareStack as ECSClient['middlewareStack']).add(
      (next, context) => async (args) => {
        const name = context.commandName ?? 'unknown';
        sent.set(name, (sent.get(name) ?? 0) + 1);
        if (fail.includes(name)) throw new Error(`${name} refused by the test`);
        return next(args);
      },
      { step: 'initialize', name: 'countCommands' },
    );
  }
  return { ecs, cloudwatch, ssm, sqs, sent, reset: () => sent.clear() };
}

/** Creates an ECS cluster with one service per entry, at the given desired counts. */
export async function createServices(ecs: ECSClient, cluster: string, services: Record<string, number>): Promise<void> {
  await ecs.send(new CreateClusterCommand({ clusterName: cluster }));
  await Promise.all(
    Object.entries(services).map(([serviceName, desiredCount]) =>
      ecs.send(new CreateServiceCommand({ cluster, serviceName, desiredCount, launchType: 'FARGATE' })),
    ),
  );
}

/** Desired counts by service name. */
export async function desiredCounts(ecs: ECSClient, cluster: string, services: readonly string[]): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (let i = 0; i < services.length; i += 10) {
    const page = await ecs.send(new DescribeServicesCommand({ cluster, services: services.slice(i, i + 10) }));
    for (const s of page.services ?? []) out[s.serviceName!] = s.desiredCount!;
  }
  return out;
}

/** Creates SQS queues by name; returns their URLs by name. */
export async function createQueues(sqs: SQSClient, names: readonly string[]): Promise<Record<string, string>> {
  const urls = await Promise.all(names.map((QueueName) => sqs.send(new CreateQueueCommand({ QueueName }))));
  return Object.fromEntries(names.map((name, i) => [name, urls[i].QueueUrl!]));
}
