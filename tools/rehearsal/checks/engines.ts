/*
 * Check: one state, both engines. After OpenTofu's second plan, Terraform plans each
 * state OpenTofu wrote, writes it back with a refresh-only apply, and OpenTofu plans
 * what Terraform wrote; both must find nothing to do.
 */
import { cpSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { AWS_PROVIDER_SOURCE } from '@queue-lanes/stacks';
import { cliConfig, tofu } from '../../terraform/tofu';
import { localStateOverride } from '../override';
import { say, type Rehearsal, type RehearsedStacks, type StackRun } from '../rehearsal';
import type { ReportInput } from '../report';
import { PLAN_TIMEOUT, runStep } from '../step';

/** One stack's state crossing engines: Terraform planned OpenTofu's state, wrote it back, and OpenTofu planned that. */
export interface EngineSwap {
  readonly stack: string;
  /** terraform plan -detailed-exitcode: 0 is nothing to do. */
  readonly terraformPlan: number;
  readonly terraformWrote: boolean;
  /** tofu plan -detailed-exitcode on the state Terraform wrote. */
  readonly tofuPlan: number;
  readonly errors: readonly string[];
}

/**
 * 4b. The other engine: each state as OpenTofu wrote it (pulled from moto's S3 into
 * a local file beside a copy of the stack, the remote-state reads pointed at the
 * producers' copies), Terraform plans it and writes it back with a refresh-only
 * apply, and OpenTofu plans what Terraform wrote. Both must find nothing to do:
 * the provider address is the same under both (libs/stacks AWS_PROVIDER_SOURCE).
 */
export function crossEngines(r: Rehearsal, s: RehearsedStacks, allApplied: boolean): ReportInput['engines'] {
  const terraform = r.toolchain.terraform;
  if (!allApplied) return { skipped: 'Not rehearsed: not every stack applied.' };
  if (!terraform?.built) return { skipped: 'Not rehearsed: Terraform is not built (bash tools/terraform/toolchain.sh terraform).' };
  // Both engines install from registry.terraform.io only, as on a machine with
  // either engine and its own registry: a state that named the other engine's
  // registry would need that registry's provider, and init would fail.
  const singleRegistry = join(r.scratch, 'engines', 'single-registry.tfrc');
  mkdirSync(dirname(singleRegistry), { recursive: true });
  writeFileSync(singleRegistry, cliConfig({ mirror: r.toolchain.mirror, include: [`${AWS_PROVIDER_SOURCE.split('/')[0]}/*/*`] }));
  return { terraform: terraform.version, swaps: s.runs.map((stack) => swapEngines(r, s, stack, singleRegistry)) };
}

/** One stack's state through Terraform and back, in a copy of its folder under engines/. */
function swapEngines(r: Rehearsal, s: RehearsedStacks, stack: StackRun, singleRegistry: string): EngineSwap {
  const dir = join(r.scratch, 'engines', stack.name);
  mkdirSync(dir, { recursive: true });
  for (const f of ['cdk.tf.json', 'rehearsal_override.tf.json']) cpSync(join(stack.dir, f), join(dir, f));
  const pulled = tofu(r.toolchain, r.awsEnv, stack.dir, ['state', 'pull']);
  writeFileSync(join(dir, 'terraform.tfstate'), pulled.stdout);
  const override = localStateOverride(s.stacks.get(stack.name) ?? {}, (key) => {
    const producer = s.runs.find((run) => run.stateKey === key);
    return producer ? join('..', producer.name, 'terraform.tfstate') : undefined;
  });
  writeFileSync(join(dir, 'zz_local_state_override.tf.json'), `${JSON.stringify(override, null, 2)}\n`);
  const here = { ...stack, dir };
  const exit = (step: string, args: string[], engine: 'tofu' | 'terraform') => {
    const result = runStep(r, here, step, args, PLAN_TIMEOUT, engine, { TF_CLI_CONFIG_FILE: singleRegistry });
    return { status: result.result.status, errors: result.errors };
  };
  const plan = ['plan', '-detailed-exitcode', '-input=false', '-no-color'];
  const tfInit = exit('terraform-init', ['init', '-input=false', '-no-color'], 'terraform');
  const tfPlan = tfInit.status === 0 && pulled.status === 0 ? exit('terraform-plan', plan, 'terraform') : tfInit;
  const write =
    tfPlan.status === 0
      ? exit('terraform-refresh', ['apply', '-refresh-only', '-auto-approve', '-input=false', '-no-color'], 'terraform')
      : tfPlan;
  const tofuInit = write.status === 0 ? exit('tofu-init-after-terraform', ['init', '-input=false', '-no-color'], 'tofu') : write;
  const back = tofuInit.status === 0 ? exit('tofu-plan-after-terraform', plan, 'tofu') : tofuInit;
  say(`${stack.name}: Terraform plans OpenTofu's state: exit ${tfPlan.status}; OpenTofu plans Terraform's: exit ${back.status}`);
  return {
    stack: stack.name,
    terraformPlan: tfPlan.status,
    terraformWrote: write.status === 0,
    tofuPlan: back.status,
    errors: [...(pulled.status === 0 ? [] : [`${stack.name}: tofu state pull exited ${pulled.status}`]), ...back.errors],
  };
}
