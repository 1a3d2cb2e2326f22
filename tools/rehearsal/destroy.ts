/*
 * Phase 6 of the rehearsal: every applied stack destroyed in reverse order, whatever
 * happened before.
 */
import { say, type Rehearsal, type StackRun } from './rehearsal';
import { APPLY, APPLY_TIMEOUT, runStep, succeeded, summary } from './step';

/** 6. Destroy in reverse order, whatever happened above. */
export function destroyStacks(r: Rehearsal, applied: readonly StackRun[]): void {
  for (const stack of [...applied].reverse()) destroyStack(r, stack);
}

function destroyStack(r: Rehearsal, stack: StackRun): void {
  const args = ['destroy', ...APPLY.slice(1)];
  let destroy = runStep(r, stack, 'destroy', args, APPLY_TIMEOUT);
  const errors = destroy.errors;
  if (destroy.result.status !== 0 && !destroy.result.timedOut) {
    // Destroy refreshes and plans first; a plan error (a moto round-trip the provider
    // refuses) must not leave resources behind. The first errors stay in the report.
    destroy = runStep(r, stack, 'destroy-without-refresh', [...args, '-refresh=false'], APPLY_TIMEOUT);
    errors.push(
      ...destroy.errors,
      `${stack.name}: destroy failed as above and was repeated with -refresh=false: ${destroy.result.status === 0 ? 'ok' : 'failed too'}`,
    );
  }
  stack.destroy = { ok: succeeded(destroy), seconds: destroy.seconds, errors, removed: summary(destroy.stdout).remove };
  say(
    `${stack.name}: destroy ${stack.destroy.ok ? 'ok' : 'FAILED'} (${stack.destroy.removed ?? 0} destroyed, ${stack.destroy.seconds.toFixed(1)}s)`,
  );
}
