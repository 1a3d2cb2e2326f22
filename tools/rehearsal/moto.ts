/*
 * The rehearsals' side of moto_rehearsal.py: its commands run against a moto server,
 * and a server of the rehearsal's own (the docs route runs one per engine); the
 * one set of fake credentials every process that speaks to moto gets.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const MOTO_SCRIPT = join(__dirname, 'moto_rehearsal.py');

/** Fake credentials moto accepts; nothing else ever sees them. */
export const FAKE_CREDENTIALS = { access_key: 'rehearsal', secret_key: 'rehearsal' } as const;

/**
 * What every process of a rehearsal that speaks AWS gets, and nothing else: credentials
 * moto accepts, the region, and no way to a real one (no shared config or credentials
 * file, no instance metadata). Spread over the process's own environment; AWS_PROFILE
 * and AWS_SESSION_TOKEN, which would win over these, are for the caller to leave out.
 */
export function fakeAwsEnvironment(region: string): NodeJS.ProcessEnv {
  return {
    AWS_ACCESS_KEY_ID: FAKE_CREDENTIALS.access_key,
    AWS_SECRET_ACCESS_KEY: FAKE_CREDENTIALS.secret_key,
    AWS_REGION: region,
    AWS_EC2_METADATA_DISABLED: 'true',
    AWS_CONFIG_FILE: '/dev/null',
    AWS_SHARED_CREDENTIALS_FILE: '/dev/null',
  };
}
const python = (root: string) => join(root, '.venv', 'bin', 'python');

/** Runs a moto_rehearsal.py command against moto: its JSON answer (T, the command's), or why it failed. */
export function motoCommand<T>(
  root: string,
  awsEnv: NodeJS.ProcessEnv,
  endpoint: string,
  region: string,
  command: 'inspect' | 'scale' | 'secrets' | 'seed',
  args: string[],
): T | string {
  const result = spawnSync(python(root), [MOTO_SCRIPT, command, '--endpoint', endpoint, '--region', region, ...args], {
    encoding: 'utf8',
    env: awsEnv,
  });
  if (result.status !== 0) return (result.stderr || `exit ${result.status}`).trim().split('\n').slice(-3).join(' ');
  return JSON.parse(result.stdout) as T;
}

export interface MotoServer {
  readonly endpoint: string;
  readonly port: number;
  stop(): void;
}

/** moto_rehearsal.py serve as `accountId`, answering on loopback; it also dies with this process. */
export function startMoto(root: string, readyFile: string, accountId: string): MotoServer {
  const child = spawn(python(root), [MOTO_SCRIPT, 'serve', '--ready', readyFile], {
    env: { ...process.env, MOTO_ACCOUNT_ID: accountId },
    stdio: 'ignore',
  });
  const deadline = Date.now() + 60_000;
  while (!existsSync(readyFile)) {
    if (Date.now() > deadline || child.exitCode !== null) throw new Error(`moto did not start within 60 s (exit ${child.exitCode})`);
    spawnSync('sleep', ['0.2']);
  }
  const { endpoint, port } = JSON.parse(readFileSync(readyFile, 'utf8')) as { endpoint: string; port: number };
  return { endpoint, port, stop: () => child.kill('SIGTERM') };
}
