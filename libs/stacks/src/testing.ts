import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CONTROLLER_CONFIG_ENV, parseControllerConfig } from '@queue-lanes/contract';
import {
  STACK_ROLES,
  clusterName,
  controllerMeasuredLanes,
  isScaled,
  laneParameterName,
  runtimeParameterName,
  serviceName,
  stackName,
  type EnvironmentConfig,
  type StackRole,
} from '@queue-lanes/config';
import { App } from 'cdktf';
import { composeEnvironment } from './compose';
import { MAX_MANAGED_POLICY_CHARACTERS, deployPolicies, splitPolicy } from './deploy-policy';

/** Parsed cdk.tf.json of each stack of one environment. */
export type SynthesizedEnvironment = Record<StackRole, Record<string, unknown>>;

/** Synthesizes an environment exactly as its app does, into a throw-away folder, and reads what `read` needs from it. */
function readSynthesized<T>(env: EnvironmentConfig, read: (outdir: string) => T): T {
  const outdir = mkdtempSync(join(tmpdir(), 'queue-lanes-synth-'));
  try {
    const app = new App({ outdir, stackTraces: false });
    composeEnvironment(app, env);
    app.synth();
    return read(outdir);
  } finally {
    rmSync(outdir, { recursive: true, force: true });
  }
}

/** Every stack's Terraform JSON of an environment, as its app synthesizes it: for tests that look across stacks. */
export function synthesizeToJson(env: EnvironmentConfig): SynthesizedEnvironment {
  return readSynthesized(env, (outdir) => {
    const read = (role: StackRole) => JSON.parse(readFileSync(join(outdir, 'stacks', stackName(env, role), 'cdk.tf.json'), 'utf8'));
    return Object.fromEntries(STACK_ROLES.map((role) => [role, read(role)])) as SynthesizedEnvironment;
  });
}

/**
 * Each stack of an environment and the stacks it reads from, as cdktf records them in
 * manifest.json (and refuses a partial deploy by).
 */
export function stackDependencies(env: EnvironmentConfig): Record<string, string[]> {
  return readSynthesized(env, (outdir) => {
    const manifest = JSON.parse(readFileSync(join(outdir, 'manifest.json'), 'utf8')) as {
      stacks: Record<string, { dependencies?: string[] }>;
    };
    return Object.fromEntries(Object.entries(manifest.stacks).map(([name, stack]) => [name, stack.dependencies ?? []]));
  });
}

type Resources = Record<string, Record<string, Record<string, unknown>>>;

/**
 * Registers the tests every environment file must pass, whatever its lanes say:
 * an app's test calls it with its own file, so adding or changing a lane changes
 * what is checked, not whether the test passes, and a cached result is keyed on
 * the file it read (the app's test inputs).
 */
export function describeEnvironmentInvariants(env: EnvironmentConfig): SynthesizedEnvironment {
  const stacks = synthesizeToJson(env);
  const resources = (role: StackRole, type: string) =>
    Object.values(((stacks[role] as { resource?: Resources }).resource ?? {})[type] ?? {});

  describe(`${env.source}: invariants`, () => {
    it('runs one ECS service per lane in the cluster, at the count its sizing gives, and leaves the count alone where something else sets it', () => {
      const services = new Map(resources('workers', 'aws_ecs_service').map((s) => [s.name, s]));
      for (const lane of env.lanes) {
        const service = services.get(serviceName(env, lane.name));
        expect(service).toBeDefined();
        const expected = lane.sizedBy === 'off' ? 0 : isScaled(lane) ? lane.tasks.min : lane.tasks.baseline;
        const heldByOthers = lane.sizedBy === 'controller' || lane.sizedBy === 'operator';
        expect([lane.name, service!.desired_count, service!.lifecycle]).toEqual([
          lane.name,
          expected,
          heldByOthers ? { ignore_changes: ['desired_count'] } : undefined,
        ]);
        expect(service!.cluster).toMatch(/^\$\{aws_ecs_cluster\./);
        expect(lane.tasks.max).toBeLessThanOrEqual(env.fleet.maxTasks);
      }
      expect(resources('workers', 'aws_ecs_cluster').map((c) => c.name)).toEqual([clusterName(env)]);
    });

    it('gives runtime parameters to the workers only through Parameter Store, never as plain container environment', () => {
      const parameters = new Set([...Object.keys(env.parameters.plain), ...env.parameters.secure]);
      for (const definition of resources('workers', 'aws_ecs_task_definition')) {
        for (const container of JSON.parse(definition.container_definitions as string) as {
          name: string;
          environment?: { name: string }[];
        }[]) {
          expect((container.environment ?? []).map((e) => e.name).filter((name) => parameters.has(name))).toEqual([]);
        }
      }
    });

    it('admits the workers to Redis and Aurora only from security groups, never from an address range', () => {
      const ingress = resources('networking', 'aws_vpc_security_group_ingress_rule');
      expect(ingress.length).toBeGreaterThan(0);
      for (const rule of ingress) {
        expect(rule.referenced_security_group_id).toMatch(/^\$\{aws_security_group\.[^.]+\.id\}$/);
        expect(Object.keys(rule).filter((k) => ['cidr_ipv4', 'cidr_ipv6', 'prefix_list_id'].includes(k))).toEqual([]);
        expect([env.network.redis.securityGroupId, env.network.aurora.securityGroupId]).toContain(rule.security_group_id);
      }
    });

    it('publishes every runtime parameter and both switches of every lane, and nothing else', () => {
      const byName = new Map(resources('parameters', 'aws_ssm_parameter').map((p) => [p.name, p]));
      for (const [name, value] of Object.entries(env.parameters.plain)) {
        expect(byName.get(runtimeParameterName(env, name))).toMatchObject({ type: 'String', value: String(value) });
      }
      for (const name of env.parameters.secure) expect(byName.get(runtimeParameterName(env, name))).toMatchObject({ type: 'SecureString' });
      for (const lane of env.lanes) {
        expect(byName.get(laneParameterName(env, lane.name, 'stage'))).toMatchObject({ value: lane.stage });
        expect(byName.get(laneParameterName(env, lane.name, 'host-consumer'))).toMatchObject({
          value: lane.stage === 'owned' ? 'disabled' : 'enabled',
        });
      }
      expect(byName.size).toBe(Object.keys(env.parameters.plain).length + env.parameters.secure.length + 2 * env.lanes.length);
    });

    it('has the backlog controller measure exactly the running lanes, Redis and SQS, size only the ones it scales, and touch ECS only then', () => {
      const functions = resources('scaling', 'aws_lambda_function');
      const measured = controllerMeasuredLanes(env);
      expect(functions).toHaveLength(measured.length > 0 ? 1 : 0);
      if (measured.length === 0) return;
      const variables = (functions[0].environment as { variables: Record<string, string> }).variables;
      const config = parseControllerConfig(variables[CONTROLLER_CONFIG_ENV]);
      expect(config.lanes.map((l) => [l.name, l.sized])).toEqual(measured.map((l) => [l.name, l.sizedBy === 'controller']));
      expect(config.redis?.keyPrefix).toBe(measured.some((l) => l.broker === 'redis') ? env.redisKeyPrefix : undefined);
      const sizes = measured.some((l) => l.sizedBy === 'controller');
      const policies = resources('scaling', 'aws_iam_role_policy').map((p) => String(p.policy));
      expect(policies.some((p) => p.includes('ecs:UpdateService'))).toBe(sizes);
    });

    it('has a deploy policy for every stack that IAM can hold', () => {
      for (const policy of Object.values(deployPolicies(env, stacks as never))) {
        for (const part of splitPolicy(policy)) expect(JSON.stringify(part).length).toBeLessThanOrEqual(MAX_MANAGED_POLICY_CHARACTERS);
      }
    });
  });
  return stacks;
}
