import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { STACK_ROLES, stackName, type EnvironmentConfig, type StackRole } from '@queue-lanes/config';
import { App } from 'cdktf';
import { composeEnvironment } from './compose';

/** Parsed cdk.tf.json of each stack of one environment. */
export type SynthesizedEnvironment = Record<StackRole, Record<string, unknown>>;

/**
 * Synthesizes an environment exactly as its app does, into a throw-away folder,
 * and returns every stack's Terraform JSON: for tests that look across stacks.
 */
export function synthesizeToJson(env: EnvironmentConfig): SynthesizedEnvironment {
  const outdir = mkdtempSync(join(tmpdir(), 'queue-lanes-synth-'));
  try {
    const app = new App({ outdir, stackTraces: false });
    composeEnvironment(app, env);
    app.synth();
    const read = (role: StackRole) =>
      JSON.parse(readFileSync(join(outdir, 'stacks', stackName(env, role), 'cdk.tf.json'), 'utf8'));
    return Object.fromEntries(STACK_ROLES.map((role) => [role, read(role)])) as SynthesizedEnvironment;
  } finally {
    rmSync(outdir, { recursive: true, force: true });
  }
}
