#!/usr/bin/env python3
"""queue-lanes host agent: the web hosts' side of each lane's host-consumer switch.

The parameters stack publishes /<app>/<env>/lanes/<lane>/host-consumer, `enabled`
until ECS owns the lane, then `disabled`. This agent reads the switches of the
lanes whose consumers this host runs and makes them match, so a lane's rollout and
its rollback are a stage change and an apply, with nothing to edit on the hosts:
- supervisord mode (the default): starts or stops the lane's queue:work programs;
- Horizon mode (--horizon), on every Horizon 5 from 5.4: reads the supervisors from
  horizon:supervisors, keeps those of this host's live master (named after this host,
  their pids running that very supervisor here), and continues or pauses a lane's by
  their full names with Horizon's own commands (horizon:continue-supervisor,
  horizon:pause-supervisor), which signal a process of this host, so the agent runs on
  every web host. A restarted Horizon (every deploy) starts its supervisors running;
  with --interval the agent sees the new processes within a second (--watch) and
  pauses a disabled lane's again. That window is safe: Redis hands each job to one
  worker, so the hosts and ECS share the queue for it and nothing runs twice.
--check (Horizon mode) lists the lanes with no supervisor under this host's master.

Why Python 3 with boto3 and nothing else: supervisord is itself a Python 3
program, so every host that needs this agent already has an interpreter; boto3
brings the AWS credential chain (instance profile, environment, shared config)
and request signing, which are not worth rewriting; it is one package, from the
distribution (python3-boto3 on Debian and Ubuntu) or pip. The agent is this one
file, with no build step: copy it to the host. Python 3.8 or newer.

Why it fails closed: when a switch cannot be read (SSM unreachable, access
denied, the parameter missing, a value other than enabled/disabled) or a
program's state cannot be read, that lane keeps whatever it runs now. Guessing
would either stop the only consumers of a queue or double the ones ECS runs.
Each such problem is one line on stderr and makes the exit status 1, so cron
mails it and systemd marks the run failed.

Exit status: 0 when every lane is as its switch says (or, with --dry-run, could
be made so), 1 when any lane was left as it was because of a problem, 2 on a
usage error.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import re
import shlex
import signal
import socket
import subprocess
import sys
import threading
import time
from typing import Dict, FrozenSet, List, NamedTuple, Optional, Sequence, Tuple, Union

SWITCH_VALUES = ("enabled", "disabled")
# SSM's limit on names per GetParameters call; one call covers the usual host.
GET_PARAMETERS_MAX = 10
# supervisord's RUNNING_STATES: a process it has started or is still retrying (BACKOFF).
STARTED = frozenset({"STARTING", "RUNNING", "BACKOFF"})
# A process that is down and stays down until someone starts it.
STOPPED = frozenset({"STOPPED", "EXITED", "FATAL"})
# STOPPING and UNKNOWN are neither: acting on them races supervisord, so a later run decides.
STATES = STARTED | STOPPED | {"STOPPING", "UNKNOWN"}
# The same rule as the parameters stack's: a name must be one SSM path segment.
SEGMENT = re.compile(r"^[A-Za-z0-9_.-]+$")
DEFAULT_PROGRAM = "queue-{lane}:*"
# Horizon mode: a lane's supervisors as config/horizon.php names them; `+` joins several.
DEFAULT_SUPERVISOR = "{lane}"
# A supervisor's name in config/horizon.php: Horizon reads a record's master as its name up to the last `:`.
SUPERVISOR_NAME = re.compile(r"^[^:+\s|]+$")
# Horizon's supervisor statuses (laravel/horizon src/Repositories/RedisSupervisorRepository: running or paused).
HORIZON_RUNNING = frozenset({"running"})
HORIZON_PAUSED = frozenset({"paused"})
# The token after a master's basename: Str::random(4), letters and digits (src/MasterSupervisor.php name()).
MASTER_TOKEN = "[A-Za-z0-9]{4}"
# The artisan command each supervisor process runs (src/SupervisorCommandString.php).
SUPERVISOR_COMMAND = b"horizon:supervisor"
# Horizon mode with --interval: how often the agent looks for a restarted Horizon's supervisors.
DEFAULT_WATCH_SECONDS = 1.0
# A supervisor writes its record right after it boots (Supervisor::monitor()); a restart's passes are
# retried each watch for this long while a running supervisor has no record yet.
SETTLE_SECONDS = 15.0
# `status` only asks; a supervisord that does not answer in this time is broken.
STATUS_TIMEOUT_SECONDS = 60


class AgentError(Exception):
    """A problem worth one line to the operator, never a stack trace."""


class Lane(NamedTuple):
    name: str
    # A supervisorctl name: `group:*` (every process of a program or group) or `group:process`.
    program: str


class ConsumerStates(NamedTuple):
    """How one kind of host consumer reads and acts: which states run, which are down, and the two actions."""
    started: frozenset
    stopped: frozenset
    start: str
    stop: str


SUPERVISORD_STATES = ConsumerStates(STARTED, STOPPED, "start", "stop")
HORIZON_STATES = ConsumerStates(HORIZON_RUNNING, HORIZON_PAUSED, "continue", "pause")


def log(level: str, msg: str, **fields: str) -> None:
    """One logfmt line: changes on stdout, warnings and errors on stderr (what cron mails)."""
    stamp = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    parts = [f"ts={stamp}", f"level={level}"]
    parts += [f"{key}={_value(value)}" for key, value in fields.items()]
    parts.append(f"msg={_value(msg)}")
    stream = sys.stdout if level == "info" else sys.stderr
    print(" ".join(parts), file=stream, flush=True)


def _value(value: str) -> str:
    if re.fullmatch(r"[A-Za-z0-9_.:/*@+,=-]+", value):
        return value
    # JSON's string escaping keeps any value, newlines included, on the one line.
    return json.dumps(value, ensure_ascii=False)


def switch_name(app: str, environment: str, lane: str) -> str:
    """The parameter the parameters stack publishes for a lane (libs/ssm-parameters)."""
    return f"/{app}/{environment}/lanes/{lane}/host-consumer"


def parse_lanes(specs: Sequence[str], default: str = DEFAULT_PROGRAM) -> List[Lane]:
    """`image` or `image=program`, repeated or comma-separated, in the order given."""
    lanes: List[Lane] = []
    seen = set()
    for spec in specs:
        for item in filter(None, (part.strip() for part in spec.split(","))):
            name, _, program = item.partition("=")
            if not SEGMENT.match(name):
                raise AgentError(f'--lane {item}: "{name}" is not a lane name (letters, digits, _ . -)')
            if name in seen:
                raise AgentError(f"--lane {item}: lane {name} is given twice")
            seen.add(name)
            program = program or default.format(lane=name)
            # Two switches driving one program would fight over it whenever they differ.
            twin = next((lane.name for lane in lanes if lane.program == program), None)
            if twin:
                raise AgentError(f"--lane {item}: lanes {twin} and {name} both name program {program}")
            lanes.append(Lane(name, program))
    if not lanes:
        raise AgentError("no lanes given: name each lane this host runs consumers for with --lane")
    return lanes


def ssm_client(region: Optional[str]):
    try:
        import boto3
        from botocore.config import Config
        from botocore.exceptions import BotoCoreError
    except ImportError:
        raise AgentError("boto3 is not installed (Debian/Ubuntu: apt-get install python3-boto3; otherwise pip install boto3)") from None
    # Short timeouts and one retry: a run that cannot reach SSM should say so
    # within seconds, and the next run (cron, timer, --interval) is the real retry.
    config = Config(connect_timeout=5, read_timeout=10, retries={"mode": "standard", "max_attempts": 2})
    try:
        return boto3.client("ssm", region_name=region, config=config)
    except BotoCoreError as error:
        raise AgentError(f"cannot create the SSM client: {error} (pass --region or set AWS_DEFAULT_REGION)") from None


def read_switches(ssm, names: Sequence[str]) -> Tuple[Dict[str, str], List[str]]:
    """Values by parameter name, and the names SSM does not have; raises AgentError if any read fails."""
    from botocore.exceptions import BotoCoreError, ClientError

    values: Dict[str, str] = {}
    missing: List[str] = []
    try:
        for start in range(0, len(names), GET_PARAMETERS_MAX):
            page = ssm.get_parameters(Names=list(names[start : start + GET_PARAMETERS_MAX]))
            values.update({p["Name"]: p["Value"] for p in page.get("Parameters", [])})
            missing += page.get("InvalidParameters", [])
    except ClientError as error:
        details = error.response.get("Error", {})
        status = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        # A body the client could not parse (a proxy's page, say) arrives whole as the
        # message, under the HTTP status as its code: squeeze it onto the one line.
        code = details.get("Code") or f"HTTP {status}"
        message = " ".join(str(details.get("Message") or error).split())[:400]
        hint = ""
        if "AccessDenied" in code or status == 403:
            hint = " (attach the parameters stack's host_consumer_read_policy to this host's role)"
        raise AgentError(f"{code}: {message}{hint}") from None
    except BotoCoreError as error:
        raise AgentError(str(error)) from None
    return values, missing


def run_command(command: Sequence[str], args: Sequence[str], timeout: Optional[float], name: str, install_hint: str) -> Tuple[int, str]:
    """Runs a consumer's command line with no input; its exit status and its output, stderr included."""
    try:
        done = subprocess.run(
            list(command) + list(args),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            timeout=timeout,
        )
    except FileNotFoundError:
        raise AgentError(f"{command[0]} not found ({install_hint})") from None
    except subprocess.TimeoutExpired:
        raise AgentError(f"{name} {' '.join(args)} did not answer within {timeout:.0f} s") from None
    return done.returncode, done.stdout


class Supervisor:
    """supervisorctl, so the agent needs no more access than an operator at the prompt."""

    consumers = SUPERVISORD_STATES

    def __init__(self, command: Sequence[str]):
        self.command = list(command)

    def _run(self, args: Sequence[str], timeout: Optional[float] = None) -> Tuple[int, str]:
        code, output = run_command(self.command, args, timeout, "supervisorctl", "install supervisor or pass --supervisorctl")
        return code, output.strip()

    def states(self, programs: Sequence[str]) -> Dict[str, Union[Dict[str, str], str]]:
        """Per program, its processes' states, or what supervisorctl said instead; one call for all."""
        code, output = self._run(["status", *programs], timeout=STATUS_TIMEOUT_SECONDS)
        rows: List[Tuple[str, str]] = []
        refusals: Dict[str, str] = {}
        for line in output.splitlines():
            parts = line.split(None, 2)
            if len(parts) >= 2 and parts[1] in STATES:
                rows.append((parts[0], parts[1]))
            elif ": ERROR" in line:
                refusals[line.split(": ERROR", 1)[0]] = line
        # No row and no refusal names a program when supervisorctl failed as a whole
        # (supervisord down, the socket not ours): its first line goes to every lane.
        fallback = (output.splitlines() or [f"exit status {code}, no output"])[0]
        result: Dict[str, Union[Dict[str, str], str]] = {}
        for program in programs:
            mine = {name: state for name, state in rows if _names(program, name)}
            refusal = refusals.get(program[:-2] if program.endswith(":*") else program)
            result[program] = mine or f"supervisorctl status {program}: {refusal or fallback}"
        return result

    def act(self, action: str, program: str, states: Dict[str, str]) -> str:
        # No timeout: stop returns once supervisord has seen every process exit,
        # which takes up to stopwaitsecs while a job finishes.
        code, output = self._run([action, program])
        errors = [line for line in output.splitlines() if "ERROR" in line]
        if code != 0 or errors:
            first = (errors or output.splitlines() or [f"exit status {code}"])[0]
            raise AgentError(f"supervisorctl {action} {program}: {first}")
        # supervisorctl's own report, one `<process>: stopped` or `: started` per process.
        return ", ".join(sorted(output.splitlines()))


class Pending(str):
    """Why a lane cannot be applied yet, when a later pass will: Horizon is still starting its supervisors."""


class SupervisorRecord(NamedTuple):
    """One row of `horizon:supervisors`: Horizon's record of a supervisor (RedisSupervisorRepository::update)."""
    name: str
    pid: int
    status: str


class HorizonView(NamedTuple):
    """What one pass saw: Horizon's records, and which of them are this host's live supervisors."""
    records: List[SupervisorRecord]
    # This host's master, and its supervisors by full name: records whose pid runs that very supervisor here.
    master: Optional[str]
    current: Dict[str, SupervisorRecord]
    # This host's records whose process is gone: a dead master's, until Horizon drops them (29 s).
    stale: List[SupervisorRecord]
    # This host's supervisor processes, and those Horizon has no record of yet (just started).
    live: FrozenSet[Tuple[int, str]]
    unrecorded: List[str]


def horizon_basename(hostname: str) -> str:
    """MasterSupervisor::basename() unless the app calls determineNameUsing: Str::slug(gethostname()),
    as illuminate/support's Str::slug treats a hostname's ASCII characters."""
    title = re.sub(r"_+", "-", hostname).replace("@", "-at-").lower()
    title = re.sub(r"[^-a-z0-9\s]+", "", title)
    return re.sub(r"[-\s]+", "-", title).strip("-")


def parse_supervisors(output: str) -> List[SupervisorRecord]:
    """horizon:supervisors' table (Name | PID | Status | Workers | Balancing), or none for "No supervisors are running."."""
    rows = [[cell.strip() for cell in line.strip().strip("|").split("|")] for line in output.splitlines() if line.startswith("|")]
    if not rows:
        if "No supervisors are running." in output:
            return []
        raise AgentError(f"horizon:supervisors: {_one_line(output) or 'no output'}")
    header, body = rows[0], rows[1:]
    if header[:3] != ["Name", "PID", "Status"]:
        raise AgentError(f"horizon:supervisors: a table headed {' | '.join(header)}, not Name | PID | Status")
    records = []
    for cells in body:
        # A name with `|` in it would shift the cells: refuse rather than read another column as the pid.
        if len(cells) != len(header) or not cells[1].isdigit():
            raise AgentError(f"horizon:supervisors: cannot read the row | {' | '.join(cells)} |")
        records.append(SupervisorRecord(cells[0], int(cells[1]), cells[2]))
    return records


def _one_line(output: str) -> str:
    # Horizon's console components indent and label their lines ("  ERROR  ..."): one space each.
    return " ".join(output.split())


def supervisor_processes(proc: str = "/proc") -> Dict[int, str]:
    """The Horizon supervisor processes running here, by pid: the full name each was started with.

    The master starts each supervisor as `exec php artisan horizon:supervisor <master>:<supervisor>
    <connection> ...` (src/SupervisorCommandString.php), so that process is the pid Horizon records.
    """
    found: Dict[int, str] = {}
    try:
        entries = os.listdir(proc)
    except OSError as error:
        raise AgentError(f"cannot list this host's processes in {proc}: {error.strerror} (run the agent where Horizon runs, on Linux)") from None
    for entry in entries:
        if not entry.isdigit():
            continue
        try:
            with open(os.path.join(proc, entry, "cmdline"), "rb") as f:
                argv = f.read().split(b"\0")
        except OSError:
            continue  # it ended meanwhile
        if SUPERVISOR_COMMAND in argv:
            at = argv.index(SUPERVISOR_COMMAND) + 1
            if at < len(argv) and argv[at]:
                found[int(entry)] = argv[at].decode("utf-8", "replace")
    return found


def process_age(pid: int, proc: str = "/proc") -> Optional[float]:
    """Seconds since the process started (field 22 of /proc/<pid>/stat, in clock ticks since boot)."""
    try:
        with open(os.path.join(proc, str(pid), "stat"), encoding="ascii", errors="replace") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        with open(os.path.join(proc, "uptime"), encoding="ascii") as f:
            uptime = float(f.read().split()[0])
    except (OSError, IndexError, ValueError):
        return None
    return max(0.0, uptime - int(fields[19]) / os.sysconf("SC_CLK_TCK"))


class Horizon:
    """This host's Horizon supervisors, read from Horizon's records and this host's processes, and
    paused or continued by their full names with Horizon's own commands (laravel/horizon
    src/Console, the same at v5.4.0 and v5.29.1 unless said).

    horizon:supervisors lists every supervisor of every host (RedisSupervisorRepository::all(): the
    names updated in the last 29 s) with its full name `<master>:<supervisor>`, its pid and its status,
    running or paused; "No supervisors are running." when there is none. A master's name is
    MasterSupervisor::basename() (Str::slug(gethostname())) . '-' . Str::random(4). This host's
    master is the one named `<basename>-XXXX` whose supervisors' pids run here as `horizon:supervisor
    <that full name>`: so another host's records (web-10's, seen from web-1) and a dead master's
    (its processes gone, or its pid reused by another process) are never read as this host's.

    pause-supervisor NAME and continue-supervisor NAME signal the pid of the first record whose name
    starts with basename() and ends with NAME (USR2 pauses, CONT continues; "Sending USR2 Signal To
    Process: PID" at 5.4, "INFO Sending USR2 signal to process: PID." at 5.29), or print "Failed to
    find a supervisor with this name" with exit status 1, or "Failed to send ..." with exit status 0
    when the signal could not be sent. Given a bare name they pick `async` for `sync`; given a full
    name, only a record whose name ends in it, which the agent checks is the one it read.
    horizon:supervisor-status (5.28 on) is not used: it matches names the same way.
    """

    consumers = HORIZON_STATES

    def __init__(self, artisan: Sequence[str], basename: str, proc: str = "/proc"):
        self.command = list(artisan)
        self.basename = basename
        self.proc = proc
        self.mine = re.compile(rf"^{re.escape(basename)}-{MASTER_TOKEN}:[^:]+$")
        self.view: Optional[HorizonView] = None
        # The supervisors the last pass found: one of them gone while its master runs on is stopping.
        self.seen: FrozenSet[str] = frozenset()

    def _run(self, args: Sequence[str]) -> Tuple[int, str]:
        return run_command(self.command, args, STATUS_TIMEOUT_SECONDS, "artisan", "pass --artisan, e.g. --artisan 'php /var/www/html/artisan'")

    def live(self) -> FrozenSet[Tuple[int, str]]:
        """This host's supervisor processes (pid, full name): all the watch reads each second, no PHP started."""
        return frozenset((pid, name) for pid, name in supervisor_processes(self.proc).items() if self.mine.match(name))

    def read(self) -> HorizonView:
        if self.view is not None:
            self.seen = frozenset(self.view.current)
        self.view = None
        code, output = self._run(["horizon:supervisors"])
        if code != 0:
            raise AgentError(f"horizon:supervisors: {_one_line(output) or f'exit status {code}'}")
        records = parse_supervisors(output)
        live = self.live()
        mine = [record for record in records if self.mine.match(record.name)]
        current = {record.name: record for record in mine if (record.pid, record.name) in live}
        # Horizon's own rule for a supervisor's master: its name up to the last `:` (RedisSupervisorRepository::update).
        masters = sorted({name.rsplit(":", 1)[0] for name in current})
        if len(masters) > 1:
            raise AgentError(f"Horizon masters {' and '.join(masters)} both run supervisors on this host; a later run decides")
        unrecorded = sorted(name for _, name in live if name not in current)
        stale = [record for record in mine if record.name not in current]
        self.view = HorizonView(records, (masters or [None])[0], current, stale, live, unrecorded)
        return self.view

    def states(self, programs: Sequence[str]) -> Dict[str, Union[Dict[str, str], str]]:
        """Per lane's `a+b` supervisors, each one's status by full name, or why there is none."""
        view = self.read()
        result: Dict[str, Union[Dict[str, str], str]] = {}
        for program in programs:
            full = {name: f"{view.master}:{name}" for name in program.split("+")}
            missing = [name for name in full if view.master is None or full[name] not in view.current]
            if missing:
                result[program] = self._missing(view, missing[0])
            else:
                result[program] = {name: view.current[name].status for name in full.values()}
        return result

    def _missing(self, view: HorizonView, supervisor: str) -> str:
        # A master starts all its supervisors in one loop (ProvisioningPlan's AddSupervisor commands)
        # and each writes its record once booted; terminate() makes each forget its record first,
        # then drain its workers. A supervisor process without a record is starting or stopping.
        if view.unrecorded:
            return Pending(f"Horizon is starting or stopping supervisors on this host ({', '.join(view.unrecorded)}); a later pass applies the switch")
        if f"{view.master}:{supervisor}" in self.seen:
            return Pending(f"Horizon's master {view.master} is stopping its supervisors, {supervisor} is gone; a later pass applies the switch")
        if view.master is None:
            stale = (
                f"; ignored {len(view.stale)} record(s) whose processes do not run here (a master that is gone, or the agent not where Horizon runs)"
                if view.stale
                else ""
            )
            return f"Horizon is not running on this host: no live supervisor of a master named {self.basename}-XXXX{stale}"
        return f"Horizon's master on this host, {view.master}, has no supervisor {supervisor} (config/horizon.php)"

    def act(self, action: str, program: str, states: Dict[str, str]) -> str:
        said = []
        for name in sorted(states):
            record = self._only_match(action, name)
            code, output = self._run([f"horizon:{action}-supervisor", name])
            output = _one_line(output)
            sent = re.search(r"signal to process: (\d+)", output, re.IGNORECASE)
            if code != 0 or "Failed" in output or not sent:
                raise AgentError(f"horizon:{action}-supervisor {name}: {output or f'exit status {code}'}")
            if int(sent.group(1)) != record.pid:
                raise AgentError(f"horizon:{action}-supervisor {name}: Horizon signalled process {sent.group(1)}, not {record.pid}")
            age = process_age(record.pid, self.proc)
            said.append(f"{name}: pid {record.pid}" + (f", started {age:.1f} s before" if age is not None else ""))
        return ", ".join(said)

    def _only_match(self, action: str, name: str) -> SupervisorRecord:
        """The record Horizon's command will pick for `name`, which must be the one this pass read as current."""
        assert self.view is not None, "states() reads Horizon before act()"
        matches = [r.name for r in self.view.records if r.name.startswith(self.basename) and r.name.endswith(name)]
        if matches != [name]:
            raise AgentError(f"horizon:{action}-supervisor {name} would match {', '.join(matches) or 'nothing'}, not {name} alone; changed nothing")
        return self.view.current[name]


def check_supervisors(lanes: Sequence[Lane], horizon: Horizon) -> int:
    """--check: every lane's supervisors run under this host's master; lists those that do not."""
    states = horizon.states([lane.program for lane in lanes])
    missing = [lane for lane in lanes if isinstance(states[lane.program], str)]
    for lane in missing:
        log("error", f"{states[lane.program]}; pausing this lane would find nothing", lane=lane.name, supervisors=lane.program)
    for lane in lanes:
        if lane not in missing:
            log("info", "has its supervisors", lane=lane.name, supervisors=lane.program, status=_summary(states[lane.program]))
    view = horizon.view
    if view is not None and view.master is not None and view.stale:
        # Not an error: Horizon drops a dead master's records itself within 29 s.
        log("info", "ignored the records of a master whose processes are gone", stale=",".join(r.name for r in view.stale))
    return 1 if missing else 0


def _names(program: str, process: str) -> bool:
    """Whether `supervisorctl status` shows `process` among those `program` names."""
    group, _, name = program.partition(":")
    if name == "*":
        return process == group or process.startswith(f"{group}:")
    # `group:name`, or a bare name, which supervisorctl reads as `name:name`; status
    # shows a process alone in its group by its name only.
    name = name or group
    return process == f"{group}:{name}" or (group == name and process == group)


def plan(switch: str, states: Dict[str, str], consumers=None) -> Optional[str]:
    """The consumers' start or stop action, or None (already as the switch says, or in a transition a later run settles)."""
    consumers = consumers or SUPERVISORD_STATES
    if switch == "enabled":
        return consumers.start if any(s in consumers.stopped for s in states.values()) else None
    return consumers.stop if any(s in consumers.started for s in states.values()) else None


def _summary(states: Dict[str, str]) -> str:
    return ",".join(f"{name}:{state}" for name, state in sorted(states.items()))


def apply_lane(lane: Lane, switch: str, states: Dict[str, str], supervisor, dry_run: bool, verbose: bool) -> None:
    action = plan(switch, states, supervisor.consumers)
    fields = {"lane": lane.name, "switch": switch, "program": lane.program}
    processes = _summary(states)
    if action is None:
        if "STOPPING" in states.values() and switch == "enabled":
            log("warn", "a stop is under way; a later run starts the lane", **fields, processes=processes)
        elif verbose or dry_run:
            log("info", "already as switched", **fields, processes=processes)
        return
    if dry_run:
        log("info", f"would {action}", **fields, action=action, processes=processes)
        return
    result = supervisor.act(action, lane.program, states)
    done = {"stop": "stopped", "start": "started", "pause": "paused", "continue": "continued"}[action]
    log("info", done, **fields, action=action, processes=processes, result=result)


def run_once(args: argparse.Namespace, lanes: Sequence[Lane], ssm, supervisor) -> int:
    read = read_lane_switches(args, lanes, ssm)
    if read is None:
        return 1
    switched, failed = read
    if switched and apply_switches(args, switched, supervisor):
        failed = True
    return 1 if failed else 0


def read_lane_switches(args: argparse.Namespace, lanes: Sequence[Lane], ssm) -> Optional[Tuple[List[Tuple[Lane, str]], bool]]:
    """Each lane with a readable switch, and whether any lane's was not; None when SSM could not be read."""
    by_name = {switch_name(args.app, args.environment, lane.name): lane for lane in lanes}
    try:
        values, missing = read_switches(ssm, list(by_name))
    except AgentError as error:
        log(
            "error",
            f"could not read the host-consumer switches from SSM, changed nothing: {error}",
            lanes=",".join(lane.name for lane in lanes),
        )
        return None
    failed = False
    switched: List[Tuple[Lane, str]] = []
    for name, lane in by_name.items():
        value = values.get(name)
        if value is None:
            why = "the parameter does not exist" if name in missing else "SSM did not return the parameter"
            log("error", f"{why}; left the lane as it is", lane=lane.name, parameter=name)
            failed = True
        elif value not in SWITCH_VALUES:
            log("error", f'the switch says "{value}", not enabled or disabled; left the lane as it is', lane=lane.name, parameter=name)
            failed = True
        else:
            switched.append((lane, value))
    return switched, failed


def apply_switches(args: argparse.Namespace, switched: Sequence[Tuple[Lane, str]], supervisor) -> bool:
    """Makes each lane's consumers match its switch; whether any lane was left as it was."""
    try:
        states = supervisor.states([lane.program for lane, _ in switched])
    except AgentError as error:
        log("error", f"{error}; changed nothing", lanes=",".join(lane.name for lane, _ in switched))
        return True
    failed = False
    for lane, value in switched:
        found = states[lane.program]
        if isinstance(found, str):
            level = "warn" if isinstance(found, Pending) else "error"
            log(level, f"{found}; left the lane as it is", lane=lane.name, switch=value, program=lane.program)
            failed = True
            continue
        try:
            apply_lane(lane, value, found, supervisor, args.dry_run, args.verbose)
        except AgentError as error:
            log("error", str(error), lane=lane.name, switch=value, program=lane.program)
            failed = True
    return failed


class RestartWatch:
    """Horizon mode between SSM reads: a pass as soon as this host's supervisor processes change.

    Every deploy runs horizon:terminate, and the new master starts each supervisor running. The
    watch sees the new processes in /proc within one --watch period (no PHP started), and the pass
    pauses an ECS-owned lane's supervisors again with the switches last read from SSM.
    """

    def __init__(self, horizon: Horizon):
        self.horizon = horizon
        self.tried: Optional[FrozenSet[Tuple[int, str]]] = None  # the processes the last pass saw
        self.since = 0.0  # when they last changed
        self.settled = False  # whether that pass found Horizon's record of each

    def due(self) -> bool:
        try:
            if self.horizon.live() != self.tried:
                return True
        except AgentError:
            return False  # the next read of SSM runs a pass, which says why

        # A supervisor just started may not have written its record yet: try again, for a while.
        return not self.settled and time.monotonic() - self.since < SETTLE_SECONDS

    def passed(self) -> None:
        view = self.horizon.view
        live = view.live if view is not None else self.horizon.live()
        if live != self.tried:
            self.tried, self.since = live, time.monotonic()
        self.settled = view is not None and not view.unrecorded


def run_every(args: argparse.Namespace, ssm, supervisor, stop: threading.Event) -> None:
    """--interval: the switches from SSM every interval and, in Horizon mode, a pass whenever
    the watch sees this host's supervisors change (a Horizon restart), with the switches last read."""
    watch = RestartWatch(supervisor) if args.horizon else None
    switched: List[Tuple[Lane, str]] = []
    next_read = 0.0
    while not stop.is_set():
        if time.monotonic() >= next_read:
            next_read = time.monotonic() + args.interval
            read = read_lane_switches(args, args.lanes, ssm)
            # Switches SSM could not give are not held: those lanes keep what they run.
            switched = read[0] if read is not None else []
            if switched:
                apply_switches(args, switched, supervisor)
                if watch is not None:
                    watch.passed()
        elif watch is not None and switched and watch.due():
            apply_switches(args, switched, supervisor)
            watch.passed()
        period = args.watch if watch is not None else args.interval
        stop.wait(max(0.0, min(period, next_read - time.monotonic())))


def parse_args(argv: Optional[Sequence[str]]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="queue-lanes-host-agent",
        description="Start or stop this host's queue:work programs in supervisord (or pause and continue its Horizon supervisors, --horizon) to match each lane's host-consumer switch in SSM.",
    )
    parser.add_argument("--app", required=True, help="the environment file's app (first segment of /<app>/<env>/lanes/...)")
    parser.add_argument("--environment", required=True, help="the environment file's environment (second segment)")
    parser.add_argument(
        "--lane",
        action="append",
        default=[],
        metavar="LANE[=PROGRAM]",
        help=f"a lane this host consumes, repeatable or comma-separated; PROGRAM is its supervisorctl name (default {DEFAULT_PROGRAM.format(lane='<lane>')}, every process of program queue-<lane>)",
    )
    parser.add_argument("--region", help="the environment's region (default: AWS_DEFAULT_REGION or the shared config)")
    mode = parser.add_mutually_exclusive_group(required=True)
    mode.add_argument("--once", action="store_true", help="apply the switches once and exit (cron, systemd timer)")
    mode.add_argument("--interval", type=float, metavar="SECONDS", help="apply the switches every SECONDS until SIGTERM")
    mode.add_argument("--check", action="store_true", help="Horizon mode: list the lanes with no matching supervisor on this host, change nothing")
    parser.add_argument(
        "--horizon",
        action="store_true",
        help=f"the hosts run the lanes under Horizon: pause and continue each lane's supervisors (LANE=SUPERVISOR[+SUPERVISOR], default {DEFAULT_SUPERVISOR.format(lane='<lane>')})",
    )
    parser.add_argument("--artisan", default="php artisan", help="Horizon mode: the artisan command, run as the web user (default: php artisan, in the current folder)")
    parser.add_argument(
        "--horizon-host",
        metavar="BASENAME",
        help="Horizon mode: this host's name as its master's name starts, MasterSupervisor::basename() (default: Str::slug of the hostname; set it when the app calls MasterSupervisor::determineNameUsing)",
    )
    parser.add_argument(
        "--watch",
        type=float,
        metavar="SECONDS",
        help=f"Horizon mode with --interval: how often to look for a restarted Horizon's supervisors and pause a disabled lane's again (default {DEFAULT_WATCH_SECONDS:g})",
    )
    parser.add_argument("--supervisorctl", default="supervisorctl", help="the supervisorctl command (default: supervisorctl on PATH)")
    parser.add_argument("--supervisor-config", metavar="FILE", help="supervisord's config, passed to supervisorctl as -c (default: supervisorctl's own search)")
    parser.add_argument("--dry-run", action="store_true", help="read and report what would change, start or stop nothing")
    parser.add_argument("--verbose", action="store_true", help="also log the lanes that are already as switched")
    args = parser.parse_args(argv)
    for key in ("app", "environment"):
        if not SEGMENT.match(getattr(args, key)):
            parser.error(f'--{key} "{getattr(args, key)}" is not an SSM path segment (letters, digits, _ . -)')
    if args.interval is not None and args.interval <= 0:
        parser.error("--interval must be more than 0 seconds")
    if args.check and not args.horizon:
        parser.error("--check applies to Horizon mode (--horizon); supervisorctl status shows supervisord's programs")
    if args.watch is not None and (not args.horizon or args.interval is None or args.watch <= 0):
        parser.error("--watch applies to Horizon mode with --interval, and must be more than 0 seconds")
    args.watch = args.watch if args.watch is not None else DEFAULT_WATCH_SECONDS
    args.horizon_host = args.horizon_host or horizon_basename(socket.gethostname())
    if args.horizon and not args.horizon_host:
        parser.error("--horizon-host: this hostname gives Horizon an empty basename; pass the one the app sets")
    try:
        args.lanes = parse_lanes(args.lane, DEFAULT_SUPERVISOR if args.horizon else DEFAULT_PROGRAM)
    except AgentError as error:
        parser.error(str(error))
    for lane in args.lanes if args.horizon else []:
        bad = [name for name in lane.program.split("+") if not SUPERVISOR_NAME.match(name)]
        if bad:
            parser.error(f'--lane {lane.name}={lane.program}: "{bad[0]}" is not a Horizon supervisor name (no `:`, `+`, `|` or spaces)')
    return args


def main(argv: Optional[Sequence[str]] = None) -> int:
    args = parse_args(argv)
    if args.horizon:
        supervisor = Horizon(shlex.split(args.artisan), args.horizon_host)
        if args.check:
            try:
                return check_supervisors(args.lanes, supervisor)
            except AgentError as error:
                log("error", str(error))
                return 1
    else:
        command = [args.supervisorctl] + (["-c", args.supervisor_config] if args.supervisor_config else [])
        supervisor = Supervisor(command)
    try:
        ssm = ssm_client(args.region)
    except AgentError as error:
        log("error", f"{error}; changed nothing")
        return 1
    if args.once:
        return run_once(args, args.lanes, ssm, supervisor)

    stop = threading.Event()
    # A signal ends the loop between runs: a stop already sent to supervisord
    # completes there either way, and the next start of the agent re-reads everything.
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    run_every(args, ssm, supervisor, stop)
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        sys.exit(130)
    except Exception as error:  # noqa: BLE001 - the operator gets one line, not a traceback
        log("error", f"unexpected {type(error).__name__}: {error}; changed nothing further")
        sys.exit(1)
