/*
 * Check: the deploy permissions. Every AWS call each stack's provider made against moto
 * (moto_rehearsal.py's call log, by the access key each stack signs with), as IAM
 * actions, against the deploy policy synth writes for that stack; and the KMS calls S3
 * made on the state key for each stack's state backend, judged as IAM would.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { STACK_ROLES, stackName } from '@queue-lanes/config';
import { actionsOf, allows, type AccessRequest } from '@queue-lanes/iam-policy';
import { deployPolicy, UNGRANTED_CALLS } from '@queue-lanes/stacks';
import { callerKey, stateCallerKey } from '../override';
import type { Rehearsal, RehearsedStacks } from '../rehearsal';

/** One stack's recorded calls against its deploy policy. */
export interface PermissionCheck {
  readonly stack: string;
  /** How many distinct actions its provider called. */
  readonly called: number;
  /** The KMS actions S3 called on the state key for its state backend (each judged by key ARN and aliases). */
  readonly stateKeyUses: readonly string[];
  /** Called, and not granted by the deploy policy: a deploy with that policy would fail. */
  readonly missing: readonly string[];
  /** Granted, and not called in this rehearsal (update paths it did not take, or too much). */
  readonly unused: readonly string[];
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

/**
 * What each stack's provider called (moto's call log, also written to called-actions.json), against the deploy policy
 * synth wrote for it; and the state key's uses S3 made for its state backend, judged as IAM would, by key ARN and aliases.
 */
export function permissionChecks(r: Rehearsal, s: RehearsedStacks): PermissionCheck[] {
  const calls = readJsonLines<RecordedCall>(join(r.scratch, 'calls.jsonl'));
  const called = calledActions(calls, s.order);
  const keyUses = stateKeyUses(calls, s.order);
  writeFileSync(join(r.reportDir, 'called-actions.json'), `${JSON.stringify(called, null, 2)}\n`);
  writeFileSync(join(r.reportDir, 'state-key-uses.json'), `${JSON.stringify(keyUses, null, 2)}\n`);
  return STACK_ROLES.map((role) => {
    const name = stackName(s.rehearsed, role);
    const policy = deployPolicy(s.rehearsed, role, s.stacks.get(name) ?? {});
    const granted = new Set(actionsOf(policy));
    const used = called[name] ?? [];
    const uses = keyUses[name] ?? [];
    const missing = [
      ...used.filter((a) => !granted.has(a) && !Object.hasOwn(UNGRANTED_CALLS, a)),
      ...uses.filter((use) => !allows(policy, use)).map((use) => `${use.action} on ${use.resource} (S3, for the state)`),
      // The rehearsal's state is always encrypted with its key: a stack with no use recorded was not judged.
      ...(uses.length === 0 ? ['no use of the state key was recorded'] : []),
    ];
    const unused = [...granted].filter((a) => !used.includes(a) && !uses.some((use) => use.action === a)).sort();
    return { stack: name, called: used.length, stateKeyUses: uses.map((use) => use.action), missing, unused };
  });
}

/** Each line of a JSON Lines file; none when the file does not exist. */
function readJsonLines<T>(path: string): T[] {
  if (!existsSync(path)) return [];
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as T);
}
