import { parseControllerConfig } from '@queue-lanes/contract';
import { controllerMeasuredLanes } from '@queue-lanes/config';
import { SAMPLE_BLOCKS } from '@queue-lanes/config/testing';
import { buildControllerConfig } from '@queue-lanes/contract/environment';
import { env, redisLane, sqsLane } from './testing/fixtures';

const options = { parameterPathPrefix: '/propertyfeed/staging' };

describe('the controller configuration', () => {
  const mixed = env(
    [
      redisLane('image', 'scaling', ['backlogPerTask: 20', 'drainMinutes: 30']),
      `  sync:
    queues: [sync, sync-low]
    stage: owned
    tasks: { min: 1, max: 4 }
    priority: 5`,
      redisLane('bulk', 'baseline', ['tasks: { baseline: 2, max: 2 }']),
      redisLane('archive', 'off'),
      sqsLane('feeds', 'owned', ['tasks: { min: 0, max: 3 }']),
      sqsLane('exports', 'baseline'),
    ].join('\n'),
  );
  const config = parseControllerConfig(JSON.stringify(buildControllerConfig(mixed, options)));

  it('measures every lane past off, Redis and SQS, in priority order, and sizes those the controller sizes', () => {
    expect(controllerMeasuredLanes(mixed).map((l) => l.name)).toEqual(['sync', 'image', 'bulk', 'feeds', 'exports']);
    expect(config.lanes.slice(3)).toEqual([
      expect.objectContaining({
        name: 'feeds',
        broker: 'sqs',
        sqs: { deadLetterQueue: 'propertyfeed-staging-feeds-dlq' },
        queues: ['propertyfeed-staging-feeds'],
        sized: true,
        min: 0,
        max: 3,
      }),
      expect.objectContaining({ name: 'exports', broker: 'sqs', queues: ['propertyfeed-staging-exports'], sized: false }),
    ]);
    expect(config.lanes.slice(0, 3)).toEqual([
      {
        name: 'sync',
        service: 'propertyfeed-sync',
        broker: 'redis',
        finishedJobsMetric: { namespace: 'QueueLanes/propertyfeed-staging/sync', name: 'FinishedJobs' },
        failedJobsMetric: { namespace: 'QueueLanes/propertyfeed-staging/sync', name: 'FailedJobs' },
        sized: true,
        jobTimeoutSeconds: 60,
        lookaheadSeconds: 120,
        queues: ['sync', 'sync-low'],
        min: 1,
        max: 4,
        backlogPerTask: 50,
        drainMinutes: 15,
        scaleInStep: 1,
        priority: 5,
        maxPickupSeconds: 600,
        workersPerTask: 1,
      },
      {
        name: 'image',
        service: 'propertyfeed-image',
        broker: 'redis',
        finishedJobsMetric: { namespace: 'QueueLanes/propertyfeed-staging/image', name: 'FinishedJobs' },
        failedJobsMetric: { namespace: 'QueueLanes/propertyfeed-staging/image', name: 'FailedJobs' },
        sized: true,
        jobTimeoutSeconds: 60,
        lookaheadSeconds: 120,
        queues: ['image'],
        min: 0,
        max: 2,
        backlogPerTask: 20,
        drainMinutes: 30,
        scaleInStep: 1,
        priority: 10,
        maxPickupSeconds: 600,
        workersPerTask: 1,
      },
      {
        name: 'bulk',
        service: 'propertyfeed-bulk',
        broker: 'redis',
        finishedJobsMetric: { namespace: 'QueueLanes/propertyfeed-staging/bulk', name: 'FinishedJobs' },
        failedJobsMetric: { namespace: 'QueueLanes/propertyfeed-staging/bulk', name: 'FailedJobs' },
        sized: false,
        jobTimeoutSeconds: 60,
        lookaheadSeconds: 120,
        queues: ['bulk'],
        min: 0,
        max: 2,
        backlogPerTask: 50,
        drainMinutes: 15,
        scaleInStep: 1,
        priority: 30,
        maxPickupSeconds: 600,
        workersPerTask: 1,
      },
    ]);
  });

  it('caps the fleet at fleet.maxTasks, less baseline counts (an SQS lane it sizes counts under the cap like a Redis one)', () => {
    // bulk 2 (baseline) + exports 1 (baseline).
    expect(mixed.reservedTasks).toBe(3);
    expect(config).toMatchObject({
      cluster: 'propertyfeed-staging',
      environment: 'staging',
      namespace: 'QueueLanes',
      fleetMaxTasks: 8,
      reservedTasks: 3,
    });
  });

  it("reads the workers' Redis: host, port, TLS and the AUTH token parameter", () => {
    expect(config.redis).toEqual({
      host: 'queues.cache.internal',
      port: 6379,
      tls: true,
      keyPrefix: 'propertyfeed_database_',
      retryAfterSeconds: 90,
      prefixProbe: true,
      cluster: false,
      database: 0,
      authParameterName: '/propertyfeed/staging/env/REDIS_PASSWORD',
      connectTimeoutMs: 2000,
      commandTimeoutMs: 3000,
      prefixProbeIntervalSeconds: 300,
      prefixProbeScanCount: 1000,
      prefixProbeMaxCalls: 10,
    });
  });

  it('takes redis settings and the network port from the file', () => {
    const e = env(redisLane('image', 'scaling'), {
      network: SAMPLE_BLOCKS.network.replace('sg-0123456789abcdef1 }', 'sg-0123456789abcdef1, port: 6380 }'),
      redis:
        'redis: { host: clustercfg.queues.internal, cluster: true, tls: false, username: controller, keyPrefix: "", retryAfter: null, probeOtherPrefixes: false }',
    });
    expect(buildControllerConfig(e, options).redis).toEqual({
      host: 'clustercfg.queues.internal',
      port: 6380,
      tls: false,
      keyPrefix: '',
      retryAfterSeconds: null,
      prefixProbe: false,
      cluster: true,
      database: 0,
      username: 'controller',
    });
  });

  it("takes the key prefix from the file, else the workers' REDIS_PREFIX, and never derives it", () => {
    const plain = (p: string) => `parameters: { plain: { REDIS_HOST: h${p} }, secure: [DB_PASSWORD, REDIS_PASSWORD] }`;
    const prefix = (overrides: Record<string, string>) =>
      buildControllerConfig(env(redisLane('image', 'baseline'), overrides), options).redis?.keyPrefix;
    expect(prefix({ parameters: plain(', REDIS_PREFIX: pf-'), redis: 'redis: { authParameter: REDIS_PASSWORD }' })).toBe('pf-');
    expect(prefix({ redis: 'redis: { authParameter: REDIS_PASSWORD, keyPrefix: propertyfeed-database- }' })).toBe('propertyfeed-database-');
  });

  it('leaves the AUTH token out when Redis has none', () => {
    const e = env(redisLane('image', 'scaling'), { redis: 'redis: { keyPrefix: propertyfeed_database_ }' });
    expect(buildControllerConfig(e, options).redis).not.toHaveProperty('authParameterName');
  });

  it('has nothing to do while every lane is off', () => {
    expect(() => buildControllerConfig(env(redisLane('image', 'off')), options)).toThrow(
      'the backlog controller has no lane to measure: no lane is past stage off',
    );
  });

  it('needs no Redis while only SQS lanes run', () => {
    const e = env(sqsLane('feeds', 'owned'), { redis: 'redis: { tls: true }', parameters: 'parameters: { plain: {}, secure: [] }' });
    const sqsOnly = parseControllerConfig(JSON.stringify(buildControllerConfig(e, options)));
    expect(sqsOnly.redis).toBeUndefined();
    expect(sqsOnly.lanes.map((l) => [l.name, l.broker])).toEqual([['feeds', 'sqs']]);
  });
});

describe('a lane with process groups', () => {
  const grouped = env(
    [
      '  sync:',
      '    stage: scaling',
      '    tasks: { min: 0, max: 2 }',
      '    cpu: 512',
      '    memory: 1024',
      '    job: { timeout: 60 }',
      '    groups:',
      '      - { name: urgent, queues: [sync-urgent], processes: 1, job: { timeout: 20 } }',
      '      - { name: main, queues: [sync-urgent, sync], processes: 3, job: { timeout: 80 } }',
    ].join('\n'),
  );
  const [lane] = parseControllerConfig(JSON.stringify(buildControllerConfig(grouped, options))).lanes;

  it('reads each queue once and sizes the lane for every process, its longest job timeout for stuck reservations', () => {
    expect(lane).toMatchObject({ queues: ['sync-urgent', 'sync'], workersPerTask: 4, jobTimeoutSeconds: 80 });
  });
});
