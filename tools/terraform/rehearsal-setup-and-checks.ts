/*
 * The pure parts of the deploy rehearsal (tools/terraform/rehearse.ts): the
 * rehearsal copy of an environment file, the order stacks apply in, the override
 * file that points a stack at the moto server, the cross-stack references to
 * check, the attribute-level report of what a second plan would change, and the
 * lane rolled back to off with what that must leave behind.
 */
import { stageIndex, type EnvironmentConfig, type LaneConfig } from '@queue-lanes/config';
import type { AccessRequest } from '@queue-lanes/iam-policy';
import { secretDescription } from '@queue-lanes/ssm-parameters';
import { parseDocument } from 'yaml';

/** Where the rehearsal runs: a moto server on loopback and what was created in it. */
export interface MotoTarget {
  /** http://127.0.0.1:<port> */
  readonly endpoint: string;
  readonly region: string;
  /** moto's account (123456789012 unless MOTO_ACCOUNT_ID says otherwise). */
  readonly accountId: string;
  /** The state bucket, created in moto before the first init. */
  readonly bucket: string;
}

/** The network the environment file points at, as created in moto. */
export interface RehearsalNetwork {
  readonly vpcId: string;
  readonly privateSubnetIds: readonly string[];
  readonly redisSecurityGroupId: string;
  readonly auroraSecurityGroupId: string;
  /** network.httpsEgress's destinations, when the file names them. */
  readonly httpsEgressSecurityGroupIds?: readonly string[];
  readonly httpsEgressPrefixListIds?: readonly string[];
}

/** Fake credentials moto accepts; nothing else ever sees them. */
export const FAKE_CREDENTIALS = { access_key: 'rehearsal', secret_key: 'rehearsal' } as const;

/** The KMS key the rehearsal's state objects are encrypted with (created in moto by seed). */
export const REHEARSAL_STATE_KEY = 'alias/rehearsal-state';

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

/**
 * The lane a rehearsal rolls back to `off`, as "Rolling a lane back" in docs/operations.md
 * does: the one furthest along (first in priority order among equals); undefined
 * when every lane is already off.
 */
export function rollbackLane(env: EnvironmentConfig): LaneConfig | undefined {
  return env.lanes
    .filter((lane) => lane.stage !== 'off')
    .reduce<LaneConfig | undefined>((best, lane) => (!best || stageIndex(lane.stage) > stageIndex(best.stage) ? lane : best), undefined);
}

/** The rehearsal copy with one lane set back to `off` (unpaused: an off lane cannot be paused). */
export function rolledBackEnvironment(text: string, lane: string): string {
  const doc = parseDocument(text);
  doc.setIn(['lanes', lane, 'stage'], 'off');
  doc.deleteIn(['lanes', lane, 'paused']);
  return doc.toString();
}

/** What moto holds of one lane (tools/terraform/moto_rehearsal.py inspect). */
export interface LaneInspection {
  readonly service: { readonly status: string; readonly desiredCount: number; readonly taskDefinition: string } | null;
  readonly alarms: readonly { readonly name: string; readonly actionsEnabled: boolean | null }[];
  /** The lane's host-consumer switch; null when it does not exist. */
  readonly parameter: string | null;
  /** Of the log groups asked about, those that exist. */
  readonly logGroups: readonly string[];
}

/** One thing the rollback must leave behind, with what was found. */
export interface RollbackCheck {
  readonly when: 'after rollback' | 'after destroy';
  readonly what: string;
  readonly expected: string;
  readonly found: string;
  readonly ok: boolean;
}

/**
 * What the documented rollback promises, checked against moto: after the rolled-back
 * copy is applied, the lane's service is kept at 0 tasks with its task definition,
 * its log group and alarms stay with their actions disabled, and the hosts'
 * switch says `enabled`; after every stack is destroyed, the log groups are still
 * there (skip_destroy) while the service and alarms are gone.
 */
export function rollbackChecks(
  logGroups: readonly string[],
  afterRollback: LaneInspection,
  afterDestroy?: LaneInspection,
): RollbackCheck[] {
  const checks: RollbackCheck[] = [];
  const check = (when: RollbackCheck['when'], what: string, expected: string, found: string) =>
    checks.push({ when, what, expected, found, ok: expected === found });
  const service = afterRollback.service;
  check('after rollback', 'service', 'ACTIVE, 0 tasks', service ? `${service.status}, ${service.desiredCount} tasks` : 'missing');
  check('after rollback', 'task definition', 'kept', service?.taskDefinition ? 'kept' : 'missing');
  const alarms = afterRollback.alarms;
  const enabled = alarms.filter((a) => a.actionsEnabled !== false).map((a) => a.name);
  check(
    'after rollback',
    'alarms',
    'kept, actions disabled',
    alarms.length === 0 ? 'none' : enabled.length ? `actions enabled on ${enabled.join(', ')}` : 'kept, actions disabled',
  );
  check('after rollback', 'host-consumer switch', 'enabled', afterRollback.parameter ?? 'missing');
  const missing = (inspection: LaneInspection) => logGroups.filter((g) => !inspection.logGroups.includes(g));
  check(
    'after rollback',
    'log groups',
    'all kept',
    missing(afterRollback).length ? `missing ${missing(afterRollback).join(', ')}` : 'all kept',
  );
  if (afterDestroy) {
    check(
      'after destroy',
      'log groups',
      'all kept',
      missing(afterDestroy).length ? `missing ${missing(afterDestroy).join(', ')}` : 'all kept',
    );
    check('after destroy', 'service', 'gone', afterDestroy.service ? `${afterDestroy.service.status}` : 'gone');
    check('after destroy', 'alarms', 'gone', afterDestroy.alarms.length ? `${afterDestroy.alarms.length} left` : 'gone');
  }
  return checks;
}

/** What moto_rehearsal.py secrets answers: each secret's value in SSM, what was put, and which of those strings (or the placeholder) the state holds. */
export interface SecretsRead {
  readonly values: Readonly<Record<string, string>>;
  readonly expected: Readonly<Record<string, string>>;
  readonly inState: readonly string[];
}

/** The names of a stack's SecureString parameters. */
export function secureParameterNames(stack: StackJson): string[] {
  const resources = (stack.resource ?? {}) as Record<string, Record<string, { type?: string; name?: string }>>;
  const parameters = resources.aws_ssm_parameter ?? {};
  return Object.values(parameters)
    .filter((p) => p.type === 'SecureString' && typeof p.name === 'string')
    .map((p) => p.name as string)
    .sort();
}

/** How this release's secret descriptions end (libs/ssm-parameters secretDescription), and how the previous release's did. */
const SECRET_DESCRIPTION_END = secretDescription('', '').slice(secretDescription('', '').indexOf(';'));
const PREVIOUS_SECRET_DESCRIPTION_END = '; set out of band, Terraform keeps only the placeholder';

/**
 * The stack with its secrets as the previous release synthesized them: the
 * placeholder in `value` (which the provider reads back into state), no version,
 * and the previous description. The rehearsal applies this first, so this
 * release's apply is the upgrade every existing environment goes through.
 */
export function previousReleaseSecrets(stack: StackJson): StackJson {
  const resources = (stack.resource ?? {}) as Record<string, Record<string, Record<string, unknown>>>;
  const parameters: Record<string, Record<string, unknown>> = {};
  for (const [id, parameter] of Object.entries(resources.aws_ssm_parameter ?? {})) {
    if (parameter.type !== 'SecureString' || parameter.value_wo === undefined) {
      parameters[id] = parameter;
      continue;
    }
    const rest = Object.fromEntries(Object.entries(parameter).filter(([key]) => key !== 'value_wo' && key !== 'value_wo_version'));
    parameters[id] = {
      ...rest,
      value: parameter.value_wo,
      description: String(parameter.description).replace(SECRET_DESCRIPTION_END, PREVIOUS_SECRET_DESCRIPTION_END),
      lifecycle: { ignore_changes: ['value'] },
    };
  }
  return { ...stack, resource: { ...resources, aws_ssm_parameter: parameters } };
}

/**
 * What write-only secrets promise, checked against moto after a plan and the values
 * put out of band: every value is still the one put (Terraform reset none), and
 * the parameters stack's state holds neither those values nor the placeholder.
 */
export function secretChecks(read: SecretsRead): SecretCheck[] {
  const checks: SecretCheck[] = Object.entries(read.expected).map(([name, value]) => {
    const found = read.values[name] === value ? 'the value put out of band' : read.values[name] === undefined ? 'missing' : 'another value';
    return { what: name, expected: 'the value put out of band', found, ok: found === 'the value put out of band' };
  });
  const found = read.inState.length ? `${read.inState.length} secret value(s)` : 'none';
  checks.push({ what: 'secret values in the parameters stack state', expected: 'none', found, ok: found === 'none' });
  return checks;
}

export interface SecretCheck {
  readonly what: string;
  readonly expected: string;
  readonly found: string;
  readonly ok: boolean;
}

/** The access key id a stack's provider signs with in the rehearsal (moto accepts any). */
export function callerKey(stackName: string): string {
  return `rehearsal.${stackName}`;
}

/**
 * The access key id a stack's state backend (and its remote-state reads) signs with:
 * its own, so the KMS calls S3 makes for its state are that stack's, and apart from
 * its provider's calls (S3 actions are not named after their operations).
 */
export function stateCallerKey(stackName: string): string {
  return `rehearsal-state.${stackName}`;
}

/** One line of moto_rehearsal.py's call log. */
export interface RecordedCall {
  readonly caller: string;
  /** The service's signing name (`monitoring` for CloudWatch). */
  readonly service: string;
  readonly operation: string;
  /** A KMS call S3 makes on the caller's behalf (`s3`): the key's ARN, and the aliases the key carries. */
  readonly via?: string;
  readonly resource?: string;
  readonly aliases?: readonly string[];
}

/**
 * The state key's uses by each stack, by stack name, each once: the KMS calls S3 makes
 * as the stack's state backend writes (GenerateDataKey) and reads (Decrypt) its
 * objects, as IAM authorises them: on the key's ARN, with the key's aliases as
 * kms:ResourceAliases.
 */
export function stateKeyUses(calls: readonly RecordedCall[], stackNames: readonly string[]): Record<string, AccessRequest[]> {
  return Object.fromEntries(
    stackNames.map((name) => {
      const uses = new Map<string, AccessRequest>();
      for (const call of calls) {
        if (call.caller !== stateCallerKey(name) || call.service !== 'kms' || call.resource === undefined) continue;
        const use = {
          action: `kms:${call.operation}`,
          resource: call.resource,
          context: { 'kms:ResourceAliases': [...(call.aliases ?? [])] },
        };
        uses.set(JSON.stringify(use), use);
      }
      return [name, [...uses.values()].sort((a, b) => a.action.localeCompare(b.action) || a.resource.localeCompare(b.resource))];
    }),
  );
}

/** Signing names whose IAM service prefix differs. */
const IAM_PREFIX: Readonly<Record<string, string>> = { monitoring: 'cloudwatch' };

/**
 * The IAM actions each stack's provider called, by stack name, sorted: a call is
 * `<service prefix>:<Operation>`, which is the action IAM checks for every service
 * the stacks use (S3 state calls sign with the backend's own key and are not counted).
 */
export function calledActions(calls: readonly RecordedCall[], stackNames: readonly string[]): Record<string, string[]> {
  const byKey = new Map(stackNames.map((name) => [callerKey(name), new Set<string>()]));
  for (const call of calls) byKey.get(call.caller)?.add(`${IAM_PREFIX[call.service] ?? call.service}:${call.operation}`);
  return Object.fromEntries(stackNames.map((name) => [name, [...byKey.get(callerKey(name))!].sort()]));
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

/** The parts of a synthesized cdk.tf.json the override reads. */
export interface StackJson {
  readonly provider?: Readonly<Record<string, unknown>>;
  readonly terraform?: { readonly backend?: Readonly<Record<string, Readonly<Record<string, unknown>>>> };
  readonly data?: Readonly<Record<string, Readonly<Record<string, Readonly<Record<string, unknown>>>>>>;
  readonly [key: string]: unknown;
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

/** S3 backend (and terraform_remote_state) settings that keep state in moto. */
export function s3StateConfig(target: MotoTarget, key: string, stackName: string): Record<string, unknown> {
  return {
    bucket: target.bucket,
    key,
    region: target.region,
    encrypt: true,
    kms_key_id: REHEARSAL_STATE_KEY,
    use_lockfile: true,
    use_path_style: true,
    endpoints: { s3: target.endpoint, sts: target.endpoint, iam: target.endpoint, dynamodb: target.endpoint },
    skip_credentials_validation: true,
    skip_requesting_account_id: true,
    skip_metadata_api_check: true,
    skip_region_validation: true,
    ...FAKE_CREDENTIALS,
    access_key: stateCallerKey(stackName),
  };
}

/** The state key a backend (or remote state) block used, as the rehearsal names it in moto. */
export function stateKey(type: string, config: Readonly<Record<string, unknown>>, fallback: string): string {
  if (type === 's3' && typeof config.key === 'string') return config.key;
  if (type === 'local' && typeof config.path === 'string') {
    // terraform.<stack>.tfstate → <stack>.tfstate, the key its own local→s3 override uses.
    const file = config.path.split('/').pop() ?? config.path;
    return file.replace(/^terraform\./, '');
  }
  if (type === 'local') return fallback;
  throw new Error(`a "${type}" backend cannot be rehearsed in moto (only local and s3)`);
}

/**
 * `rehearsal_override.tf.json` for one stack: the AWS provider(s) pointed at moto
 * (every endpoint, fake credentials, no credential/metadata/region checks, path-style
 * S3, moto's account allowed), the state in moto's S3, and every
 * terraform_remote_state read from there. The synthesized JSON itself is untouched.
 */
export function rehearsalOverride(
  stackName: string,
  stack: StackJson,
  target: MotoTarget,
  endpoints: readonly string[],
): Record<string, unknown> {
  const override: Record<string, unknown> = {
    '//': 'Written by tools/terraform/rehearse.ts for a rehearsal against moto; never deployed.',
  };
  const providers = stack.provider?.aws;
  if (providers !== undefined) {
    const list = (Array.isArray(providers) ? providers : [providers]) as Record<string, unknown>[];
    override.provider = {
      aws: list.map((original) => ({
        ...(original.alias !== undefined ? { alias: original.alias } : {}),
        ...FAKE_CREDENTIALS,
        // Its own access key id, so moto's call log tells which stack made each call.
        access_key: callerKey(stackName),
        allowed_account_ids: [target.accountId],
        skip_credentials_validation: true,
        skip_metadata_api_check: true,
        skip_region_validation: true,
        s3_use_path_style: true,
        // moto answers at once; a retry loop on an API it lacks would only hide the error.
        max_retries: 1,
        endpoints: [Object.fromEntries(endpoints.map((name) => [name, target.endpoint]))],
      })),
    };
  }
  const backend = Object.entries(stack.terraform?.backend ?? { local: {} })[0];
  override.terraform = { backend: { s3: s3StateConfig(target, stateKey(backend[0], backend[1], `${stackName}.tfstate`), stackName) } };
  const remote = stack.data?.terraform_remote_state;
  if (remote) {
    override.data = {
      terraform_remote_state: Object.fromEntries(
        Object.entries(remote).map(([name, block]) => {
          const type = String(block.backend);
          const config = (block.config ?? {}) as Record<string, unknown>;
          return [name, { backend: 's3', config: s3StateConfig(target, stateKey(type, config, `${name}.tfstate`), stackName) }];
        }),
      ),
    };
  }
  return override;
}

/** One cross-stack read: data.terraform_remote_state.<data>.outputs.<output>. */
export interface RemoteStateReference {
  readonly data: string;
  readonly output: string;
}

/** Every remote-state output a stack reads, found in its expressions. */
export function remoteStateReferences(stack: StackJson): RemoteStateReference[] {
  const found = new Map<string, RemoteStateReference>();
  const pattern = /data\.terraform_remote_state\.([A-Za-z0-9_-]+)\.outputs\.([A-Za-z0-9_-]+)/g;
  for (const match of JSON.stringify(stack).matchAll(pattern)) {
    found.set(`${match[1]}.${match[2]}`, { data: match[1], output: match[2] });
  }
  return [...found.values()].sort((a, b) => `${a.data}.${a.output}`.localeCompare(`${b.data}.${b.output}`));
}

/**
 * The override that gives a stack its state as a local file (terraform.tfstate)
 * and each remote-state read the producer's local file, for the engine that has no
 * S3 backend (the Terraform the rehearsal builds; toolchain.sh says why). Named to
 * sort after rehearsal_override.tf.json, whose backend blocks it replaces.
 */
export function localStateOverride(stack: StackJson, producerFile: (stateKey: string) => string | undefined): Record<string, unknown> {
  const override: Record<string, unknown> = { terraform: { backend: { local: { path: 'terraform.tfstate' } } } };
  const remote = stack.data?.terraform_remote_state;
  if (remote) {
    override.data = {
      terraform_remote_state: Object.fromEntries(
        Object.entries(remote).map(([name, block]) => {
          const key = stateKey(String(block.backend), (block.config ?? {}) as Record<string, unknown>, `${name}.tfstate`);
          const path = producerFile(key);
          if (!path) throw new Error(`remote state ${name} reads ${key}, which no stack of the rehearsal writes`);
          return [name, { backend: 'local', config: { path } }];
        }),
      ),
    };
  }
  return override;
}

/** An attribute that differs: its path (`container_definitions`, `tags.app`, `ingress[0].from_port`). */
export interface AttributeDifference {
  readonly path: string;
  readonly before: unknown;
  readonly after: unknown;
}

/** What a plan reports for one resource or output. */
export interface Difference {
  /** drift: moto returned something else than was applied; change: the plan would act; output: an output would change. */
  readonly kind: 'drift' | 'change' | 'output';
  readonly stack: string;
  readonly address: string;
  readonly type?: string;
  readonly actions: readonly string[];
  readonly attributes: readonly AttributeDifference[];
}

interface ResourceChangeJson {
  readonly address: string;
  readonly type?: string;
  readonly change: {
    readonly actions: readonly string[];
    readonly before?: unknown;
    readonly after?: unknown;
    readonly after_unknown?: unknown;
  };
}

/** `tofu show -json <planfile>`, the parts the report reads. */
export interface PlanJson {
  readonly resource_drift?: readonly ResourceChangeJson[];
  readonly resource_changes?: readonly ResourceChangeJson[];
  readonly output_changes?: Readonly<Record<string, ResourceChangeJson['change']>>;
}

const UNKNOWN = '(known after apply)';

/** Every leaf attribute whose value differs between `before` and `after`. */
export function attributeDifferences(before: unknown, after: unknown, unknown: unknown = undefined, path = ''): AttributeDifference[] {
  if (unknown === true) return [{ path: path || '(value)', before, after: UNKNOWN }];
  const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
  if (Array.isArray(before) && Array.isArray(after)) {
    const out: AttributeDifference[] = [];
    const unknowns = Array.isArray(unknown) ? unknown : [];
    for (let i = 0; i < Math.max(before.length, after.length); i++) {
      out.push(...attributeDifferences(before[i], after[i], unknowns[i], `${path}[${i}]`));
    }
    return out;
  }
  if (isObject(before) && isObject(after)) {
    const unknowns = isObject(unknown) ? unknown : {};
    const keys = [...new Set([...Object.keys(before), ...Object.keys(after), ...Object.keys(unknowns)])].sort();
    return keys.flatMap((key) => attributeDifferences(before[key], after[key], unknowns[key], path ? `${path}.${key}` : key));
  }
  if (isObject(unknown) || Array.isArray(unknown)) {
    // after is null/absent but parts of it are unknown: report the whole value
    if (containsTrue(unknown)) return [{ path: path || '(value)', before, after: UNKNOWN }];
  }
  const same = JSON.stringify(normalize(before)) === JSON.stringify(normalize(after));
  return same ? [] : [{ path: path || '(value)', before, after }];
}

function containsTrue(value: unknown): boolean {
  if (value === true) return true;
  if (Array.isArray(value)) return value.some(containsTrue);
  if (typeof value === 'object' && value !== null) return Object.values(value).some(containsTrue);
  return false;
}

/** Absent, null, empty list and empty map are the same thing to a plan. */
function normalize(value: unknown): unknown {
  if (value === undefined || value === null) return null;
  if (Array.isArray(value) && value.length === 0) return null;
  if (typeof value === 'object' && value !== null && Object.keys(value).length === 0) return null;
  return value;
}

/** Every drift, resource change and output change of a plan, attribute by attribute. */
export function planDifferences(stack: string, plan: PlanJson): Difference[] {
  const out: Difference[] = [];
  for (const drift of plan.resource_drift ?? []) {
    out.push({
      kind: 'drift',
      stack,
      address: drift.address,
      type: drift.type,
      actions: drift.change.actions,
      attributes: attributeDifferences(drift.change.before, drift.change.after),
    });
  }
  for (const change of plan.resource_changes ?? []) {
    const actions = change.change.actions;
    if (actions.length === 1 && (actions[0] === 'no-op' || actions[0] === 'read')) continue;
    out.push({
      kind: 'change',
      stack,
      address: change.address,
      type: change.type,
      actions,
      attributes: attributeDifferences(change.change.before, change.change.after, change.change.after_unknown),
    });
  }
  for (const [name, change] of Object.entries(plan.output_changes ?? {})) {
    if (change.actions.length === 1 && change.actions[0] === 'no-op') continue;
    out.push({
      kind: 'output',
      stack,
      address: `output.${name}`,
      actions: change.actions,
      attributes: attributeDifferences(change.before, change.after, change.after_unknown),
    });
  }
  return out;
}

/** A difference moto cannot avoid, and why. */
export interface KnownDifference {
  /** Resource type (exact), or undefined for any. */
  readonly type?: string;
  /** Attribute path pattern; every differing attribute must match for the difference to count as known. */
  readonly path: RegExp;
  readonly kind?: Difference['kind'];
  readonly why: string;
}

/**
 * The explanation for every attribute of a difference, or undefined for an
 * attribute nothing explains (the rehearsal fails on those).
 */
export function explain(difference: Difference, known: readonly KnownDifference[]): (string | undefined)[] {
  const attributes = difference.attributes.length ? difference.attributes : [{ path: '(resource)', before: null, after: null }];
  return attributes.map(
    (attribute) =>
      known.find(
        (k) =>
          (k.type === undefined || k.type === difference.type) &&
          (k.kind === undefined || k.kind === difference.kind) &&
          k.path.test(attribute.path),
      )?.why,
  );
}

/** A value for a Markdown table cell: JSON, shortened. */
export function cell(value: unknown, max = 120): string {
  const text = value === undefined ? '(absent)' : typeof value === 'string' ? value : JSON.stringify(value);
  const short = text.length > max ? `${text.slice(0, max - 1)}…` : text;
  return short.replace(/\|/g, '\\|').replace(/\n/g, ' ');
}
