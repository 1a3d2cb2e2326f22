import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { parseEnvironment } from '@queue-lanes/config';
import { synthEnvironment } from '@queue-lanes/stacks';
import { synthesizeToJson } from '@queue-lanes/stacks/testing';
import type { EnvironmentConfig } from '@queue-lanes/config';
import { CostError, defaultPrices, estimateCost, splitByCapacity, synthesizedAlarms, type PriceTable } from './estimate';
import { renderReport } from './report';

const workspace = join(__dirname, '..', '..');

/** Round prices, so the expected numbers below can be worked out by hand. */
const PRICES: PriceTable = {
  description: 'test',
  currency: 'USD',
  sourceDate: '2026-01-01',
  sources: {},
  notes: [],
  regions: {
    'us-east-1': {
      name: 'Test',
      fargate: {
        x86_64: { onDemand: { vcpuHour: 0.04, gbHour: 0.004 }, spot: { vcpuHour: 0.012, gbHour: 0.0012 } },
        arm64: { onDemand: { vcpuHour: 0.032, gbHour: 0.0032 }, spot: { vcpuHour: 0.01, gbHour: 0.001 } },
      },
      lambda: { x86_64: { gbSecond: 0.00001 }, arm64: { gbSecond: 0.000008 }, requestsPerMillion: 0.2 },
      cloudwatch: {
        metricMonth: 0.3,
        alarmMonth: 0.1,
        dashboardMonth: 3,
        logIngestionGb: 0.5,
        apiRequestsPerThousand: 0.01,
      },
    },
  },
};

/** The estimate of `config`, with the alarms its synthesized stacks create. */
function costOf(config: EnvironmentConfig, prices: PriceTable = PRICES) {
  return estimateCost(config, synthesizedAlarms(Object.values(synthesizeToJson(config))), prices);
}

function env(lanes: Record<string, unknown>, extra: Record<string, unknown> = {}) {
  const text = stringify({
    app: 'propertyfeed',
    environment: 'staging',
    region: 'us-east-1',
    allowedAccountIds: ['111111111111'],
    network: {
      vpcId: 'vpc-0123456789abcdef0',
      privateSubnetIds: ['subnet-0123456789abcdef0'],
      redis: { securityGroupId: 'sg-0123456789abcdef1' },
      aurora: { securityGroupId: 'sg-0123456789abcdef2' },
    },
    image: { repository: 'app' },
    fleet: { maxTasks: 8 },
    redis: { host: 'queues.cache.internal', keyPrefix: 'propertyfeed_database_' },
    lanes,
    ...extra,
  });
  return { text, config: parseEnvironment(text, 'environments/staging.yaml') };
}

/**
 * image: Redis, scaling, 1 vCPU / 2 GB on-demand, tasks 0..2 (baseline 1)
 * bulk:  Redis, baseline, 0.5 vCPU / 1 GB on Spot, 1 task
 * feeds: off
 */
const LANES = {
  image: { queues: ['image'], stage: 'scaling', tasks: { baseline: 1, min: 0, max: 2 }, cpu: 1024, memory: 2048 },
  bulk: {
    queues: ['bulk'],
    stage: 'baseline',
    tasks: { baseline: 1, min: 0, max: 1 },
    cpu: 512,
    memory: 1024,
    spot: true,
  },
  feeds: { queues: ['feeds'], stage: 'off' },
};

describe('the arithmetic, on a case worked out by hand', () => {
  const estimate = costOf(env(LANES).config);
  const lane = (name: string) => estimate.lanes.find((l) => l.lane.name === name)!;

  it('prices a task-month as (vCPU × vCPU-hour + GB × GB-hour) × 730', () => {
    // image: (1 × 0.04 + 2 × 0.004) × 730 = 35.04 a task; 0, 1, 2 tasks.
    const fargate = estimate.items.find((i) => i.lane === 'image' && i.service === 'Fargate on-demand')!;
    expect(fargate.monthly.idle).toBeCloseTo(0, 10);
    expect(fargate.monthly.baseline).toBeCloseTo(35.04, 10);
    expect(fargate.monthly.max).toBeCloseTo(70.08, 10);
    // bulk on Spot: (0.5 × 0.012 + 1 × 0.0012) × 730 = 5.256, one task in every scenario.
    const spot = estimate.items.find((i) => i.lane === 'bulk' && i.service === 'Fargate Spot')!;
    expect(spot.monthly).toEqual({
      idle: expect.closeTo(5.256, 10),
      baseline: expect.closeTo(5.256, 10),
      max: expect.closeTo(5.256, 10),
    });
  });

  it("adds each lane's metrics, alarms and logs", () => {
    // image: + logs 1 GB/task × 0.50, + 9 metrics × 0.30 = 2.70, + 7 alarms × 0.10 = 0.70 (restarts, Redis
    // and Aurora errors, failed jobs from its log; backlog, oldest job and key prefix from the controller)
    expect(lane('image').tasks).toEqual({ idle: 0, baseline: 1, max: 2 });
    expect(lane('image').monthly.idle).toBeCloseTo(3.4, 10);
    expect(lane('image').monthly.baseline).toBeCloseTo(35.04 + 0.5 + 3.4, 10);
    expect(lane('image').monthly.max).toBeCloseTo(70.08 + 1.0 + 3.4, 10);
    // bulk (baseline, measured by the controller): 5.256 + 0.50 logs + 2.70 metrics + 0.70 alarms = 9.156
    expect(lane('bulk').monthly.max).toBeCloseTo(9.156, 10);
    // feeds is off: no task and not measured, but its 4 log alarms are kept (quiet) and billed.
    expect(lane('feeds').monthly).toEqual({
      idle: expect.closeTo(0.4, 10),
      baseline: expect.closeTo(0.4, 10),
      max: expect.closeTo(0.4, 10),
    });
  });

  it('prices the backlog controller and the dashboard', () => {
    // 60 × 730 = 43,800 invocations × 1 s × 0.25 GB × 0.00001 = 0.1095; requests 0.0438 M × 0.20 = 0.00876;
    // PutMetricData 43.8 thousand × 0.01 = 0.438; 1 metric 0.30; 2 alarms (failing, not running) 0.20; 0.1 GB logs × 0.50 = 0.05
    const controller = estimate.items.filter((i) => i.owner === 'backlog controller');
    const sum = controller.reduce((s, i) => s + i.monthly.idle, 0);
    expect(controller.find((i) => i.service === 'Lambda')!.monthly.idle).toBeCloseTo(0.1095 + 0.00876, 10);
    expect(sum).toBeCloseTo(1.10626, 10);
    expect(estimate.items.find((i) => i.service === 'CloudWatch dashboard')!.monthly.max).toBe(3);
  });

  it('totals the environment', () => {
    expect(estimate.tasks).toEqual({ idle: 1, baseline: 2, max: 3 });
    expect(estimate.total.idle).toBeCloseTo(3.4 + 9.156 + 0.4 + 1.10626 + 3, 10); // 17.06226
    expect(estimate.total.baseline).toBeCloseTo(38.94 + 9.156 + 0.4 + 1.10626 + 3, 10); // 52.60226
    expect(estimate.total.max).toBeCloseTo(74.48 + 9.156 + 0.4 + 1.10626 + 3, 10); // 88.14226
    // 7 + 7 + 4 lane alarms and the controller's 2, as synthesized.
    expect(estimate.alarms).toBe(20);
  });

  it('renders the numbers as Markdown', () => {
    const markdown = renderReport(estimate);
    expect(markdown).toContain('# Monthly cost estimate: propertyfeed staging (us-east-1, Test)');
    expect(markdown).toContain('| image | scaling | 1 vCPU, 2 GB, x86_64 | on-demand | 0 / 1 / 2 | $3.40 | $38.94 | $74.48 |');
    expect(markdown).toContain('| bulk | baseline | 0.5 vCPU, 1 GB, x86_64 | Spot | 1 / 1 / 1 | $9.16 | $9.16 | $9.16 |');
    expect(markdown).toContain('| **total** |  |  |  | **1 / 2 / 3** | **$17.06** | **$52.60** | **$88.14** |');
    expect(markdown).toContain('| Fargate Spot | $5.26 | $5.26 | $5.26 |');
    expect(markdown).toContain('Fargate Spot rates are an average snapshot');
    expect(markdown).toContain('Log ingestion: 1 GB per running task per month');
  });
});

describe('scenarios', () => {
  it('holds controller-managed lanes within fleet.maxTasks at max, in priority order', () => {
    const { config } = env(
      {
        ...LANES,
        image: { ...LANES.image, tasks: { baseline: 1, min: 0, max: 2 } },
        sync: { queues: ['sync'], stage: 'scaling', tasks: { baseline: 1, min: 0, max: 2 }, cpu: 256, memory: 512 },
      },
      { fleet: { maxTasks: 3 } },
    );
    const estimate = costOf(config);
    const tasks = Object.fromEntries(estimate.lanes.map((l) => [l.lane.name, l.tasks.max]));
    // bulk's fixed task first, then image (first in file order) takes 2, sync gets none.
    expect(tasks).toEqual({ image: 2, bulk: 1, feeds: 0, sync: 0 });
    expect(estimate.lanes.find((l) => l.lane.name === 'sync')!.capped).toEqual(['max']);
    expect(renderReport(estimate)).toContain('| sync | scaling | 0.25 vCPU, 0.5 GB, x86_64 | on-demand | 0 / 1 / 0* |');
  });

  it("keeps a scaling lane's baseline scenario within min..max", () => {
    const { config } = env({ image: { ...LANES.image, tasks: { baseline: 0, min: 1, max: 2 } } });
    expect(costOf(config).lanes[0].tasks).toEqual({ idle: 1, baseline: 1, max: 2 });
  });

  it('splits tasks over a capacity strategy as ECS does: base first, then by weight', () => {
    const capacity = [
      { provider: 'FARGATE', base: 1, weight: 1 },
      { provider: 'FARGATE_SPOT', base: 0, weight: 3 },
    ] as const;
    expect(splitByCapacity(5, capacity)).toEqual({ onDemand: 2, spot: 3 });
    expect(splitByCapacity(1, capacity)).toEqual({ onDemand: 1, spot: 0 });
    expect(splitByCapacity(0, capacity)).toEqual({ onDemand: 0, spot: 0 });
  });

  it('prices the scheduler service when it runs on ECS', () => {
    const { config } = env(LANES, { scheduler: { onHosts: false, service: { enabled: true, cpu: 256, memory: 512 } } });
    const items = costOf(config).items.filter((i) => i.owner === 'scheduler service');
    // (0.25 × 0.04 + 0.5 × 0.004) × 730 = 8.76, plus 1 GB of logs × 0.50, plus its 2 alarms (not running, restarts) × 0.10
    expect(items.map((i) => [i.service, i.monthly.idle])).toEqual([
      ['Fargate on-demand', expect.closeTo(8.76, 10)],
      ['CloudWatch Logs ingestion', 0.5],
      ['CloudWatch alarms', expect.closeTo(0.2, 10)],
    ]);
  });

  it('costs only the dashboard and the kept alarms when every lane is off', () => {
    const { config } = env({ feeds: LANES.feeds });
    const total = costOf(config).total;
    for (const scenario of ['idle', 'baseline', 'max'] as const) expect(total[scenario]).toBeCloseTo(3 + 0.4, 10);
  });
});

describe('prices', () => {
  it('prices.json is valid, dated, sourced, and covers the regions and architectures we use', () => {
    const prices = defaultPrices();
    expect(Object.keys(prices.regions)).toEqual(expect.arrayContaining(['eu-west-1', 'eu-west-2', 'us-east-1']));
    expect(prices.sources.fargate).toMatch(/^https:\/\/aws\.amazon\.com\/fargate\/pricing/);
    expect(prices.notes.join(' ')).toMatch(/Spot .* average snapshot/);
    for (const region of Object.values(prices.regions)) {
      for (const arch of [region.fargate.x86_64, region.fargate.arm64]) {
        expect(arch.spot.vcpuHour).toBeLessThan(arch.onDemand.vcpuHour);
        expect(arch.spot.gbHour).toBeLessThan(arch.onDemand.gbHour);
      }
      expect(region.fargate.arm64.onDemand.vcpuHour).toBeLessThan(region.fargate.x86_64.onDemand.vcpuHour);
    }
  });

  it('fails an unknown region with the regions it knows', () => {
    const { config } = env(LANES, { region: 'ap-south-1' });
    expect(() => estimateCost(config, [])).toThrow(CostError);
    expect(() => estimateCost(config, [])).toThrow(
      'no prices for region ap-south-1 in tools/cost/prices.json; known regions: eu-west-1, eu-west-2, us-east-1. ',
    );
  });
});

describe('CLI', () => {
  let root: string;
  beforeAll(() => {
    root = mkdtempSync(join(tmpdir(), 'cost-'));
    mkdirSync(join(root, 'environments'));
  });
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  const cli = (...args: string[]) =>
    spawnSync(process.execPath, [join(workspace, 'tools', 'run-app.cjs'), join(workspace, 'tools', 'cost', 'main.ts'), ...args], {
      cwd: root,
      encoding: 'utf8',
    });

  it('exits 1 before synth, saying what to run, with no stack trace', () => {
    writeFileSync(join(root, 'environments', 'staging.yaml'), env(LANES).text);
    const run = cli('--environment', 'staging');
    expect(run.status).toBe(1);
    expect(run.stderr).toBe(
      'apps/staging/cdktf.out/stacks/propertyfeed-staging-networking/cdk.tf.json does not exist: the report counts the alarms synth creates, so synthesize first (npx nx run staging:synth)\nstaging: no cost report written\n',
    );
  }, 30_000);

  it('prints the report and writes it next to the synth output', () => {
    writeFileSync(join(root, 'environments', 'staging.yaml'), env(LANES).text);
    mkdirSync(join(root, 'apps', 'staging'), { recursive: true });
    synthEnvironment({ environment: 'staging', workspaceRoot: root });
    const run = cli('--environment', 'staging');
    expect(run.status).toBe(0);
    expect(run.stdout).toMatch(/^# Monthly cost estimate: propertyfeed staging \(us-east-1, US East \(N\. Virginia\)\)\n/);
    expect(readFileSync(join(root, 'apps', 'staging', 'cdktf.out', 'cost.md'), 'utf8')).toBe(run.stdout);
    expect(run.stderr).toBe('cost: written to apps/staging/cdktf.out/cost.md\n');
  }, 30_000);

  it('exits 1 for a region without prices, listing the known ones, with no stack trace', () => {
    writeFileSync(join(root, 'environments', 'staging.yaml'), env(LANES, { region: 'ap-south-1' }).text);
    const run = cli('--environment', 'staging', '--out', 'elsewhere.md');
    expect(run.status).toBe(1);
    expect(run.stdout).toBe('');
    expect(run.stderr).toMatch(
      /^no prices for region ap-south-1 in tools\/cost\/prices\.json; known regions: eu-west-1, eu-west-2, us-east-1\. /,
    );
    expect(run.stderr).not.toMatch(/^\s+at /m);
  }, 30_000);

  it("exits 1 with the config's messages for an invalid file, and 2 on a usage error", () => {
    writeFileSync(join(root, 'environments', 'staging.yaml'), env(LANES).text.replace('maxTasks: 8', 'maxTasks: many'));
    const invalid = cli('--environment', 'staging', '--out', 'elsewhere.md');
    expect(invalid.status).toBe(1);
    expect(invalid.stderr).toMatch(/^environments\/staging\.yaml:\d+:\d+ fleet\.maxTasks: expected a number, got "many"\n/);
    const usage = cli();
    expect(usage.status).toBe(2);
    expect(usage.stderr).toMatch(/^cost: --environment is required\nusage: /);
  }, 30_000);
});

describe('a lane with process groups', () => {
  it('shows its groups beside its size, and costs its tasks as any other lane', () => {
    const groups = [
      { name: 'urgent', queues: ['sync-urgent'] },
      { name: 'main', queues: ['sync-urgent', 'sync'], processes: 3 },
    ];
    const grouped = costOf(env({ sync: { groups, stage: 'baseline', cpu: 1024, memory: 2048 } }).config);
    const plain = costOf(env({ sync: { queues: ['sync'], workers: 4, stage: 'baseline', cpu: 1024, memory: 2048 } }).config);
    expect(renderReport(grouped)).toContain(
      '| sync | baseline | 1 vCPU, 2 GB, x86_64, groups urgent ×1 (sync-urgent), main ×3 (sync-urgent, sync) |',
    );
    expect(grouped.total).toEqual(plain.total);
  });
});
