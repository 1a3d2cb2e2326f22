/*
 * What every phase of the deploy rehearsal (rehearse.ts) reads and fills in: the
 * folders, the toolchain, the environment file and the moto server it runs against;
 * then the rehearsal copy's stacks, each with its run.
 */
import { mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { parseEnvironment, type EnvironmentConfig } from '@queue-lanes/config';
import { prepareToolchain, type Toolchain } from '../terraform/tofu';
import { fakeAwsEnvironment } from './moto';

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

/** The KMS key the rehearsal's state objects are encrypted with (created in moto by seed). */
export const REHEARSAL_STATE_KEY = 'alias/rehearsal-state';

/** What moto_rehearsal.py serve wrote once it answered. */
export interface MotoReady {
  readonly endpoint: string;
  readonly accountId: string;
  readonly motoVersion: string;
  /** One line per patch the launcher applied to moto. */
  readonly patches: readonly string[];
}

/** One tofu command of one stack. */
export interface Step {
  ok: boolean;
  seconds: number;
  errors: string[];
}

/** One stack through the rehearsal. */
export interface StackRun {
  readonly name: string;
  dir: string;
  stateKey: string;
  init?: Step;
  apply?: Step & { added?: number };
  plan?: Step & { exitCode?: number };
  destroy?: Step & { removed?: number };
  outputs?: Record<string, { value: unknown }>;
}

/** The parts of a synthesized cdk.tf.json the override reads. */
export interface StackJson {
  readonly provider?: Readonly<Record<string, unknown>>;
  readonly terraform?: { readonly backend?: Readonly<Record<string, Readonly<Record<string, unknown>>>> };
  readonly data?: Readonly<Record<string, Readonly<Record<string, Readonly<Record<string, unknown>>>>>>;
  readonly [key: string]: unknown;
}

/** What the command line asked for. */
export interface RehearsalArgs {
  readonly environment: string;
  readonly motoFile: string;
  readonly scratch: string;
  readonly reportDir: string;
  readonly file?: string;
}

/** What every step reads: the folders, the tools, the environment file and the moto server. */
export interface Rehearsal {
  readonly root: string;
  readonly environment: string;
  /** The environment file, relative to the root. */
  readonly file: string;
  readonly scratch: string;
  readonly reportDir: string;
  /** Each tofu command's output, one file per stack and step. */
  readonly logs: string;
  readonly toolchain: Toolchain;
  /** The toolchain's environment, for tofu commands that reach no AWS API. */
  readonly env: NodeJS.ProcessEnv;
  /** The environment of every process that reaches moto. */
  readonly awsEnv: NodeJS.ProcessEnv;
  readonly moto: MotoReady;
  readonly target: MotoTarget;
  /** The environment file's text, and what it configures. */
  readonly original: string;
  readonly config: EnvironmentConfig;
}

/** Empties the logs folder, builds the toolchain and reads the moto server's answer and the environment file. */
export function prepareRehearsal(root: string, args: RehearsalArgs): Rehearsal {
  const { environment, scratch, reportDir } = args;
  const logs = join(reportDir, 'logs');
  rmSync(logs, { recursive: true, force: true });
  mkdirSync(logs, { recursive: true });
  const { toolchain, env } = prepareToolchain(root);
  const moto = JSON.parse(readFileSync(args.motoFile, 'utf8')) as MotoReady;
  const file = args.file ?? `environments/${environment}.yaml`;
  const original = readFileSync(join(root, file), 'utf8');
  const config = parseEnvironment(original, file);
  const { region, app } = config;
  const target: MotoTarget = {
    endpoint: moto.endpoint,
    region,
    accountId: moto.accountId,
    bucket: `${app}-${environment}-rehearsal-state`,
  };
  const awsEnv = motoEnv(env, region);
  return { root, environment, file, scratch, reportDir, logs, toolchain, env, awsEnv, moto, target, original, config };
}

/** Nothing in a tofu or AWS SDK process may find real credentials or a metadata service. */
function motoEnv(env: NodeJS.ProcessEnv, region: string): NodeJS.ProcessEnv {
  const awsEnv: NodeJS.ProcessEnv = { ...env, ...fakeAwsEnvironment(region) };
  delete awsEnv.AWS_PROFILE;
  delete awsEnv.AWS_SESSION_TOKEN;
  return awsEnv;
}

/** The rehearsal copy, synthesized, and each stack's working folder in apply order. */
export interface RehearsedStacks {
  /** The rehearsal copy's text, and what it configures. */
  readonly copy: string;
  readonly rehearsed: EnvironmentConfig;
  /** Stack names in apply order. */
  readonly order: readonly string[];
  /** Each stack's run, in apply order; the steps fill it in. */
  readonly runs: StackRun[];
  /** Each stack's synthesized JSON, by name. */
  readonly stacks: ReadonlyMap<string, StackJson>;
  /** The provider's endpoint names, every one pointed at moto. */
  readonly endpoints: readonly string[];
}

/** A line of progress on stdout. */
export function say(line: string): void {
  process.stdout.write(`rehearse: ${line}\n`);
}
