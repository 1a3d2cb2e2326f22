import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  ConfigError,
  STACK_ROLES,
  SettingError,
  loadEnvironment,
  locateSettingError,
  stackName,
  type EnvironmentConfig,
} from '@queue-lanes/config';
import { App } from 'cdktf';
import { composeEnvironment, type EnvironmentStacks } from './compose';
import { deployPolicy, splitPolicy, terraformCloudTrustPolicy, type SynthesizedStack } from './deploy-policy';

export interface EnvironmentAppOptions {
  /** The environment's name: environments/<name>.yaml, apps/<name>. */
  readonly environment: string;
  /** The repository root, so messages name the file as environments/<name>.yaml. */
  readonly workspaceRoot: string;
  /**
   * Where Terraform JSON goes.
   * @default apps/<name>/cdktf.out
   */
  readonly outdir?: string;
}

/** Loads environments/<name>.yaml (throws ConfigError when it is invalid). */
export function loadNamedEnvironment(workspaceRoot: string, environment: string): EnvironmentConfig {
  const relative = `environments/${environment}.yaml`;
  return loadEnvironment(join(workspaceRoot, relative), relative);
}

/** Builds and synthesizes one environment's stacks; the body of every apps/<env>/main.ts. */
export function synthEnvironment(options: EnvironmentAppOptions): EnvironmentStacks {
  const env = loadNamedEnvironment(options.workspaceRoot, options.environment);
  // stackTraces off: traces hold absolute paths, and the JSON must be identical
  // whichever folder the repository is checked out in.
  const outdir = options.outdir ?? join(options.workspaceRoot, 'apps', options.environment, 'cdktf.out');
  const app = new App({ outdir, stackTraces: false });
  const stacks = withoutTokenStackTraces(() => {
    const composed = composeEnvironment(app, env);
    app.synth();
    return composed;
  });
  writeDeployPolicies(env, outdir);
  return stacks;
}

/**
 * `cdktf.out/deploy-policies/<stack>.json`: what the role that deploys each stack
 * needs (libs/stacks/src/deploy-policy.ts), from the stack as synthesized; cut into
 * `<stack>.part-<n>.json` when it is over IAM's size for one managed policy.
 */
function writeDeployPolicies(env: EnvironmentConfig, outdir: string): void {
  const dir = join(outdir, 'deploy-policies');
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  for (const role of STACK_ROLES) {
    const name = stackName(env, role);
    const stack = JSON.parse(readFileSync(join(outdir, 'stacks', name, 'cdk.tf.json'), 'utf8')) as SynthesizedStack;
    const parts = splitPolicy(deployPolicy(env, role, stack));
    parts.forEach((part, i) => {
      writeFileSync(join(dir, parts.length === 1 ? `${name}.json` : `${name}.part-${i + 1}.json`), `${JSON.stringify(part, null, 2)}\n`);
    });
    const trust = terraformCloudTrustPolicy(env, role);
    if (trust) writeFileSync(join(dir, `${name}.trust.json`), `${JSON.stringify(trust, null, 2)}\n`);
  }
}

/**
 * cdktf records and formats a full stack trace for every token it creates, only
 * to explain a misuse if one is found; formatting them is a large share of a
 * synth. Traces are formatted lazily, so an error that escapes still gets its
 * trace formatted normally once the original formatter is back.
 */
function withoutTokenStackTraces<T>(work: () => T): T {
  const original = Error.prepareStackTrace;
  Error.prepareStackTrace = () => '';
  try {
    return work();
  } finally {
    Error.prepareStackTrace = original;
  }
}

/**
 * Entry point for an app's main.ts: synthesizes, and turns a bad environment file
 * into its list of problems and exit code 1 instead of a stack trace.
 */
export function runEnvironmentApp(options: EnvironmentAppOptions): void {
  try {
    try {
      synthEnvironment(options);
    } catch (error) {
      // A limit a construct found, reported at the key of the file that causes it.
      if (!(error instanceof SettingError)) throw error;
      const relative = `environments/${options.environment}.yaml`;
      throw locateSettingError(readFileSync(join(options.workspaceRoot, relative), 'utf8'), relative, error);
    }
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`${error.message}\n`);
      process.stderr.write(`${options.environment}: ${error.problems.length} problem(s); nothing was synthesized\n`);
      process.exitCode = 1;
      return;
    }
    // A construct rejecting its props: the message is for the user, the trace
    // only for whoever debugs the construct.
    if (error instanceof Error && !process.env.QUEUE_LANES_DEBUG) {
      process.stderr.write(`environments/${options.environment}.yaml: ${error.message}\n`);
      process.stderr.write(`${options.environment}: nothing was synthesized (QUEUE_LANES_DEBUG=1 shows the stack trace)\n`);
      process.exitCode = 1;
      return;
    }
    throw error;
  }
}
