import { SettingError, type LaneConfig, type ProcessGroup } from '@queue-lanes/config';

/** What a command template reads of a lane: one process group's view of it (its queues, job and memory limit). */
export type CommandLane = Pick<LaneConfig, 'name' | 'connection' | 'queues' | 'job'> & {
  readonly groups: readonly Pick<ProcessGroup, 'phpMemoryLimit'>[];
};

/**
 * The command every lane container runs unless the lane sets `command`:
 * one `queue:work` process per container.
 *
 * Placeholders are `{name}`; `{{` and `}}` stand for literal braces. See
 * {@link COMMAND_PLACEHOLDERS} for what each one is replaced with.
 */
export const DEFAULT_WORKER_COMMAND: readonly string[] = [
  'php',
  '-d',
  'memory_limit={phpMemoryLimit}M',
  'artisan',
  'queue:work',
  '{connection}',
  '--queue={queues}',
  '--tries={tries}',
  '--timeout={timeout}',
  '--max-jobs={maxJobs}',
  '--max-time={maxTime}',
  '--memory={memory}',
  '--sleep={sleep}',
  '--backoff={backoff}',
];

/** The scheduler singleton's command (not a template). */
export const SCHEDULER_COMMAND: readonly string[] = ['php', 'artisan', 'schedule:work'];

/** What each placeholder of a lane's command template becomes. */
export const COMMAND_PLACEHOLDERS: Readonly<Record<string, (lane: CommandLane) => string>> = {
  /** The Laravel queue connection (lanes.<lane>.connection, default the broker name). */
  connection: (lane) => lane.connection,
  /** The lane's queues in priority order, comma-joined: `image,bulk`. */
  queues: (lane) => lane.queues.join(','),
  tries: (lane) => String(lane.job.tries),
  timeout: (lane) => String(lane.job.timeout),
  maxJobs: (lane) => String(lane.job.maxJobs),
  maxTime: (lane) => String(lane.job.maxTime),
  memory: (lane) => String(lane.job.memory),
  /** PHP's memory_limit in MiB, between --memory and the container's hard limit (for `php -d memory_limit={phpMemoryLimit}M`). */
  phpMemoryLimit: (lane) => String(lane.groups[0].phpMemoryLimit),
  sleep: (lane) => String(lane.job.sleep),
  /** job.backoff comma-joined: `10,60,300` (Laravel splits it per try). */
  backoff: (lane) => lane.job.backoff.join(','),
  /** The lane's name. */
  lane: (lane) => lane.name,
};

/**
 * Fills a command template for a lane. Throws with the lane, the token and the
 * valid placeholders when a token names an unknown placeholder or has an
 * unbalanced brace.
 */
export function renderCommand(template: readonly string[], lane: CommandLane): string[] {
  if (template.length === 0) throw new SettingError(['lanes', lane.name, 'command'], 'must not be empty');
  return template.map((token, index) => renderToken(token, lane, ['lanes', lane.name, 'command', index]));
}

/** One argument, placeholders filled; a SettingError at the argument's key (synth gives it its line) otherwise. */
function renderToken(token: string, lane: CommandLane, where: readonly (string | number)[]): string {
  let out = '';
  let i = 0;
  while (i < token.length) {
    const ch = token[i];
    if ((ch === '{' || ch === '}') && token[i + 1] === ch) {
      out += ch;
      i += 2;
    } else if (ch === '{') {
      const end = token.indexOf('}', i);
      const name = end === -1 ? undefined : token.slice(i + 1, end);
      if (name === undefined || name.includes('{')) {
        throw new SettingError(where, `${JSON.stringify(token)} has a "{" without its "}"; write "{{" for a literal brace`);
      }
      const fill = Object.hasOwn(COMMAND_PLACEHOLDERS, name) ? COMMAND_PLACEHOLDERS[name] : undefined;
      if (!fill) {
        throw new SettingError(
          where,
          `${JSON.stringify(token)} uses the unknown placeholder {${name}}; valid: ${placeholderList()} (write "{{" for a literal brace)`,
        );
      }
      out += fill(lane);
      i = end + 1;
    } else if (ch === '}') {
      throw new SettingError(where, `${JSON.stringify(token)} has a "}" without its "{"; write "}}" for a literal brace`);
    } else {
      out += ch;
      i += 1;
    }
  }
  return out;
}

function placeholderList(): string {
  return Object.keys(COMMAND_PLACEHOLDERS)
    .map((name) => `{${name}}`)
    .join(', ');
}

/**
 * The container health check: a shell command that succeeds while the
 * container's main program is running. It looks through /proc for a process
 * whose command line contains the program's name (the artisan command, such as
 * `queue:work`, or else the executable's base name), using only `sh` and `grep`,
 * which every php image (Debian or Alpine) has. The first character is put in a
 * bracket expression (`[q]ueue:work`) so the check never matches its own
 * `sh -c` and `grep` command lines. A command run through a shell (`sh -c "exec php
 * artisan queue:work …"`) is looked for by its script's program, not the shell's.
 */
export function healthCheckCommand(command: readonly string[]): string {
  const words = programWords(command);
  const artisan = words.findIndex((token) => token === 'artisan' || token.endsWith('/artisan'));
  const program = artisan >= 0 && artisan + 1 < words.length ? words[artisan + 1] : (words[0].split('/').pop() ?? '');
  if (!/^[A-Za-z0-9_][A-Za-z0-9:_.-]*$/.test(program)) {
    throw new Error(
      `cannot derive a health check from the command's program ${JSON.stringify(program)}; the program name may hold only letters, digits, ":", "_", "." and "-"`,
    );
  }
  const pattern = `[${program[0]}]${program.slice(1).replace(/\./g, '\\.')}`;
  return `grep -qs '${pattern}' /proc/[0-9]*/cmdline`;
}

/** Shells whose `-c` script is the real command (a check for the shell itself would pass while it lives). */
const SHELLS = new Set(['sh', 'bash', 'dash', 'ash']);

/** The words that name the program: a `sh -c "exec php artisan …"` script's words (past `exec` and `VAR=value`), else the command. */
function programWords(command: readonly string[]): readonly string[] {
  if (command.length < 3 || !SHELLS.has(command[0].split('/').pop() ?? '') || command[1] !== '-c') return command;
  const words = command[2].trim().split(/\s+/);
  const start = words.findIndex((w) => w !== 'exec' && !/^[A-Za-z_][A-Za-z0-9_]*=/.test(w));
  return start >= 0 ? words.slice(start) : command;
}
