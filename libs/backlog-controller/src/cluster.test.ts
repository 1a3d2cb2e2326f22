import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Redis } from 'ioredis';
import { keySlot } from './redis';
import { testServers } from './testing/env';
import { Harness, localRedis } from './testing/harness';
import { startRedis, type RunningServer } from './testing/servers';

/*
 * Cluster mode against a real (single-node) Redis Cluster: the controller
 * connects as a cluster client and reads Laravel's hash-tagged keys,
 * <prefix>queues:{q}, in one pipeline per node.
 */

const { motoEndpoint } = testServers();
let server: RunningServer;
let admin: Redis;
let dir: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'bc-cluster-'));
  server = await startRedis({
    args: [
      '--cluster-enabled',
      'yes',
      '--cluster-config-file',
      join(dir, 'nodes.conf'),
      // Without it a lone node reports its address as "" and clients cannot follow the slot map.
      '--cluster-announce-ip',
      '127.0.0.1',
    ],
  });
  admin = localRedis(server.port);
  await admin.call('CLUSTER', 'ADDSLOTSRANGE', '0', '16383');
  for (let i = 0; i < 200; i += 1) {
    if (String(await admin.call('CLUSTER', 'INFO')).includes('cluster_state:ok')) break;
    await new Promise((done) => setTimeout(done, 25));
  }
});

afterAll(async () => {
  admin.disconnect();
  await server.stop();
  rmSync(dir, { recursive: true, force: true });
});

it("computes the same hash slots as the server, and Laravel's keys of one queue share one", async () => {
  const keys = ['foo', 'app_database_queues:{image}', 'app_database_queues:{image}:reserved', 'queues:{bulk}:delayed'];
  for (const key of keys) expect(keySlot(key)).toBe(await admin.call('CLUSTER', 'KEYSLOT', key));
});

it('reads the hash-tagged queues as a cluster client, in one pipeline per node', async () => {
  let execs = 0;
  const h = new Harness({
    redisPort: server.port,
    motoEndpoint,
    lanes: [
      { name: 'image', queues: ['image', 'image-low'], backlogPerTask: 5 },
      { name: 'bulk', current: 2 },
    ],
    redis: { cluster: true },
    wrapRedis: (client) => {
      const pipeline = client.pipeline.bind(client);
      client.pipeline = ((...args: Parameters<typeof pipeline>) => {
        const p = pipeline(...args);
        const exec = p.exec.bind(p);
        p.exec = ((...a: Parameters<typeof exec>) => ((execs += 1), exec(...a))) as typeof p.exec;
        return p;
      }) as typeof client.pipeline;
      return client;
    },
  });
  try {
    await h.createServices();
    const now = Math.floor(Date.now() / 1000);
    await h.queue.push('image', 6, { createdAt: now - 10 });
    await h.queue.push('image-low', 2, { createdAt: now - 40 });
    await h.queue.later('bulk', now - 1);
    expect(h.queue.key('image')).toBe(`${h.redis.keyPrefix}queues:{image}`);

    const report = await h.controller.tick();

    expect(execs).toBe(1);
    expect(report.lanes.map((l) => [l.lane, l.ready, l.delayedDue, l.desired])).toEqual([
      ['image', 8, 0, 2],
      ['bulk', 0, 1, 1],
    ]);
    expect(report.lanes[0].oldestReadyAgeSeconds).toBeGreaterThanOrEqual(40);
  } finally {
    await h.close();
  }
});
