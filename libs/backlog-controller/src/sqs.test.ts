import { PutMetricDataCommand } from '@aws-sdk/client-cloudwatch';
import { DeleteQueueCommand, ReceiveMessageCommand, SendMessageBatchCommand, SendMessageCommand } from '@aws-sdk/client-sqs';
import { ControllerTickError, type TickReport } from './controller';
import { desiredCounts } from './testing/aws';
import { attemptMetric, fileHarnesses, type Harness } from './testing/harness';

/*
 * SQS lanes sized by the same controller as Redis lanes: their queues in moto's
 * SQS, read with GetQueueAttributes each tick, decided by the same decide().
 */

const { harness } = fileHarnesses();

const lane = (report: TickReport, name: string) => report.lanes.find((l) => l.lane === name);

/** Sends `count` messages to the lane's queue (10 per batch, SendMessageBatch's limit), each after `delaySeconds`. */
async function send(h: Harness, laneName: string, count: number, delaySeconds = 0, which: 'queue' | 'dlq' = 'queue'): Promise<void> {
  const QueueUrl = h.sqsUrls.get(h.sqsQueue(laneName, which))!;
  for (let sent = 0; sent < count; sent += 10) {
    const Entries = Array.from({ length: Math.min(10, count - sent) }, (_, i) => ({
      Id: String(sent + i),
      MessageBody: JSON.stringify({ job: 'App\\Jobs\\ImportFeed', n: sent + i }),
      DelaySeconds: delaySeconds,
    }));
    await h.check.sqs.send(new SendMessageBatchCommand({ QueueUrl, Entries }));
  }
}

/** A worker's receive: `count` messages leave the visible set and are in flight for the visibility timeout. */
async function receive(h: Harness, laneName: string, count: number): Promise<void> {
  const QueueUrl = h.sqsUrls.get(h.sqsQueue(laneName))!;
  const out = await h.check.sqs.send(new ReceiveMessageCommand({ QueueUrl, MaxNumberOfMessages: count, VisibilityTimeout: 600 }));
  expect(out.Messages ?? []).toHaveLength(count);
}

/** Earlier ticks' published metric values for a lane, one a minute back from now (values[0] a minute ago). */
async function seed(h: Harness, laneName: string, metrics: readonly string[], values: readonly number[]): Promise<void> {
  const now = Date.now();
  const Dimensions = [
    { Name: 'Environment', Value: h.config.environment },
    { Name: 'Lane', Value: laneName },
  ];
  await h.check.cloudwatch.send(
    new PutMetricDataCommand({
      Namespace: h.config.namespace,
      MetricData: values.flatMap((Value, i) =>
        metrics.map((MetricName) => ({
          MetricName,
          Dimensions,
          Value,
          Unit: 'Count' as const,
          Timestamp: new Date(now - (i + 1) * 60_000),
        })),
      ),
    }),
  );
}

describe('an SQS lane', () => {
  it("is read with one GetQueueAttributes per queue a tick (visible, in flight, delayed, and its dead-letter queue's), its URLs looked up once", async () => {
    const h = await harness([{ name: 'feeds', broker: 'sqs', current: 1, backlogPerTask: 2 }]);
    await send(h, 'feeds', 5);
    await receive(h, 'feeds', 2);
    await send(h, 'feeds', 3, 600);
    await send(h, 'feeds', 1, 0, 'dlq');
    h.clients.reset();

    const report = await h.controller.tick();

    expect(lane(report, 'feeds')).toMatchObject({
      ready: 3,
      reserved: 2,
      delayed: 3,
      delayedDue: 0,
      backlog: 5,
      current: 1,
      desired: 3, // ceil(5 / 2)
      reason: 'scale-out',
    });
    expect(Object.fromEntries(h.clients.sent)).toEqual({
      GetQueueUrlCommand: 2,
      GetQueueAttributesCommand: 2,
      DescribeServicesCommand: 1,
      UpdateServiceCommand: 1,
      PutMetricDataCommand: 1,
    });
    expect(await h.metric('Ready', 'feeds')).toBe(3);
    expect(await h.metric('Reserved', 'feeds')).toBe(2);
    expect(await h.metric('Delayed', 'feeds')).toBe(3);
    expect(await h.metric('Backlog', 'feeds')).toBe(5);
    expect(await h.metric('DeadLetters', 'feeds')).toBe(1);
    expect(await h.metricNames('feeds')).not.toContain('KeysUnderOtherPrefix');

    h.clients.reset();
    await h.controller.tick();
    expect(h.clients.sent.get('GetQueueUrlCommand') ?? 0).toBe(0);
    expect(h.clients.sent.get('GetQueueAttributesCommand')).toBe(2);
  });

  it('wakes from zero on one message, within the tick', async () => {
    const h = await harness([{ name: 'feeds', broker: 'sqs', current: 0, backlogPerTask: 50 }]);
    expect(lane(await h.controller.tick(), 'feeds')).toMatchObject({ backlog: 0, desired: 0, reason: 'steady' });

    await h.check.sqs.send(new SendMessageCommand({ QueueUrl: h.sqsUrls.get(h.sqsQueue('feeds'))!, MessageBody: '{}' }));
    const report = await h.controller.tick();

    expect(lane(report, 'feeds')).toMatchObject({ ready: 1, backlog: 1, desired: 1, reason: 'wake-from-zero' });
    expect(await desiredCounts(h.check.ecs, h.config.cluster, ['svc-feeds'])).toEqual({ 'svc-feeds': 1 });
  });

  it('drains to zero only once its drain window is empty, and a delayed message holds its last task', async () => {
    const h = await harness([
      { name: 'idle', broker: 'sqs', current: 1, drainMinutes: 3 },
      { name: 'recent', broker: 'sqs', current: 1, drainMinutes: 3 },
      { name: 'delayed', broker: 'sqs', current: 1, drainMinutes: 3 },
    ]);
    await seed(h, 'idle', ['Backlog', 'Delayed'], [0, 0, 0]);
    await seed(h, 'recent', ['Backlog', 'Delayed'], [0, 2, 0]);
    await seed(h, 'delayed', ['Backlog', 'Delayed'], [0, 0, 0]);
    // SQS does not say when a delayed message comes due: it keeps the lane from going to zero.
    await send(h, 'delayed', 1, 900);

    const report = await h.controller.tick();

    expect(lane(report, 'idle')).toMatchObject({ backlog: 0, desired: 0, reason: 'drained' });
    expect(lane(report, 'recent')).toMatchObject({ desired: 1, reason: 'hold-one-draining' });
    expect(lane(report, 'delayed')).toMatchObject({ delayed: 1, desired: 1, reason: 'hold-one-draining' });
    expect(report.changes).toEqual([{ service: 'svc-idle', from: 1, to: 0 }]);
  });

  it('is held while its dead-letter queue grows (attempts that died without a FAIL line), and a healthy lane is widened', async () => {
    const h = await harness([
      { name: 'dying', broker: 'sqs', current: 1, backlogPerTask: 10, attemptMetrics: true },
      { name: 'healthy', broker: 'sqs', current: 1, backlogPerTask: 10, attemptMetrics: true },
    ]);
    await send(h, 'dying', 30);
    await send(h, 'healthy', 30);
    // Five minutes ago its dead-letter queue was empty; six messages have reached it since.
    await seed(h, 'dying', ['DeadLetters'], [6, 4, 2, 0]);
    await send(h, 'dying', 6, 0, 'dlq');
    await seed(h, 'healthy', ['DeadLetters'], [0, 0, 0, 0]);

    const report = await h.controller.tick();

    expect(lane(report, 'dying')).toMatchObject({ backlog: 30, desired: 1, reason: 'hold-failing' });
    expect(lane(report, 'healthy')).toMatchObject({ backlog: 30, desired: 3, reason: 'scale-out' });
    expect(h.clients.sent.get('GetMetricDataCommand')).toBe(1);
  });

  it('sizes long jobs for maxPickupSeconds from how long a job has been in flight with none finished', async () => {
    const lanes = ['long', 'finishing'].map((name) => ({
      name,
      broker: 'sqs' as const,
      current: 1,
      max: 4,
      backlogPerTask: 50,
      maxPickupSeconds: 600,
      workersPerTask: 2,
      attemptMetrics: true,
    }));
    const h = await harness(lanes);
    for (const { name } of lanes) {
      await send(h, name, 20);
      await receive(h, name, 2);
      // Two jobs in flight at each of the last six ticks.
      await seed(h, name, ['Reserved'], [2, 2, 2, 2, 2, 2]);
    }
    // 'finishing' finished an attempt two minutes ago: its running jobs may be young.
    await h.check.cloudwatch.send(
      new PutMetricDataCommand({
        Namespace: attemptMetric('finishing', 'FinishedJobs').namespace,
        MetricData: [{ MetricName: 'FinishedJobs', Value: 1, Unit: 'Count', Timestamp: new Date(Date.now() - 2 * 60_000) }],
      }),
    );

    const report = await h.controller.tick();

    // In flight for at least 5 minutes: 18 waiting × 300 s ÷ (600 s × 2 workers) = 5 tasks, capped at 4.
    expect(lane(report, 'long')).toMatchObject({ backlog: 20, desired: 4, reason: 'scale-out-for-pickup' });
    expect(lane(report, 'finishing')).toMatchObject({ backlog: 20, desired: 1, reason: 'steady' });
  });

  it('shares the fleet cap with Redis lanes, in priority order', async () => {
    const h = await harness(
      [
        { name: 'sync', current: 0, backlogPerTask: 10, priority: 1 },
        { name: 'feeds', broker: 'sqs', current: 0, backlogPerTask: 10, priority: 2 },
      ],
      { fleetMaxTasks: 5, reservedTasks: 1 },
    );
    await h.queue.push('sync', 30);
    await send(h, 'feeds', 30);

    const report = await h.controller.tick();

    expect(lane(report, 'sync')).toMatchObject({ wanted: 3, desired: 3, reason: 'wake-from-zero' });
    expect(lane(report, 'feeds')).toMatchObject({ wanted: 3, desired: 1, held: 2, reason: 'fleet-cap' });
  });

  it('whose read fails changes nothing for that lane, while the other lanes, SQS and Redis, still scale', async () => {
    const h = await harness([
      { name: 'gone', broker: 'sqs', current: 2 },
      { name: 'feeds', broker: 'sqs', current: 0, backlogPerTask: 10 },
      { name: 'sync', current: 0, backlogPerTask: 10 },
    ]);
    await h.check.sqs.send(new DeleteQueueCommand({ QueueUrl: h.sqsUrls.get(h.sqsQueue('gone'))! }));
    await send(h, 'feeds', 20);
    await h.queue.push('sync', 20);

    const failure = (await h.controller.tick().catch((error: unknown) => error)) as ControllerTickError;

    expect(failure).toBeInstanceOf(ControllerTickError);
    expect(failure.report.errors).toEqual([expect.stringMatching(/^SQS read of lane gone failed: .*(does not exist|NonExistentQueue)/)]);
    expect(failure.report.lanes.map((l) => l.lane).sort()).toEqual(['feeds', 'sync']);
    expect(failure.report.changes).toEqual([
      { service: 'svc-feeds', from: 0, to: 2 },
      { service: 'svc-sync', from: 0, to: 2 },
    ]);
    expect(await desiredCounts(h.check.ecs, h.config.cluster, ['svc-gone', 'svc-feeds', 'svc-sync'])).toEqual({
      'svc-gone': 2,
      'svc-feeds': 2,
      'svc-sync': 2,
    });
    expect(await h.metric('ControllerErrors')).toBe(1);
  });
});
