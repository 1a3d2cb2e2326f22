/*
 * Phase 2 of the rehearsal: the rehearsal copy of the environment file (moto's ids
 * and account, the state in moto's S3), synthesized into the scratch folder; each
 * stack copied to a folder of its own with its override, in the order they apply.
 */
import { cpSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { parseEnvironment, STACK_ROLES, type EnvironmentConfig } from '@queue-lanes/config';
import { AWS_PROVIDER_SOURCE, composeEnvironment } from '@queue-lanes/stacks';
import { App } from 'cdktf';
import { parseDocument } from 'yaml';
import { cacheDir, tofu, type Toolchain } from '../terraform/tofu';
import { rehearsalOverride, stateKey } from './override';
import {
  REHEARSAL_STATE_KEY,
  say,
  type MotoTarget,
  type Rehearsal,
  type RehearsalNetwork,
  type RehearsedStacks,
  type StackJson,
  type StackRun,
} from './rehearsal';

/**
 * The rehearsal copy of an environment file: the same lanes, parameters and
 * sizes, with the network ids moto returned, moto's account and an S3 state in
 * moto. Comments and key order survive, so the copy reads like the original.
 */
export function rehearsalEnvironment(text: string, network: RehearsalNetwork, target: MotoTarget): string {
  const doc = parseDocument(text);
  doc.setIn(['network', 'vpcId'], network.vpcId);
  doc.setIn(['network', 'privateSubnetIds'], doc.createNode([...network.privateSubnetIds], { flow: true }));
  doc.setIn(['network', 'redis', 'securityGroupId'], network.redisSecurityGroupId);
  doc.setIn(['network', 'aurora', 'securityGroupId'], network.auroraSecurityGroupId);
  for (const [key, ids] of [
    ['securityGroupIds', network.httpsEgressSecurityGroupIds],
    ['prefixListIds', network.httpsEgressPrefixListIds],
  ] as const) {
    if (ids && ids.length > 0) doc.setIn(['network', 'httpsEgress', key], doc.createNode([...ids], { flow: true }));
  }
  doc.setIn(['allowedAccountIds'], doc.createNode([target.accountId], { flow: true }));
  doc.setIn(
    ['state'],
    doc.createNode({ backend: 's3', bucket: target.bucket, region: target.region, kmsKeyId: REHEARSAL_STATE_KEY }, { flow: true }),
  );
  return doc.toString();
}

/** 2. The rehearsal copy, synthesized into the scratch folder; each stack copied to a folder of its own with its override. */
export function synthesizeCopy(r: Rehearsal, network: RehearsalNetwork): RehearsedStacks {
  const copy = rehearsalEnvironment(r.original, network, r.target);
  writeFileSync(join(r.reportDir, `${r.environment}.rehearsal.yaml`), copy);
  const outdir = join(r.scratch, 'cdktf.out');
  const rehearsed = synthesize(copy, r.file, outdir);
  const manifest = JSON.parse(readFileSync(join(outdir, 'manifest.json'), 'utf8')) as CdktfManifest;
  const order = applyOrder(manifest, STACK_ROLES);
  say(`stacks in apply order: ${order.join(', ')}`);

  const endpoints = providerEndpoints(r.toolchain, r.env, r.scratch);
  const runs: StackRun[] = [];
  const stacks = new Map<string, StackJson>();
  for (const name of order) {
    const source = join(outdir, 'stacks', name);
    const dir = join(r.scratch, 'work', name);
    cpSync(source, dir, { recursive: true });
    const stack = writeOverride(r, name, source, dir, endpoints);
    stacks.set(name, stack);
    const backend = Object.entries(stack.terraform?.backend ?? { local: {} })[0];
    runs.push({ name, dir, stateKey: stateKey(backend[0], backend[1], `${name}.tfstate`) });
  }
  return { copy, rehearsed, order, runs, stacks, endpoints };
}

/** Synthesizes an environment file's text into `outdir`; what it configures. */
export function synthesize(text: string, file: string, outdir: string): EnvironmentConfig {
  const config = parseEnvironment(text, file);
  const app = new App({ outdir, stackTraces: false });
  composeEnvironment(app, config);
  app.synth();
  return config;
}

/** Writes `dir`'s rehearsal_override.tf.json for the stack synthesized in `source`; that stack's JSON. */
export function writeOverride(r: Rehearsal, name: string, source: string, dir: string, endpoints: readonly string[]): StackJson {
  const stack = JSON.parse(readFileSync(join(source, 'cdk.tf.json'), 'utf8')) as StackJson;
  writeFileSync(
    join(dir, 'rehearsal_override.tf.json'),
    `${JSON.stringify(rehearsalOverride(name, stack, r.target, endpoints), null, 2)}\n`,
  );
  return stack;
}

/** The provider's endpoint names, from its schema (cached per provider build). */
function providerEndpoints(toolchain: Toolchain, env: NodeJS.ProcessEnv, scratch: string): string[] {
  const cached = join(cacheDir(), 'tofu', `aws-endpoints-${basename(toolchain.aws.path)}.json`);
  if (existsSync(cached)) return JSON.parse(readFileSync(cached, 'utf8')) as string[];
  const dir = join(scratch, 'schema');
  mkdirSync(dir, { recursive: true });
  writeFileSync(
    join(dir, 'main.tf.json'),
    JSON.stringify({ terraform: { required_providers: { aws: { source: AWS_PROVIDER_SOURCE, version: toolchain.aws.version } } } }),
  );
  const init = tofu(toolchain, env, dir, ['init', '-backend=false', '-input=false', '-no-color']);
  if (init.status !== 0) throw new Error(`tofu init for the provider schema failed:\n${init.stdout}${init.stderr}`);
  const schema = tofu(toolchain, env, dir, ['providers', 'schema', '-json']);
  if (schema.status !== 0) throw new Error(`tofu providers schema failed:\n${schema.stderr}`);
  const names = endpointNames(JSON.parse(schema.stdout));
  writeFileSync(cached, JSON.stringify(names));
  return names;
}

/**
 * The endpoint names the provider accepts (its schema's `endpoints` block),
 * deprecated aliases left out: every one is pointed at moto, so a resource added
 * later reaches moto too (and fails fast there) instead of reaching for AWS.
 */
export function endpointNames(providerSchema: unknown): string[] {
  const schemas = (providerSchema as { provider_schemas?: Record<string, ProviderSchema> }).provider_schemas ?? {};
  const aws = Object.entries(schemas).find(([source]) => source.endsWith('/hashicorp/aws'))?.[1];
  const attributes = aws?.provider?.block?.block_types?.endpoints?.block?.attributes;
  if (!attributes) throw new Error('the provider schema has no endpoints block');
  return Object.entries(attributes)
    .filter(([, attribute]) => !attribute.deprecated)
    .map(([name]) => name)
    .sort();
}

interface ProviderSchema {
  readonly provider?: {
    readonly block?: {
      readonly block_types?: {
        readonly endpoints?: { readonly block?: { readonly attributes?: Record<string, { readonly deprecated?: boolean }> } };
      };
    };
  };
}

/** cdktf.out/manifest.json, the parts the order needs. */
export interface CdktfManifest {
  readonly stacks: Readonly<Record<string, { readonly name: string; readonly dependencies?: readonly string[] }>>;
}

/**
 * Stacks in the order they apply: every stack after the stacks it depends on
 * (manifest `dependencies`), ties broken by `roles` (the stack name's last word,
 * networking → parameters → workers → scaling), then by name.
 */
export function applyOrder(manifest: CdktfManifest, roles: readonly string[]): string[] {
  const names = Object.keys(manifest.stacks);
  const rank = (name: string) => {
    const index = roles.findIndex((role) => name.endsWith(`-${role}`));
    return index === -1 ? roles.length : index;
  };
  const byPreference = [...names].sort((a, b) => rank(a) - rank(b) || a.localeCompare(b));
  const done: string[] = [];
  const visiting = new Set<string>();
  const visit = (name: string, chain: string[]) => {
    if (done.includes(name)) return;
    if (visiting.has(name)) throw new Error(`stack dependency cycle: ${[...chain, name].join(' → ')}`);
    visiting.add(name);
    const deps = [...(manifest.stacks[name]?.dependencies ?? [])].sort((a, b) => rank(a) - rank(b) || a.localeCompare(b));
    for (const dep of deps) {
      if (!(dep in manifest.stacks)) throw new Error(`stack ${name} depends on ${dep}, which the manifest does not have`);
      visit(dep, [...chain, name]);
    }
    visiting.delete(name);
    done.push(name);
  };
  for (const name of byPreference) visit(name, []);
  return done;
}
