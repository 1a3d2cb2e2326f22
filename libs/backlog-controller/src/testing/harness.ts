import { GetMetricStatisticsCommand, ListMetricsCommand } from '@aws-sdk/client-cloudwatch';
import { Redis } from 'ioredis';
import { parseControllerConfig, type ControllerConfig, type ControllerConfigInput, type RedisConfig } from '@queue-lanes/contract';
import { BacklogController, type ControllerDeps } from '../controller';
import { connectRedis, type RedisClient } from '../redis';
import { createQueues, createServices, motoClients, type CountedClients } from './aws';
import { testServers } from './env';
import type { RunningServer } from './servers';
import { LaravelQueue } from './laravel-queue';

/*
 * One controller under test: a configuration of its own (cluster, environment
 * and key prefix unique to the test, so test files can share the servers), its
 * ECS services in moto, and a writer that fills Redis the way Laravel does.
 */

export interface LaneSpec {
  readonly name: string;
  /** sqs: the lane's queue and dead-letter queue are created in moto ({@link Harness.sqsQueue}). @default 'redis' */
  readonly broker?: 'redis' | 'sqs';
  /** The service's desired count before the tick. @default 0 */
  readonly current?: number;
  readonly queues?: string[];
  readonly min?: number;
  readonly max?: number;
  readonly backlogPerTask?: number;
  readonly drainMinutes?: number;
  readonly scaleInStep?: number;
  readonly priority?: number;
  /** @default true */
  readonly sized?: boolean;
  readonly jobTimeoutSeconds?: number;
  readonly maxPickupSeconds?: number;
  readonly workersPerTask?: number;
  /** Count the lane's job lines, and those that threw or failed, in {@link attemptMetric}'s metrics. @default false */
  readonly attemptMetrics?: boolean;
}

/** Where a harness lane's finished (every job line) or failed (threw or failed) attempts are counted. */
export function attemptMetric(lane: string, kind: 'FinishedJobs' | 'FailedJobs'): { namespace: string; name: string } {
  return { namespace: `QueueLanes/test/${lane}`, name: kind };
}

export interface HarnessOptions {
  readonly redisPort: number;
  readonly motoEndpoint: string;
  readonly lanes: readonly LaneSpec[];
  readonly fleetMaxTasks?: number;
  readonly reservedTasks?: number;
  readonly redis?: Partial<ControllerConfigInput['redis']>;
  /** Commands the controller's AWS clients refuse (e.g. 'GetMetricDataCommand'). */
  readonly failCommands?: readonly string[];
  /** The password the test's own Redis client uses to fill the queues. */
  readonly writerPassword?: string;
  /** The CA the test's own Redis client trusts, for a TLS-only server. */
  readonly writerCa?: string;
  /** Receives the controller's log lines. @default dropped */
  readonly log?: (entry: Record<string, unknown>) => void;
  /** Wraps the controller's Redis connection (to count what it sends). */
  readonly wrapRedis?: (client: RedisClient) => RedisClient;
}

let counter = 0;

export class Harness {
  readonly id: string;
  readonly config: ControllerConfig;
  /** The controller's own clients, counting what they send. */
  readonly clients: CountedClients;
  /** Clients for the test's own checks (not counted). */
  readonly check: CountedClients;
  readonly controller: BacklogController;
  readonly writer: Redis;
  readonly queue: LaravelQueue;
  /** SQS queue URLs by name, once {@link createServices} made them. */
  readonly sqsUrls = new Map<string, string>();

  constructor(readonly options: HarnessOptions) {
    counter += 1;
    this.id = `t${process.pid}x${counter}x${Date.now().toString(36)}`;
    const input: ControllerConfigInput = {
      cluster: `cluster-${this.id}`,
      environment: `env-${this.id}`,
      namespace: 'QueueLanesTest',
      // The probe would find other tests' queues (same names, other prefixes) in the shared server:
      // the tests of the probe turn it on, on a server of their own.
      redis: {
        host: '127.0.0.1',
        port: options.redisPort,
        tls: false,
        keyPrefix: `${this.id}_database_`,
        prefixProbe: false,
        ...options.redis,
      },
      fleetMaxTasks: options.fleetMaxTasks ?? 50,
      reservedTasks: options.reservedTasks ?? 0,
      lanes: options.lanes.map((lane) => ({
        name: lane.name,
        service: this.service(lane.name),
        ...(lane.broker === 'sqs'
          ? { broker: 'sqs' as const, sqs: { deadLetterQueue: this.sqsQueue(lane.name, 'dlq') }, queues: [this.sqsQueue(lane.name)] }
          : { queues: lane.queues ?? [lane.name] }),
        min: lane.min ?? 0,
        max: lane.max ?? 4,
        backlogPerTask: lane.backlogPerTask ?? 10,
        drainMinutes: lane.drainMinutes ?? 3,
        scaleInStep: lane.scaleInStep ?? 1,
        priority: lane.priority,
        sized: lane.sized,
        jobTimeoutSeconds: lane.jobTimeoutSeconds,
        maxPickupSeconds: lane.maxPickupSeconds,
        workersPerTask: lane.workersPerTask,
        ...(lane.attemptMetrics
          ? { finishedJobsMetric: attemptMetric(lane.name, 'FinishedJobs'), failedJobsMetric: attemptMetric(lane.name, 'FailedJobs') }
          : {}),
      })),
    };
    this.config = parseControllerConfig(JSON.stringify(input));
    this.clients = motoClients(options.motoEndpoint, options.failCommands);
    this.check = motoClients(options.motoEndpoint);
    const deps: ControllerDeps = {
      ...this.clients,
      log: options.log ?? (() => undefined),
      connectRedis: async (config, password) => {
        const client = await connectRedis(config, password);
        return options.wrapRedis ? options.wrapRedis(client) : client;
      },
    };
    this.controller = new BacklogController(this.config, deps);
    this.writer = localRedis(options.redisPort, options.writerPassword, options.writerCa);
    this.queue = new LaravelQueue(this.writer, {
      prefix: this.redis.keyPrefix,
      cluster: this.redis.cluster,
      retryAfter: this.redis.retryAfterSeconds,
    });
  }

  service(lane: string): string {
    return `svc-${lane}`;
  }

  /** An SQS lane's queue (or its dead-letter queue), named for this harness so test files can share moto. */
  sqsQueue(lane: string, which: 'queue' | 'dlq' = 'queue'): string {
    return `${this.id}-${lane}${which === 'dlq' ? '-dlq' : ''}`;
  }

  /** The Redis settings (every harness has them). */
  get redis(): RedisConfig {
    return this.config.redis!;
  }

  /** Creates the cluster and the lanes' services at their `current` counts, and the SQS lanes' queues. */
  async createServices(): Promise<void> {
    const sqsLanes = this.options.lanes.filter((lane) => lane.broker === 'sqs');
    const urls = await createQueues(
      this.check.sqs,
      sqsLanes.flatMap((lane) => [this.sqsQueue(lane.name), this.sqsQueue(lane.name, 'dlq')]),
    );
    for (const [name, url] of Object.entries(urls)) this.sqsUrls.set(name, url);
    await createServices(
      this.check.ecs,
      this.config.cluster,
      Object.fromEntries(this.options.lanes.map((lane) => [this.service(lane.name), lane.current ?? 0])),
    );
  }

  /** The latest value of a lane metric (or ControllerErrors when `lane` is undefined), or undefined if none. */
  async metric(name: string, lane?: string): Promise<number | undefined> {
    const now = Date.now();
    const out = await this.check.cloudwatch.send(
      new GetMetricStatisticsCommand({
        Namespace: this.config.namespace,
        MetricName: name,
        Dimensions: [
          { Name: 'Environment', Value: this.config.environment },
          ...(lane === undefined ? [] : [{ Name: 'Lane', Value: lane }]),
        ],
        StartTime: new Date(now - 30 * 60_000),
        EndTime: new Date(now + 60_000),
        Period: 60,
        Statistics: ['Maximum'],
      }),
    );
    const points = (out.Datapoints ?? []).sort((a, b) => b.Timestamp!.getTime() - a.Timestamp!.getTime());
    return points[0]?.Maximum;
  }

  /** Names of the metrics published for `lane`. */
  async metricNames(lane: string): Promise<string[]> {
    const out = await this.check.cloudwatch.send(
      new ListMetricsCommand({
        Namespace: this.config.namespace,
        Dimensions: [
          { Name: 'Environment', Value: this.config.environment },
          { Name: 'Lane', Value: lane },
        ],
      }),
    );
    return [...new Set((out.Metrics ?? []).map((m) => m.MetricName!))].sort();
  }

  async close(): Promise<void> {
    await this.controller.close();
    this.writer.disconnect();
    for (const client of [this.clients, this.check]) {
      client.ecs.destroy();
      client.cloudwatch.destroy();
      client.ssm.destroy();
      client.sqs.destroy();
    }
  }
}

/** A test's own ioredis client on 127.0.0.1 (TLS when given the server's CA). */
export function localRedis(port: number, password?: string, ca?: string): Redis {
  const tls = ca === undefined ? undefined : { ca };
  return new Redis({ host: '127.0.0.1', port, password, tls, lazyConnect: true, maxRetriesPerRequest: 0 });
}

/**
 * One test file's harnesses on the global setup's servers: `harness` creates one
 * with its services in moto; `servers` collects servers the file starts itself.
 * Everything is closed after the file's tests.
 */
export function fileHarnesses(): {
  readonly harness: (lanes: readonly LaneSpec[], options?: Partial<HarnessOptions>) => Promise<Harness>;
  readonly servers: RunningServer[];
  readonly redisPort: number;
  readonly motoEndpoint: string;
  /** Closes a harness the test built itself after the file's tests, with the others. */
  readonly track: (h: Harness) => void;
} {
  const { redisPort, motoEndpoint } = testServers();
  const open: Harness[] = [];
  const servers: RunningServer[] = [];
  afterAll(async () => {
    await Promise.all(open.map((h) => h.close()));
    await Promise.all(servers.map((s) => s.stop()));
  });
  const harness = async (lanes: readonly LaneSpec[], options: Partial<HarnessOptions> = {}): Promise<Harness> => {
    const h = new Harness({ redisPort, motoEndpoint, lanes, ...options });
    open.push(h);
    await h.createServices();
    return h;
  };
  return { harness, servers, redisPort, motoEndpoint, track: (h) => open.push(h) };
}
