// eslint-disable-next-line @typescript-eslint/triple-slash-reference -- the *.php declaration must reach every project that compiles this file through the path alias
/// <reference path="./php.d.ts" />
import { healthCheckCommand } from './command';
import workerEntrySource from './worker.php';

/*
 * Container definitions for every role the one application image plays. They
 * are plain objects serialized into the task definition's container_definitions.
 */

/**
 * Folders Laravel writes at runtime, relative to the app root, plus /tmp. Each
 * gets a task-level ephemeral volume, because the root filesystem is read-only;
 * a missing or unwritable one keeps workers from ever starting (the service
 * then never reaches steady state).
 */
export const RUNTIME_DIRECTORIES: readonly string[] = [
  'storage/framework/cache',
  'storage/framework/sessions',
  'storage/framework/views',
  'storage/logs',
  'bootstrap/cache',
  '/tmp',
];

/**
 * Where ECS Exec's SSM agent keeps its state and logs; writable volumes there
 * let `aws ecs execute-command` work with a read-only root filesystem.
 */
export const ECS_EXEC_DIRECTORIES: readonly string[] = ['/var/lib/amazon', '/var/log/amazon'];

/** The non-essential container that prepares the runtime volumes before the workers start. */
export const INIT_CONTAINER = 'runtime-dirs';

/** Where the init container sees the volumes (the image's own folders stay visible, to copy from). */
const INIT_MOUNT_ROOT = '/runtime-dirs';

/** A writable task volume and where the application containers mount it. */
export interface RuntimeVolume {
  /** Task-level volume name, e.g. storage-framework-cache. */
  readonly name: string;
  /** Absolute path inside the application containers. */
  readonly containerPath: string;
  /** Whether the init container seeds it from the image and hands it to the container user. */
  readonly prepare: 'seed-and-chown' | 'sticky-tmp' | 'none';
}

/** The writable volumes of a task: Laravel's runtime folders, /tmp and, with ECS Exec, the SSM agent's folders. */
export function runtimeVolumes(appRoot: string, enableEcsExec: boolean): RuntimeVolume[] {
  const volumes: RuntimeVolume[] = RUNTIME_DIRECTORIES.map((dir) => {
    const containerPath = dir.startsWith('/') ? dir : `${appRoot}/${dir}`;
    return { name: volumeName(dir), containerPath, prepare: dir === '/tmp' ? 'sticky-tmp' : 'seed-and-chown' };
  });
  if (enableEcsExec) {
    volumes.push(...ECS_EXEC_DIRECTORIES.map((dir): RuntimeVolume => ({ name: volumeName(dir), containerPath: dir, prepare: 'none' })));
  }
  return volumes;
}

function volumeName(dir: string): string {
  return dir.replace(/^\//, '').replace(/\//g, '-');
}

/**
 * The init container's script. Fargate creates empty bind-mount volumes owned
 * by root, so a non-root worker could not write to them: running as root once,
 * it copies what the image has at each path into the volume (so build-time
 * caches such as bootstrap/cache/packages.php survive the mount), hands the
 * volume to the container user, and makes /tmp world-writable with the sticky bit;
 * for a lane, it writes the worker entry point there.
 */
export function initScript(volumes: readonly RuntimeVolume[], user: string, workerEntry = false): string {
  const lines = ['set -eu'];
  for (const v of volumes) {
    const target = `${INIT_MOUNT_ROOT}/${v.name}`;
    if (v.prepare === 'seed-and-chown') {
      lines.push(`if [ -d '${v.containerPath}' ]; then cp -a '${v.containerPath}/.' '${target}/'; fi`);
      lines.push(`chown -R '${user}' '${target}'`);
    } else if (v.prepare === 'sticky-tmp') {
      lines.push(`chmod 1777 '${target}'`);
      if (workerEntry) lines.push(...installWorkerEntry(target, user));
    }
  }
  return lines.join('\n');
}

/**
 * Where every lane container finds the worker entry point (worker.php), which it runs in
 * place of `artisan`: on the task's shared /tmp, written by the init container, so the
 * task definition carries it once and the image needs nothing but PHP (with pcntl and
 * posix where the lane protects its tasks). Its folder is also where the containers of a
 * protected task keep their busy marks and lock.
 */
export const WORKER_ENTRY_DIR = '/tmp/.queue-lanes';
export const WORKER_ENTRY_SCRIPT = `${WORKER_ENTRY_DIR}/worker.php`;

/** Init-script lines writing the entry point into the shared /tmp, its folder the worker user's. */
function installWorkerEntry(tmpTarget: string, user: string): string[] {
  const dir = `${tmpTarget}/${WORKER_ENTRY_DIR.slice('/tmp/'.length)}`;
  const marker = 'QUEUE_LANES_WORKER_ENTRY';
  if (workerEntrySource.includes(marker)) throw new Error(`worker.php must not contain ${marker}`);
  return [
    `mkdir -p '${dir}'`,
    `cat > '${dir}/worker.php' <<'${marker}'\n${workerEntrySource.trimEnd()}\n${marker}`,
    `chown -R '${user}' '${dir}'`,
  ];
}

/**
 * A lane's command with `artisan` replaced by the worker entry point: the argument that is
 * `artisan` or ends in `/artisan`, or that word inside a `sh -c` script. Undefined when the
 * command runs no artisan.
 */
export function throughWorkerEntry(command: readonly string[]): string[] | undefined {
  const artisan = command.findIndex((token) => token === 'artisan' || token.endsWith('/artisan'));
  if (artisan >= 0) return command.map((token, i) => (i === artisan ? WORKER_ENTRY_SCRIPT : token));
  const script = command.length === 3 && command[1] === '-c' ? command[2] : undefined;
  const word = /(^|\s)(\S*\/)?artisan(?=\s|$)/;
  if (script === undefined || !word.test(script)) return undefined;
  return [command[0], command[1], script.replace(word, `$1${WORKER_ENTRY_SCRIPT}`)];
}

export interface LogSettings {
  /** Log group name (a token is fine). */
  readonly group: string;
  readonly region: string;
  /** Streams are `<prefix>/<container>/<task id>`. */
  readonly streamPrefix: string;
}

export interface AppContainerSettings {
  readonly name: string;
  /**
   * A lane worker: its command runs through the worker entry point (job figures from Laravel's
   * queue events), which protects the task while a job runs where `protection` is set.
   */
  readonly worker?: { readonly protection: boolean };
  readonly image: string;
  readonly command: readonly string[];
  readonly user: string;
  readonly appRoot: string;
  /** Hard limit, MiB. */
  readonly memory: number;
  /** Seconds between SIGTERM and SIGKILL (at most 120 on Fargate). */
  readonly stopTimeout: number;
  readonly environment: Readonly<Record<string, string>>;
  /** Environment-variable name → SSM parameter (or Secrets Manager) ARN. */
  readonly secrets: Readonly<Record<string, string>>;
  readonly volumes: readonly RuntimeVolume[];
  readonly logs: LogSettings;
}

/** The health check every application container gets (see {@link healthCheckCommand}). */
export function healthCheck(command: readonly string[]) {
  return {
    command: ['CMD-SHELL', healthCheckCommand(command)],
    interval: 30,
    timeout: 5,
    retries: 3,
    startPeriod: 30,
  };
}

function logConfiguration(logs: LogSettings) {
  return {
    logDriver: 'awslogs',
    options: {
      'awslogs-group': logs.group,
      'awslogs-region': logs.region,
      'awslogs-stream-prefix': logs.streamPrefix,
      // A worker must never stall on a slow logging backend; the buffer absorbs bursts.
      mode: 'non-blocking',
      'max-buffer-size': '25m',
    },
  };
}

/**
 * An application container (a queue worker or the scheduler): read-only root
 * filesystem, non-root user, the runtime volumes, secrets by reference, a
 * health check, an init process that forwards SIGTERM, and an in-place restart
 * when queue:work exits after --max-jobs or --max-time (instead of replacing
 * the whole task and interrupting its sibling workers).
 */
export function appContainer(s: AppContainerSettings) {
  // The container's name keys its busy mark on the task's shared /tmp (protection only).
  const environment: Record<string, string> = s.worker?.protection
    ? { ...s.environment, QUEUE_LANES_CONTAINER: s.name, QUEUE_LANES_PROTECTION: '1' }
    : { ...s.environment };
  return {
    name: s.name,
    image: s.image,
    essential: true,
    command: s.worker ? workerCommand(s.command) : [...s.command],
    workingDirectory: s.appRoot,
    user: s.user,
    readonlyRootFilesystem: true,
    memory: s.memory,
    stopTimeout: s.stopTimeout,
    environment: Object.keys(environment)
      .sort()
      .map((name) => ({ name, value: environment[name] })),
    secrets: Object.keys(s.secrets)
      .sort()
      .map((name) => ({ name, valueFrom: s.secrets[name] })),
    mountPoints: s.volumes.map((v) => ({ sourceVolume: v.name, containerPath: v.containerPath, readOnly: false })),
    dependsOn: [{ containerName: INIT_CONTAINER, condition: 'SUCCESS' }],
    healthCheck: healthCheck(s.command),
    linuxParameters: { initProcessEnabled: true },
    restartPolicy: { enabled: true, restartAttemptPeriod: 60 },
    logConfiguration: logConfiguration(s.logs),
  };
}

/** The command through the worker entry point; the lane's command is checked to run artisan before (lane-service). */
function workerCommand(command: readonly string[]): string[] {
  const through = throughWorkerEntry(command);
  if (!through) throw new Error(`${JSON.stringify(command)} runs no artisan: a lane worker runs artisan through ${WORKER_ENTRY_SCRIPT}`);
  return through;
}

/**
 * The init container: the same image, run once as root with its own entry
 * point (so no application entrypoint runs as root), read-only root filesystem,
 * writing only to the volumes it prepares.
 */
export function initContainer(image: string, user: string, volumes: readonly RuntimeVolume[], logs: LogSettings, workerEntry = false) {
  const prepared = volumes.filter((v) => v.prepare !== 'none');
  return {
    name: INIT_CONTAINER,
    image,
    essential: false,
    entryPoint: ['/bin/sh', '-c'],
    command: [initScript(prepared, user, workerEntry)],
    user: '0',
    readonlyRootFilesystem: true,
    mountPoints: prepared.map((v) => ({ sourceVolume: v.name, containerPath: `${INIT_MOUNT_ROOT}/${v.name}`, readOnly: false })),
    logConfiguration: logConfiguration(logs),
  };
}

/** `repository:tag`, or `repository@sha256:…` when the tag is a digest. */
export function imageReference(repository: string, tag: string): string {
  return tag.startsWith('sha256:') ? `${repository}@${tag}` : `${repository}:${tag}`;
}
