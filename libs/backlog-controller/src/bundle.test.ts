import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bundleController, type ControllerBundle } from './bundle';
import { PutParameterCommand } from '@aws-sdk/client-ssm';
import type { TickReport } from './controller';
import { desiredCounts } from './testing/aws';
import { startCloudWatchStub } from './testing/cloudwatch-stub';
import { testServers } from './testing/env';
import { Harness } from './testing/harness';
import { makeTestCertificate, startRedis } from './testing/servers';

/*
 * The Lambda artifact itself: bundled as at synth time, loaded by a plain node
 * process the way the Lambda runtime loads it, and run for one tick against
 * Redis and moto.
 */

const { redisPort, motoEndpoint } = testServers();
let dir: string;
let bundle: ControllerBundle;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'bc-bundle-'));
  bundle = bundleController(join(dir, 'index.js'));
}, 30_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

it('bundles handler.ts into one small CommonJS file without cdktf', () => {
  expect(bundle).toMatchObject({ outfile: join(dir, 'index.js'), handler: 'index.handler' });
  expect(bundle.bytes).toBeLessThan(800 * 1024);
  const code = readFileSync(bundle.outfile, 'utf8');
  expect(code).not.toMatch(/require\("(cdktf|constructs|@cdktf\/[^"]+|esbuild|zod\/v4\/locales\/(?!en)[^"]+)"\)/);
  expect(code).not.toContain('node_modules/cdktf');
});

it('runs a tick from the bundle, as the Lambda runtime would load it', async () => {
  const h = new Harness({ redisPort, motoEndpoint, lanes: [{ name: 'image', backlogPerTask: 5 }] });
  try {
    await h.createServices();
    await h.queue.push('image', 7);
    const { report, cloudwatch } = await runBundle(h.config);
    expect(report.lanes).toEqual([expect.objectContaining({ lane: 'image', ready: 7, desired: 2 })]);
    expect(await desiredCounts(h.check.ecs, h.config.cluster, ['svc-image'])).toEqual({ 'svc-image': 2 });
    expect(cloudwatch).toEqual(['PutMetricData']);
  } finally {
    await h.close();
  }
});

it('connects as it would to ElastiCache: TLS, and the AUTH token from its SSM SecureString', async () => {
  const certificate = makeTestCertificate(dir);
  const token = 'elasticache-auth-token-0123456789';
  const redis = await startRedis({ tls: certificate, args: ['--requirepass', token] });
  const parameter = `/queue-lanes/bundle-test/redis-auth-${Date.now()}`;
  const h = new Harness({
    redisPort: redis.port,
    motoEndpoint,
    lanes: [{ name: 'image', backlogPerTask: 5 }],
    redis: { tls: true, authParameterName: parameter },
    writerPassword: token,
    writerCa: readFileSync(certificate.certFile, 'utf8'),
  });
  try {
    await h.check.ssm.send(new PutParameterCommand({ Name: parameter, Value: token, Type: 'SecureString' }));
    await h.createServices();
    await h.queue.push('image', 11);
    // The Lambda trusts Amazon's CAs; this server's CA is handed to node the same way.
    const { report } = await runBundle(h.config, { NODE_EXTRA_CA_CERTS: certificate.certFile });
    expect(report.lanes).toEqual([expect.objectContaining({ lane: 'image', ready: 11, desired: 3 })]);
  } finally {
    await h.close();
    await redis.stop();
  }
});

/** Loads the bundle in a fresh node process and runs one scheduled tick; CloudWatch is the JSON stub. */
async function runBundle(config: unknown, env: Record<string, string> = {}): Promise<{ report: TickReport; cloudwatch: string[] }> {
  const cloudwatch = await startCloudWatchStub();
  const script = `require(${JSON.stringify(bundle.outfile)}).handler({ source: 'aws.events' })
    .then((report) => { process.stdout.write('REPORT ' + JSON.stringify(report) + '\\n'); process.exit(0); },
          (error) => { process.stderr.write(String(error.stack)); process.exit(1); });`;
  try {
    // Asynchronously: the CloudWatch stub answers from this process's event loop.
    const run = await new Promise<{ stdout: string; stderr: string }>((done) =>
      execFile(
        process.execPath,
        ['-e', script],
        {
          encoding: 'utf8',
          timeout: 20_000,
          env: {
            PATH: process.env.PATH,
            CONTROLLER_CONFIG: JSON.stringify(config),
            AWS_REGION: 'eu-west-2',
            AWS_ACCESS_KEY_ID: 'testing',
            AWS_SECRET_ACCESS_KEY: 'testing',
            AWS_ENDPOINT_URL: motoEndpoint,
            AWS_ENDPOINT_URL_CLOUDWATCH: cloudwatch.endpoint,
            ...env,
          },
        },
        (_error, stdout, stderr) => done({ stdout, stderr }),
      ),
    );
    const warning = /\(node:\d+\) Warning: NodeVersionSupportWarning[\s\S]*?show where the warning was created\)\n?/;
    expect(run.stderr.replace(warning, '')).toBe('');
    const report = JSON.parse(run.stdout.split('REPORT ')[1]) as TickReport;
    return { report, cloudwatch: cloudwatch.calls.map((c) => c.operation) };
  } finally {
    await cloudwatch.close();
  }
}
