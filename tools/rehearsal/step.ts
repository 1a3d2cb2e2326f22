/*
 * One engine command of one stack against moto, as every phase of the rehearsal runs
 * it: its output logged to logs/<stack>.<step>.log, its errors one line each.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { formatDiagnostic, streamDiagnostics, tofu } from '../terraform/tofu';
import type { Rehearsal, StackRun } from './rehearsal';

export const APPLY_TIMEOUT = 1200;
export const PLAN_TIMEOUT = 600;
export const APPLY = ['apply', '-auto-approve', '-input=false', '-json', '-lock-timeout=60s'];

/** One tofu (or terraform) command of one stack: its result, time, errors (one line each) and output. */
export interface StepResult {
  readonly result: ReturnType<typeof tofu>;
  readonly seconds: number;
  readonly errors: string[];
  readonly stdout: string;
}

/** Runs one command in a stack's folder against moto, its output logged to logs/<stack>.<step>.log. */
export function runStep(
  r: Rehearsal,
  stack: Pick<StackRun, 'name' | 'dir'>,
  step: string,
  args: string[],
  timeout: number,
  engine: 'tofu' | 'terraform' = 'tofu',
  extraEnv: NodeJS.ProcessEnv = {},
): StepResult {
  const t0 = Date.now();
  // Terraform keeps its own .terraform folder: the state and lock file are what the engines share.
  const env = { ...r.awsEnv, ...extraEnv, ...(engine === 'terraform' ? { TF_DATA_DIR: join(stack.dir, '.terraform-hashicorp') } : {}) };
  const result = tofu(r.toolchain, env, stack.dir, args, { timeoutSeconds: timeout, engine });
  const seconds = (Date.now() - t0) / 1000;
  const json = args.includes('-json');
  const text = json ? humanLines(result.stdout) : result.stdout;
  writeFileSync(join(r.logs, `${stack.name}.${step}.log`), `$ ${engine} ${args.join(' ')}\n${text}${result.stderr}`);
  const errors = json
    ? streamDiagnostics(result.stdout)
        .filter((d) => d.severity === 'error')
        .map((d) => formatDiagnostic(stack.name, d))
    : errorLines(stack.name, result.stdout + result.stderr);
  if (result.timedOut) errors.push(`${stack.name}: ${engine} ${step} did not finish within ${timeout}s and was stopped`);
  if (result.status !== 0 && result.status !== 2 && errors.length === 0)
    errors.push(`${stack.name}: ${engine} ${step} exited ${result.status}; see logs/${stack.name}.${step}.log`);
  return { result, seconds, errors, stdout: result.stdout };
}

/** Whether a command finished in time with exit 0. */
export function succeeded(step: StepResult): boolean {
  return step.result.status === 0 && !step.result.timedOut;
}

/** The human `@message` lines of a `-json` UI stream. */
function humanLines(stdout: string): string {
  return stdout
    .split('\n')
    .map((line) => {
      try {
        const message = JSON.parse(line) as { '@message'?: string; diagnostic?: { detail?: string } };
        return [message['@message'], message.diagnostic?.detail].filter(Boolean).join('\n  ');
      } catch {
        return line;
      }
    })
    .filter(Boolean)
    .join('\n')
    .concat('\n');
}

/** `Error: …` blocks of tofu's human output, one line each. */
function errorLines(stack: string, text: string): string[] {
  return text
    .split(/\n(?=│? ?Error: |╷)/)
    .filter((block) => /Error: /.test(block))
    .map((block) => `${stack}: ${block.replace(/[╷│╵]/g, '').replace(/\s+/g, ' ').trim()}`);
}

/** The change_summary of a `-json` apply or destroy. */
export function summary(stdout: string): { add?: number; change?: number; remove?: number } {
  for (const line of stdout.split('\n').reverse()) {
    try {
      const message = JSON.parse(line) as { type?: string; changes?: { add: number; change: number; remove: number } };
      if (message.type === 'change_summary' && message.changes) return message.changes;
    } catch {
      // not JSON
    }
  }
  return {};
}
