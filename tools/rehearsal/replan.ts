/*
 * Phase 4 of the rehearsal: every stack planned again after apply; the goal is no
 * change at all. Each difference is read from the plan, attribute by attribute
 * (checks/plan-differences.ts), and the plan kept in logs/<stack>.plan.json.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tofu } from '../terraform/tofu';
import { planDifferences, type Difference } from './checks/plan-differences';
import { say, type Rehearsal, type RehearsedStacks } from './rehearsal';
import { PLAN_TIMEOUT, runStep } from './step';

/**
 * 4. Plan again: the goal is no change at all (the secrets' real values included,
 * which Terraform must leave alone and never hold in state).
 */
export function planAgain(r: Rehearsal, s: RehearsedStacks): Difference[] {
  const differences: Difference[] = [];
  for (const stack of s.runs) {
    const plan = runStep(
      r,
      stack,
      'plan',
      ['plan', '-detailed-exitcode', '-input=false', '-no-color', '-lock-timeout=60s', '-out=rehearsal.tfplan'],
      PLAN_TIMEOUT,
    );
    stack.plan = {
      ok: plan.result.status === 0 || plan.result.status === 2,
      seconds: plan.seconds,
      errors: plan.errors,
      exitCode: plan.result.status,
    };
    if (!stack.plan.ok) continue;
    const show = tofu(r.toolchain, r.awsEnv, stack.dir, ['show', '-json', 'rehearsal.tfplan']);
    writeFileSync(join(r.logs, `${stack.name}.plan.json`), show.stdout);
    differences.push(...planDifferences(stack.name, JSON.parse(show.stdout)));
    say(`${stack.name}: plan again: ${plan.result.status === 0 ? 'no changes' : 'changes'}`);
  }
  return differences;
}
