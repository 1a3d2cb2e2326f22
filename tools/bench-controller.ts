// Backlog-controller benchmark: tick time for 3 and 30 lanes and the Lambda bundle's size.
// Starts its own redis-server and moto (tools/bootstrap.sh --test installs both), fills
// each lane's two queues the way Laravel does, then reports medians of the Redis read
// (one pipelined round trip whatever the lane count), the pure decision, and whole ticks
// against moto (local, so AWS's own latency is not in it); then bundles the handler and zips it.
// Usage: node_modules/.bin/tsx tools/bench-controller.ts [ticks]
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { crc32, deflateRawSync } from 'node:zlib';
import { bundleController } from '../libs/backlog-controller/src/bundle';
import { decide, type LaneState } from '../libs/backlog-controller/src/decide';
import { connectRedis, readLanes } from '../libs/backlog-controller/src/redis';
import { Harness } from '../libs/backlog-controller/src/testing/harness';
import { startMoto, startRedis } from '../libs/backlog-controller/src/testing/servers';

const ticks = Number(process.argv[2] ?? 25);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const ms = (start: bigint) => Number(process.hrtime.bigint() - start) / 1e6;

async function time(runs: number, fn: () => Promise<unknown> | unknown): Promise<number> {
  await fn(); // warm
  const samples: number[] = [];
  for (let i = 0; i < runs; i += 1) {
    const start = process.hrtime.bigint();
    await fn();
    samples.push(ms(start));
  }
  return median(samples);
}

/** A one-file zip (deflate), as the Lambda asset would be, so its size is the deployed one. */
function zipOne(name: string, data: Buffer): Buffer {
  const deflated = deflateRawSync(data, { level: 9 });
  const file = Buffer.from(name);
  const crc = crc32(data);
  const local = Buffer.alloc(30);
  local.writeUInt32LE(0x04034b50, 0);
  local.writeUInt16LE(20, 4);
  local.writeUInt16LE(8, 8);
  local.writeUInt32LE(crc, 14);
  local.writeUInt32LE(deflated.length, 18);
  local.writeUInt32LE(data.length, 22);
  local.writeUInt16LE(file.length, 26);
  const central = Buffer.alloc(46);
  central.writeUInt32LE(0x02014b50, 0);
  central.writeUInt16LE(20, 4);
  central.writeUInt16LE(20, 6);
  central.writeUInt16LE(8, 10);
  central.writeUInt32LE(crc, 16);
  central.writeUInt32LE(deflated.length, 20);
  central.writeUInt32LE(data.length, 24);
  central.writeUInt16LE(file.length, 28);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(1, 8);
  end.writeUInt16LE(1, 10);
  end.writeUInt32LE(central.length + file.length, 12);
  end.writeUInt32LE(local.length + file.length + deflated.length, 16);
  return Buffer.concat([local, file, deflated, central, file, end]);
}

async function main(): Promise<void> {
  const [redis, moto] = await Promise.all([startRedis(), startMoto()]);
  const scratch = mkdtempSync(join(tmpdir(), 'bench-controller-'));
  try {
    process.stdout.write(`backlog controller benchmark (median; ${ticks} ticks, 100 Redis reads)\n`);
    process.stdout.write('lanes  queues  jobs    redis read  decide    tick (moto)\n');
    for (const laneCount of [3, 30]) {
      const h = new Harness({
        redisPort: redis.port,
        motoEndpoint: moto.endpoint,
        lanes: Array.from({ length: laneCount }, (_, i) => ({
          name: `lane-${i}`,
          queues: [`q${i}`, `q${i}-low`],
          max: 10,
          backlogPerTask: 50,
        })),
        fleetMaxTasks: 500,
      });
      await h.createServices();
      const now = Math.floor(Date.now() / 1000);
      for (const lane of h.config.lanes) {
        for (const queue of lane.queues) {
          await h.queue.push(queue, 200, { createdAt: now - 60 });
          await h.queue.reserve(queue, now, 20);
          await h.queue.later(queue, now - 10, 25);
          await h.queue.later(queue, now + 600, 25);
        }
      }
      const client = await connectRedis(h.redis, undefined);
      const read = await time(100, () => readLanes(client, h.config.lanes, h.redis, now));
      const { readings } = await readLanes(client, h.config.lanes, h.redis, now);
      client.disconnect();
      const states: LaneState[] = h.config.lanes.map((policy, i) => ({ policy, backlog: readings[i], current: 1 }));
      const decideMs = await time(1000, () => decide({ lanes: states, fleetMaxTasks: 500, reservedTasks: 0, mode: 'schedule' }));
      const tick = await time(ticks, () => h.controller.tick());
      const queues = laneCount * 2;
      process.stdout.write(
        `${String(laneCount).padStart(5)}  ${String(queues).padStart(6)}  ${String(queues * 320).padStart(6)}` +
          `  ${read.toFixed(2).padStart(7)} ms  ${(decideMs * 1000).toFixed(0).padStart(4)} µs  ${tick.toFixed(1).padStart(7)} ms\n`,
      );
      await h.close();
    }
    process.stdout.write('Redis: one pipelined round trip per tick (5 commands per queue), whatever the lane count.\n');

    const start = process.hrtime.bigint();
    const bundle = bundleController(join(scratch, 'index.js'));
    const built = ms(start);
    const zip = zipOne('index.js', readFileSync(bundle.outfile));
    writeFileSync(join(scratch, 'controller.zip'), zip);
    process.stdout.write(
      `bundle: ${(bundle.bytes / 1024).toFixed(0)} KiB minified, zip ${(zip.length / 1024).toFixed(0)} KiB ` +
        `(built in ${built.toFixed(0)} ms; handler ${bundle.handler})\n`,
    );
  } finally {
    rmSync(scratch, { recursive: true, force: true });
    await Promise.all([redis.stop(), moto.stop()]);
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? error.stack : String(error)}\n`);
  process.exit(1);
});
