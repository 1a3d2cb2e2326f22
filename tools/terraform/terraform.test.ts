import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { addressOf, cacheDir, cliConfig, formatDiagnostic, jsonPathAtLine, streamDiagnostics, tofuEnv } from './tofu';

const root = join(__dirname, '..', '..');

describe('toolchain cache', () => {
  it('is per machine, outside the clone: QUEUE_LANES_CACHE, else XDG_CACHE_HOME, else ~/.cache', () => {
    expect(cacheDir({ QUEUE_LANES_CACHE: '/q', XDG_CACHE_HOME: '/x' })).toBe('/q');
    expect(cacheDir({ XDG_CACHE_HOME: '/x' })).toBe('/x/queue-lanes');
    expect(cacheDir({})).toBe(join(homedir(), '.cache', 'queue-lanes'));
  });

  it('is the folder toolchain.sh builds into', () => {
    const script = readFileSync(join(root, 'tools', 'terraform', 'toolchain.sh'), 'utf8');
    expect(script).toContain('cache="${QUEUE_LANES_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/queue-lanes}"');
  });
});

describe('CLI config', () => {
  const text = cliConfig({ mirror: '/w/.cache/tofu/mirror' });

  it('installs providers from the filesystem mirror only', () => {
    expect(text).toContain('provider_installation {\n  filesystem_mirror {\n    path = "/w/.cache/tofu/mirror"\n  }\n}');
    expect(text).not.toMatch(/\bdirect\b/);
    expect(text).not.toMatch(/network_mirror/);
  });

  it('links providers from the mirror (no plugin cache to share) and turns the checkpoint call off', () => {
    expect(text).not.toContain('plugin_cache_dir');
    expect(text).toContain('disable_checkpoint = true');
  });

  it('can confine the mirror to one registry host, as a machine with one engine and its own registry', () => {
    expect(cliConfig({ mirror: '/m', include: ['registry.terraform.io/*/*'] })).toContain(
      '  filesystem_mirror {\n    path = "/m"\n    include = ["registry.terraform.io/*/*"]\n  }',
    );
  });

  it('quotes paths as HCL strings (no template interpolation)', () => {
    const odd = cliConfig({ mirror: '/w/${x}/"q"' });
    expect(odd).toContain('path = "/w/$${x}/\\"q\\""');
  });
});

describe('tofu environment', () => {
  it("drops the caller's TF_ variables and sets its own", () => {
    const env = tofuEnv({ PATH: '/bin', TF_WORKSPACE: 'prod', TF_VAR_x: '1', TF_CLI_CONFIG_FILE: '/home/.tofurc' }, '/c/tofurc');
    expect(env).toEqual(
      expect.objectContaining({
        PATH: '/bin',
        TF_CLI_CONFIG_FILE: '/c/tofurc',
        TF_IN_AUTOMATION: '1',
        TF_INPUT: '0',
        CHECKPOINT_DISABLE: '1',
      }),
    );
    expect(env.TF_WORKSPACE).toBeUndefined();
    expect(env.TF_VAR_x).toBeUndefined();
  });
});

describe('diagnostics on cdk.tf.json', () => {
  const json = JSON.stringify(
    {
      provider: { aws: [{ region: 'eu-west-2' }] },
      resource: {
        aws_ecs_service: {
          lane_sync_1A2B: { name: 'pf-sync', network_configuration: { subnets: ['a', 'b'], bogus: true } },
        },
      },
      terraform: { backend: { local: { path: 'x' } } },
    },
    null,
    2,
  );
  const lines = json.split('\n');
  const lineOf = (needle: string) => lines.findIndex((l) => l.includes(needle)) + 1;

  it('finds the JSON key path of a line', () => {
    expect(jsonPathAtLine(json, lineOf('"bogus"'))).toEqual([
      'resource',
      'aws_ecs_service',
      'lane_sync_1A2B',
      'network_configuration',
      'bogus',
    ]);
    expect(jsonPathAtLine(json, lineOf('"lane_sync_1A2B"'))).toEqual(['resource', 'aws_ecs_service', 'lane_sync_1A2B']);
    expect(jsonPathAtLine(json, lineOf('"eu-west-2"'))).toEqual(['provider', 'aws', 'region']);
    expect(jsonPathAtLine(json, lineOf('"b"'))).toEqual([
      'resource',
      'aws_ecs_service',
      'lane_sync_1A2B',
      'network_configuration',
      'subnets',
    ]);
  });

  it('names resources, data sources and blocks by address', () => {
    expect(addressOf(['resource', 'aws_ecs_service', 'x', 'name'])).toBe('aws_ecs_service.x');
    expect(addressOf(['data', 'terraform_remote_state', 'net'])).toBe('data.terraform_remote_state.net');
    expect(addressOf(['provider', 'aws', 'region'])).toBe('provider.aws');
    expect(addressOf(['terraform', 'backend', 'local', 'path'])).toBe('terraform.backend.local');
  });

  it('prints stack, address, file, line, attribute and message on one line', () => {
    const line = formatDiagnostic(
      'pf-staging-workers',
      {
        severity: 'error',
        summary: 'Unsupported argument',
        detail: 'An argument named "bogus" is not\nexpected here.',
        range: { filename: 'cdk.tf.json', start: { line: lineOf('"bogus"') } },
      },
      { 'cdk.tf.json': json },
    );
    expect(line).toBe(
      `pf-staging-workers: error aws_ecs_service.lane_sync_1A2B (cdk.tf.json:${lineOf('"bogus"')}, network_configuration.bogus): Unsupported argument: An argument named "bogus" is not expected here.`,
    );
  });

  it('uses the address tofu gives (apply diagnostics)', () => {
    expect(formatDiagnostic('s', { severity: 'error', summary: 'creating ECS Service', address: 'aws_ecs_service.x' })).toBe(
      's: error aws_ecs_service.x: creating ECS Service',
    );
  });

  it('reads diagnostics from the -json UI stream', () => {
    const stream = [
      '{"@level":"info","@message":"Apply complete!","type":"change_summary","changes":{"add":1}}',
      '{"@level":"error","type":"diagnostic","diagnostic":{"severity":"error","summary":"boom","address":"aws_sqs_queue.q"}}',
      'not json',
    ].join('\n');
    expect(streamDiagnostics(stream)).toEqual([{ severity: 'error', summary: 'boom', address: 'aws_sqs_queue.q' }]);
  });
});
