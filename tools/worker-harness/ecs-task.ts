import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, rmdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/*
 * Runs one task's synthesized container definitions the way ECS on Fargate runs them,
 * on this machine, as root:
 * - each container in its own PID and mount namespace (unshare), so its health check
 *   sees only its own process table, with tini as PID 1 where `initProcessEnabled`;
 * - the task's volumes as host folders bind-mounted at each container's mount points,
 *   the root filesystem read-only where `readonlyRootFilesystem`, the image (the
 *   harness's Laravel app) bind-mounted at the working directory;
 * - `user`, `workingDirectory`, `environment` and `secrets` (the values the harness
 *   resolves in place of Parameter Store), and the hard `memory` limit through the
 *   cgroup v1 memory controller, swap included (Fargate has none);
 * - non-essential containers first, the others once they exit 0 (`dependsOn SUCCESS`);
 * - stop: SIGTERM to each container's PID 1, SIGKILL after its `stopTimeout`;
 * - `restartPolicy`: a container that exits on its own after running at least
 *   `restartAttemptPeriod` seconds is started again in place; one that exits sooner
 *   stops the task, as an essential container's exit does.
 */

/** The parts of a container definition the harness runs. */
export interface ContainerDefinition {
  readonly name: string;
  readonly essential?: boolean;
  readonly entryPoint?: readonly string[];
  readonly command?: readonly string[];
  readonly workingDirectory?: string;
  readonly user?: string;
  readonly readonlyRootFilesystem?: boolean;
  readonly memory?: number;
  readonly stopTimeout?: number;
  readonly environment?: readonly { readonly name: string; readonly value: string }[];
  readonly secrets?: readonly { readonly name: string; readonly valueFrom: string }[];
  readonly mountPoints?: readonly { readonly sourceVolume: string; readonly containerPath: string }[];
  readonly dependsOn?: readonly { readonly containerName: string; readonly condition: string }[];
  readonly healthCheck?: { readonly command: readonly string[] };
  readonly linuxParameters?: { readonly initProcessEnabled?: boolean };
  readonly restartPolicy?: { readonly enabled: boolean; readonly restartAttemptPeriod?: number };
}

export interface TaskOptions {
  /** The task definition's container definitions, as synthesized. */
  readonly containers: readonly ContainerDefinition[];
  /** The task's volume names. */
  readonly volumes: readonly string[];
  /** The folder that stands in for the image's application (bind-mounted at each working directory). */
  readonly image: string;
  /** Secret name → value: what ECS would read from Parameter Store. */
  readonly secrets: Readonly<Record<string, string>>;
  /** Set in every container beyond its definition, as the ECS agent sets ECS_AGENT_URI. */
  readonly platformEnvironment?: Readonly<Record<string, string>>;
}

/** How a container run ended. */
export interface ContainerExit {
  readonly container: string;
  /** The exit code ECS reports: a signal's is 128 + its number (137 for SIGKILL, the OOM killer's too). */
  readonly exitCode: number;
  /** Seconds it ran. */
  readonly ranSeconds: number;
  /** Times the kernel's OOM killer fired in its memory cgroup. */
  readonly oomKills: number;
  /** Whether the task was stopping when it exited. */
  readonly duringStop: boolean;
}

const CGROUP_ROOT = '/sys/fs/cgroup/memory/queue-lanes-harness';
const TINI = '/usr/bin/tini';

let taskCount = 0;

interface Running {
  readonly definition: ContainerDefinition;
  readonly child: ChildProcess;
  readonly cgroup: string;
  readonly started: number;
  readonly exited: Promise<ContainerExit>;
}

/** One running task. */
export class HarnessTask {
  /** Every container run that ended, in order. */
  readonly exits: ContainerExit[] = [];
  /** Why the task stopped, once it has: `stopped` (asked to) or the essential container that exited. */
  stoppedReason?: string;
  private readonly dir: string;
  private readonly id: string;
  private readonly running = new Map<string, Running>();
  private readonly output = new Map<string, string>();
  private stopping = false;
  private readonly taskEnded: Promise<void>;
  private endTask!: () => void;

  private constructor(private readonly options: TaskOptions) {
    this.id = `task-${process.pid}-${++taskCount}`;
    this.dir = mkdtempSync(join(tmpdir(), 'queue-lanes-task-'));
    this.taskEnded = new Promise((done) => (this.endTask = done));
  }

  /** Starts the task: non-essential containers, then those that depend on their success. */
  static async start(options: TaskOptions): Promise<HarnessTask> {
    const task = new HarnessTask(options);
    task.prepareVolumes();
    for (const definition of options.containers.filter((c) => c.essential === false)) {
      const exit = await task.run(definition).exited;
      if (exit.exitCode !== 0) throw new Error(`${definition.name} exited ${exit.exitCode}:\n${task.logs(definition.name)}`);
    }
    const started = options.containers.filter((c) => c.essential !== false).map((definition) => task.run(definition));
    await Promise.all(started.map((r) => task.execed(r)));
    return task;
  }

  /** Everything a container printed (stdout and stderr, as the awslogs driver ships them), every run. */
  logs(container: string): string {
    return this.output.get(container) ?? '';
  }

  /** The host folder behind a task volume. */
  volume(name: string): string {
    return join(this.dir, 'volumes', name);
  }

  /**
   * The container's health check (or `command`, a check of the same form), run as ECS runs
   * it: in the container's namespaces, as its user; the exit code.
   */
  healthCheck(container: string, command?: readonly string[]): number {
    const r = this.running.get(container);
    command ??= r?.definition.healthCheck?.command;
    if (!r || !command) throw new Error(`${container} is not running or has no health check`);
    if (command[0] !== 'CMD-SHELL') throw new Error(`unsupported health check ${JSON.stringify(command)}`);
    const pid1 = namespaceInit(r.child.pid!);
    const run = spawnSync(
      'nsenter',
      ['--target', String(pid1), '--mount', '--pid', '--', ...asUser(r.definition.user), '/bin/sh', '-c', command[1]],
      {
        timeout: 5000,
      },
    );
    return run.status ?? 1;
  }

  /** Stops the task as ECS does: SIGTERM to every running container, SIGKILL after its stopTimeout. */
  async stop(): Promise<ContainerExit[]> {
    this.stopping = true;
    this.stoppedReason ??= 'stopped';
    const exits = await Promise.all(
      [...this.running.values()].map(async (r) => {
        const pid1 = namespaceInit(r.child.pid!);
        if (pid1) process.kill(pid1, 'SIGTERM');
        const timer = setTimeout(() => r.child.pid && killNamespace(r.child.pid), (r.definition.stopTimeout ?? 30) * 1000);
        const exit = await r.exited;
        clearTimeout(timer);
        return exit;
      }),
    );
    this.cleanUp();
    return exits;
  }

  /** Resolves once the task has stopped, on its own or by stop(). */
  ended(): Promise<void> {
    return this.taskEnded;
  }

  /** The container's processes as the host sees them, PID 1 first, each before its children: pid and command line. */
  processes(container: string): { readonly pid: number; readonly cmdline: string }[] {
    const r = this.running.get(container);
    if (!r) throw new Error(`${container} is not running`);
    const found: { pid: number; cmdline: string }[] = [];
    const visit = (pid: number): void => {
      try {
        found.push({ pid, cmdline: readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ').trim() });
      } catch {
        return; // Gone meanwhile.
      }
      for (const child of childrenOf(pid)) visit(child);
    };
    const pid1 = namespaceInit(r.child.pid!);
    if (pid1) visit(pid1);
    return found;
  }

  /** Whether the container is running now. */
  isRunning(container: string): boolean {
    return this.running.has(container);
  }

  /**
   * Resolves once the container's PID 1 is its process (tini or the command), no longer the
   * shell that set it up: a PID 1 ignores a signal it has no handler for, so a stop sent to
   * that shell would be lost, as ECS's is to a container still being created.
   */
  private async execed(r: Running): Promise<void> {
    const first = r.definition.linuxParameters?.initProcessEnabled
      ? TINI
      : [...(r.definition.entryPoint ?? []), ...(r.definition.command ?? [])][0];
    const deadline = Date.now() + 10_000;
    while (Date.now() < deadline && this.running.get(r.definition.name) === r) {
      const pid1 = namespaceInit(r.child.pid!);
      const argv0 = pid1 ? readFileSync(`/proc/${pid1}/cmdline`, 'utf8').split('\0')[0] : '';
      if (argv0 === first || argv0.endsWith(`/${first}`)) return;
      await new Promise((done) => setTimeout(done, 20));
    }
  }

  private prepareVolumes(): void {
    for (const name of this.options.volumes) mkdirSync(this.volume(name), { recursive: true });
    mkdirSync(CGROUP_ROOT, { recursive: true });
  }

  private run(definition: ContainerDefinition): Running {
    const cgroup = join(CGROUP_ROOT, `${this.id}-${definition.name}`);
    mkdirSync(cgroup, { recursive: true });
    if (definition.memory) {
      const bytes = String(definition.memory * 1024 * 1024);
      writeFileSync(join(cgroup, 'memory.limit_in_bytes'), bytes);
      if (existsSync(join(cgroup, 'memory.memsw.limit_in_bytes'))) writeFileSync(join(cgroup, 'memory.memsw.limit_in_bytes'), bytes);
    }
    const script = this.containerScript(definition, cgroup);
    const child = spawn('/bin/sh', ['-c', script], { stdio: ['ignore', 'pipe', 'pipe'], env: {} });
    const keep = (chunk: Buffer) => this.output.set(definition.name, this.logs(definition.name) + chunk.toString());
    child.stdout!.on('data', keep);
    child.stderr!.on('data', keep);
    const started = Date.now();
    const exited = new Promise<ContainerExit>((done) => {
      child.once('exit', (code, signal) => {
        const exit: ContainerExit = {
          container: definition.name,
          exitCode: code ?? 128 + (signal ? signalNumber(signal) : 0),
          ranSeconds: (Date.now() - started) / 1000,
          oomKills: oomKills(cgroup),
          duringStop: this.stopping,
        };
        this.exits.push(exit);
        this.running.delete(definition.name);
        removeCgroup(cgroup);
        done(exit);
        if (definition.essential !== false) this.afterExit(definition, exit);
      });
    });
    const r: Running = { definition, child, cgroup, started, exited };
    this.running.set(definition.name, r);
    return r;
  }

  /** ECS's restart policy, or the end of the task when an essential container is gone for good. */
  private afterExit(definition: ContainerDefinition, exit: ContainerExit): void {
    if (this.stopping) {
      if (this.running.size === 0) this.endTask();
      return;
    }
    const policy = definition.restartPolicy;
    if (policy?.enabled && exit.ranSeconds >= (policy.restartAttemptPeriod ?? 300)) {
      this.run(definition);
      return;
    }
    this.stoppedReason = `essential container ${definition.name} exited ${exit.exitCode}`;
    void this.stop().then(() => this.endTask());
  }

  /**
   * The shell that becomes the container: joins the memory cgroup, enters new PID and
   * mount namespaces, mounts the image and the volumes, makes the root read-only, and
   * execs the process as the container's user (under tini where initProcessEnabled).
   */
  private containerScript(definition: ContainerDefinition, cgroup: string): string {
    const workdir = definition.workingDirectory ?? '/';
    const mounts: string[] = [];
    if (definition.workingDirectory) mounts.push(`mkdir -p ${q(workdir)}`, `mount --bind ${q(this.options.image)} ${q(workdir)}`);
    for (const m of definition.mountPoints ?? []) {
      mounts.push(`mkdir -p ${q(m.containerPath)}`, `mount --bind ${q(this.volume(m.sourceVolume))} ${q(m.containerPath)}`);
    }
    if (definition.readonlyRootFilesystem) mounts.push('mount -o remount,bind,ro /', `mount -o remount,bind,ro ${q(workdir)}`);
    const argv = [...(definition.entryPoint ?? []), ...(definition.command ?? [])];
    const init = definition.linuxParameters?.initProcessEnabled ? [TINI, '--'] : [];
    const environment = this.environment(definition);
    const inner = [
      'set -e',
      ...mounts,
      `cd ${q(workdir)}`,
      `exec env -i ${Object.entries(environment)
        .map(([k, v]) => q(`${k}=${v}`))
        .join(' ')} ${asUser(definition.user).map(q).join(' ')} ${[...init, ...argv].map(q).join(' ')}`,
    ].join('\n');
    return [
      `echo $$ > ${q(join(cgroup, 'cgroup.procs'))}`,
      `exec unshare --pid --mount --fork --mount-proc --propagation private /bin/sh -c ${q(inner)}`,
    ].join('\n');
  }

  private environment(definition: ContainerDefinition): Record<string, string> {
    const environment: Record<string, string> = {
      PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
      HOME: '/tmp',
      ...this.options.platformEnvironment,
    };
    for (const e of definition.environment ?? []) environment[e.name] = e.value;
    for (const s of definition.secrets ?? []) {
      const value = this.options.secrets[s.name];
      // ECS refuses to start a task whose secret it cannot read.
      if (value === undefined) throw new Error(`${definition.name}: no value for secret ${s.name} (${s.valueFrom})`);
      environment[s.name] = value;
    }
    return environment;
  }

  private cleanUp(): void {
    for (const r of this.running.values()) killNamespace(r.child.pid!);
    if (existsSync(this.dir)) rmSync(this.dir, { recursive: true, force: true });
  }
}

/** The PID (as the host sees it) of the container's PID 1: unshare's only child. */
function namespaceInit(unsharePid: number): number {
  return childrenOf(unsharePid)[0] ?? 0;
}

/** A process's children (of its main thread, as every process here is single-threaded). */
function childrenOf(pid: number): number[] {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

/** SIGKILL to a container's PID 1 ends every process of its PID namespace. */
function killNamespace(unsharePid: number): void {
  const pid1 = namespaceInit(unsharePid);
  try {
    if (pid1) process.kill(pid1, 'SIGKILL');
  } catch {
    // Already gone.
  }
}

/** A memory cgroup goes away with rmdir once its processes have. */
function removeCgroup(cgroup: string): void {
  try {
    rmdirSync(cgroup);
  } catch {
    // Still busy or already gone: the kernel keeps it until then.
  }
}

function oomKills(cgroup: string): number {
  try {
    const match = /^oom_kill (\d+)$/m.exec(readFileSync(join(cgroup, 'memory.oom_control'), 'utf8'));
    return match ? Number(match[1]) : 0;
  } catch {
    return 0;
  }
}

/** setpriv's arguments for a container `user` (name or uid, optionally :group). */
function asUser(user: string | undefined): string[] {
  if (!user || user === '0' || user === 'root') return [];
  const [name, group] = user.split(':');
  const uid = /^\d+$/.test(name) ? name : spawnSync('id', ['-u', name]).stdout.toString().trim();
  const gid = group ?? (/^\d+$/.test(name) ? name : spawnSync('id', ['-g', name]).stdout.toString().trim());
  return ['setpriv', `--reuid=${uid}`, `--regid=${gid}`, '--clear-groups', '--'];
}

function q(value: string): string {
  return `'${value.replace(/'/g, `'\\''`)}'`;
}

function signalNumber(signal: NodeJS.Signals): number {
  return { SIGKILL: 9, SIGTERM: 15, SIGINT: 2 }[signal as string] ?? 0;
}
