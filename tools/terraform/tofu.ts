/*
 * The OpenTofu toolchain as the validate and rehearse tools use it: builds it
 * (toolchain.sh), writes the CLI config that makes the provider mirror the only
 * install source, runs tofu with an environment that never reaches a network,
 * and turns tofu's JSON diagnostics into "stack: address (file:line): message".
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import type { ErrorExit } from '../cli';

/** What tools/terraform/toolchain.sh built (<cache>/tofu/toolchain.json). */
export interface Toolchain {
  readonly tofu: { readonly version: string; readonly path: string; readonly built: boolean };
  /** HashiCorp's engine (toolchain.sh terraform), for the rehearsal's check that a state moves between engines. */
  readonly terraform?: { readonly version: string; readonly path: string; readonly built: boolean };
  readonly aws: {
    /** The version the mirror serves it as (the one the synthesized JSON pins). */
    readonly version: string;
    /** module@version that was built. */
    readonly module: string;
    /** The provider's own version/VERSION at that commit. */
    readonly builtVersion: string;
    /** The service packages built in (comma-separated): those of the types the workspace imports. */
    readonly services: string;
    readonly path: string;
    readonly built: boolean;
  };
  readonly mirror: string;
}

export interface CliConfigOptions {
  /** Root of the filesystem mirror (<mirror>/<host>/hashicorp/aws/<version>/<os_arch>/). */
  readonly mirror: string;
  /** Provider address patterns the mirror may serve (`include`); all that it holds by default. */
  readonly include?: readonly string[];
}

/**
 * The CLI configuration (TF_CLI_CONFIG_FILE): the filesystem mirror is the only
 * installation method. With no `direct` block a provider missing from the mirror
 * fails `tofu init` at once instead of trying a registry. No plugin cache: from an
 * unpacked mirror tofu links the provider into .terraform instead of copying its
 * 900 MB, and two inits at once (Nx runs environments in parallel) stay safe.
 */
export function cliConfig(options: CliConfigOptions): string {
  return [
    '# Written by tools/terraform/tofu.ts: providers come from the local mirror only.',
    'provider_installation {',
    '  filesystem_mirror {',
    `    path = ${hclString(options.mirror)}`,
    ...(options.include ? [`    include = [${options.include.map(hclString).join(', ')}]`] : []),
    '  }',
    '}',
    'disable_checkpoint = true',
    '',
  ].join('\n');
}

function hclString(value: string): string {
  // "${" and "%{" start templates in HCL strings; doubling the sigil escapes them.
  return JSON.stringify(value).replace(/([$%])\{/g, (_, sigil: string) => `${sigil}${sigil}{`);
}

/**
 * The per-machine toolchain cache, outside any clone so that every clone (and every
 * CI run on the machine) shares one build: QUEUE_LANES_CACHE, else
 * $XDG_CACHE_HOME/queue-lanes, else ~/.cache/queue-lanes. toolchain.sh says the same.
 */
export function cacheDir(env: NodeJS.ProcessEnv = process.env): string {
  return env.QUEUE_LANES_CACHE ?? join(env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'queue-lanes');
}

/**
 * Builds (or finds in the cache) tofu and the provider, writes the CLI config, and
 * returns the toolchain with the environment every tofu command runs with.
 */
/** The real-engine toolchain could not be built: reported as one line, never a stack trace. */
export class ToolchainError extends Error {}

/** How a tool that runs the engine ends on a ToolchainError: its message, exit code 1 (any other error is a bug, thrown on). */
export const TOOLCHAIN_ERROR: ErrorExit = { handles: (error) => error instanceof ToolchainError, prefix: '', exitCode: 1 };

export function prepareToolchain(root: string): { toolchain: Toolchain; env: NodeJS.ProcessEnv } {
  const build = spawnSync('bash', [join(root, 'tools', 'terraform', 'toolchain.sh')], { stdio: ['ignore', 2, 2] });
  if (build.status !== 0)
    throw new ToolchainError(`tools/terraform/toolchain.sh exited ${build.status ?? build.signal}; the lines above say why`);
  const tofuDir = join(cacheDir(), 'tofu');
  const toolchain = JSON.parse(readFileSync(join(tofuDir, 'toolchain.json'), 'utf8')) as Toolchain;
  const configFile = join(tofuDir, 'tofurc');
  writeFileSync(`${configFile}.${process.pid}`, cliConfig({ mirror: toolchain.mirror }));
  renameSync(`${configFile}.${process.pid}`, configFile);
  return { toolchain, env: tofuEnv(process.env, configFile) };
}

/** The environment for tofu: our CLI config, no prompts, no telemetry, no colours. */
export function tofuEnv(base: NodeJS.ProcessEnv, configFile: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  // A TF_* variable from the caller's shell (TF_WORKSPACE, TF_DATA_DIR, TF_VAR_…)
  // would change what runs; only ours go in.
  for (const [key, value] of Object.entries(base)) if (!key.startsWith('TF_')) env[key] = value;
  return {
    ...env,
    TF_CLI_CONFIG_FILE: configFile,
    TF_IN_AUTOMATION: '1',
    TF_INPUT: '0',
    CHECKPOINT_DISABLE: '1',
    NO_COLOR: '1',
  };
}

/** A diagnostic as `tofu validate -json` and the `-json` UI stream print it. */
export interface Diagnostic {
  readonly severity: 'error' | 'warning';
  readonly summary: string;
  readonly detail?: string;
  readonly address?: string;
  readonly range?: { readonly filename: string; readonly start: { readonly line: number } };
}

/**
 * The JSON key path enclosing `line` (1-based) of a JSON text, e.g.
 * ["resource", "aws_ecs_service", "lane_sync_1A2B3C4D", "network_configuration"].
 * Diagnostics on cdk.tf.json carry a line, not an address; this names the resource.
 */
export function jsonPathAtLine(text: string, line: number): string[] {
  const keys: (string | undefined)[] = []; // the key each open object or array hangs off
  const arrays: boolean[] = [];
  let pendingKey: string | undefined; // a key whose value has not been opened yet
  let current = 1;
  const here = () => [...keys, pendingKey].filter((k): k is string => k !== undefined);
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '\n') {
      current++;
      continue;
    }
    if (/\s/.test(c)) continue;
    if (c === '"') {
      let j = i + 1;
      while (j < text.length && text[j] !== '"') j += text[j] === '\\' ? 2 : 1;
      let k = j + 1;
      while (k < text.length && /[ \t\r]/.test(text[k])) k++;
      const isKey = text[k] === ':' && !arrays[arrays.length - 1];
      if (isKey) {
        pendingKey = JSON.parse(text.slice(i, j + 1)) as string;
        if (current === line) return here();
      } else if (current === line) return here();
      i = j;
      continue;
    }
    if (current === line) return here();
    if (current > line) break;
    if (c === '{' || c === '[') {
      keys.push(pendingKey);
      arrays.push(c === '[');
      pendingKey = undefined;
    } else if (c === '}' || c === ']') {
      keys.pop();
      arrays.pop();
      pendingKey = undefined;
    } else if (c === ',') {
      pendingKey = undefined;
    }
  }
  return here();
}

/** "resource.aws_ecs_service.lane_sync_1A2B.network_configuration" → "aws_ecs_service.lane_sync_1A2B". */
export function addressOf(path: readonly string[]): string | undefined {
  if (path[0] === 'resource' && path.length >= 3) return `${path[1]}.${path[2]}`;
  if (path[0] === 'data' && path.length >= 3) return `data.${path[1]}.${path[2]}`;
  if ((path[0] === 'provider' || path[0] === 'output' || path[0] === 'variable' || path[0] === 'locals') && path.length >= 2)
    return `${path[0]}.${path[1]}`;
  if (path[0] === 'terraform') return path.slice(0, 3).join('.');
  return undefined;
}

/**
 * One line per diagnostic: `<stack>: <severity> <address> (<file>:<line>): <summary>: <detail>`,
 * the address found from the line when tofu gives none (JSON configuration).
 */
export function formatDiagnostic(stack: string, diagnostic: Diagnostic, files: Readonly<Record<string, string>> = {}): string {
  let address = diagnostic.address;
  let where = '';
  if (diagnostic.range) {
    where = ` (${diagnostic.range.filename}:${diagnostic.range.start.line})`;
    const text = files[diagnostic.range.filename];
    if (!address && text !== undefined) {
      const path = jsonPathAtLine(text, diagnostic.range.start.line);
      address = addressOf(path) ?? path.join('.');
      if (path.length > 3 && path[0] !== 'terraform')
        where = ` (${diagnostic.range.filename}:${diagnostic.range.start.line}, ${path.slice(3).join('.')})`;
    }
  }
  const detail = diagnostic.detail ? `: ${diagnostic.detail.replace(/\s+/g, ' ').trim()}` : '';
  return `${stack}: ${diagnostic.severity} ${address ?? '(configuration)'}${where}: ${diagnostic.summary}${detail}`;
}

/** Runs tofu (or, with `engine: 'terraform'`, Terraform) in `cwd`, output captured for the reports. */
export function tofu(
  toolchain: Toolchain,
  env: NodeJS.ProcessEnv,
  cwd: string,
  args: readonly string[],
  options: { timeoutSeconds?: number; engine?: 'tofu' | 'terraform' } = {},
): { status: number; stdout: string; stderr: string; timedOut: boolean } {
  const engine = options.engine === 'terraform' ? toolchain.terraform : toolchain.tofu;
  if (!engine?.built)
    throw new ToolchainError(`${options.engine ?? 'tofu'} is not built: run bash tools/terraform/toolchain.sh ${options.engine ?? 'tofu'}`);
  const run = spawnSync(engine.path, args, {
    cwd,
    env,
    encoding: 'utf8',
    maxBuffer: 512 * 1024 * 1024,
    timeout: (options.timeoutSeconds ?? 900) * 1000,
    killSignal: 'SIGTERM',
  });
  const timedOut = run.error !== undefined && (run.error as NodeJS.ErrnoException).code === 'ETIMEDOUT';
  if (run.error && !timedOut) throw run.error;
  return { status: run.status ?? 1, stdout: run.stdout ?? '', stderr: run.stderr ?? '', timedOut };
}

/** Diagnostics from tofu's `-json` UI stream (apply/plan/destroy/init). */
export function streamDiagnostics(stdout: string): Diagnostic[] {
  const found: Diagnostic[] = [];
  for (const line of stdout.split('\n')) {
    if (!line.startsWith('{')) continue;
    try {
      const message = JSON.parse(line) as { type?: string; diagnostic?: Diagnostic & { address?: string } };
      if (message.type === 'diagnostic' && message.diagnostic) found.push(message.diagnostic);
    } catch {
      // not a JSON line
    }
  }
  return found;
}

/** True when the folder holds a stack synthesized by cdktf. */
export function isStackDir(dir: string): boolean {
  return existsSync(join(dir, 'cdk.tf.json'));
}
