/*
 * Phase 3 of the rehearsal: every stack initialized and applied in order, stopping at
 * the first failure (later stacks read earlier ones); after each, its outputs read and
 * its cross-stack reads checked. The parameters stack goes through the secrets'
 * upgrade to write-only on the way (checks/secrets.ts).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tofu } from '../terraform/tofu';
import { crossStackChecks, type CrossStackCheck } from './checks/cross-stack';
import { previousReleaseSecrets, secretsCommand, type SecretsPut, type SecretsUpgrade } from './checks/secrets';
import { say, type Rehearsal, type RehearsedStacks, type StackJson, type StackRun } from './rehearsal';
import { APPLY, APPLY_TIMEOUT, PLAN_TIMEOUT, runStep, succeeded, summary, type StepResult } from './step';

/**
 * 3. Apply in order; stop at the first failure (later stacks read earlier ones).
 * The secrets go through the upgrade an existing environment goes through: first
 * as the previous release wrote them (value, which the provider reads back into
 * state), then their real values put out of band, then this release's apply,
 * which must move them to write-only without writing the placeholder over them.
 */
export function applyStacks(
  r: Rehearsal,
  s: RehearsedStacks,
  secrets: SecretsUpgrade,
): { applied: StackRun[]; checks: CrossStackCheck[]; secretsPut?: SecretsPut } {
  let secretsPut: SecretsPut | undefined;
  const applied: StackRun[] = [];
  const checks: CrossStackCheck[] = [];
  for (const stack of s.runs) {
    const init = runStep(r, stack, 'init', ['init', '-input=false', '-no-color'], PLAN_TIMEOUT);
    stack.init = { ok: init.result.status === 0, seconds: init.seconds, errors: init.errors };
    if (!stack.init.ok) break;
    const previous = stack === secrets.stack && secrets.names.length > 0 ? applyPreviousRelease(r, stack) : undefined;
    if (previous && previous.result.status === 0) secretsPut = secretsCommand(r, secrets, true);
    applyStack(r, stack, previous);
    // Even a failed apply may have created resources: destroy covers it.
    applied.push(stack);
    if (!stack.apply?.ok) break;
    const outputs = tofu(r.toolchain, r.awsEnv, stack.dir, ['output', '-json']);
    stack.outputs = outputs.status === 0 ? (JSON.parse(outputs.stdout || '{}') as Record<string, { value: unknown }>) : {};
    checks.push(...crossStackChecks(stack, s.stacks.get(stack.name) ?? {}, s.runs, r.toolchain, r.awsEnv));
  }
  return { applied, checks, secretsPut };
}

/** Applies the stack with its secrets as the previous release wrote them, then puts this release's JSON back. */
function applyPreviousRelease(r: Rehearsal, stack: StackRun): StepResult {
  const stackFile = join(stack.dir, 'cdk.tf.json');
  const current = readFileSync(stackFile, 'utf8');
  writeFileSync(stackFile, `${JSON.stringify(previousReleaseSecrets(JSON.parse(current) as StackJson), null, 2)}\n`);
  const previous = runStep(r, stack, 'apply-previous-release', APPLY, APPLY_TIMEOUT);
  writeFileSync(stackFile, current);
  return previous;
}

/** Applies this release to one stack (unless the previous release's apply already failed) and records both. */
function applyStack(r: Rehearsal, stack: StackRun, previous: StepResult | undefined): void {
  const apply = previous && previous.result.status !== 0 ? previous : runStep(r, stack, 'apply', APPLY, APPLY_TIMEOUT);
  const earlier = previous && previous !== apply ? previous : undefined;
  stack.apply = {
    ok: succeeded(apply),
    seconds: apply.seconds + (earlier ? earlier.seconds : 0),
    errors: apply.errors,
    added: (summary(apply.stdout).add ?? 0) + (earlier ? (summary(earlier.stdout).add ?? 0) : 0),
  };
  say(`${stack.name}: apply ${stack.apply.ok ? 'ok' : 'FAILED'} (${stack.apply.added ?? 0} added, ${stack.apply.seconds.toFixed(1)}s)`);
}
