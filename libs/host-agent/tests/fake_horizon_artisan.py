#!/usr/bin/env python3
"""A stand-in for `php artisan` with Laravel Horizon, for the host agent's tests.

It follows laravel/horizon's source at two tags, v5.4.0 (the first with pause-supervisor and
continue-supervisor, #914; Laravel 8) and v5.29.1 (the newest 5.x tag read), chosen by
FAKE_HORIZON_VERSION. The commands, each as src/Console/<Command>.php defines it:

- horizon:supervisors (SupervisorsCommand): every record, of every host, as a table
  Name | PID | Status | Workers | Balancing; "No supervisors are running." when there is none.
  5.29.1 prints through Laravel's console components (an indented, labelled " INFO " line) and
  puts a blank line around the table; 5.4.0 prints the bare line and table.
- horizon:pause-supervisor NAME, horizon:continue-supervisor NAME (PauseSupervisorCommand,
  ContinueSupervisorCommand): the pid of the first record whose name starts with
  MasterSupervisor::basename() and ends with NAME gets USR2 or CONT (a real signal, posix_kill);
  "Sending USR2 Signal To Process: PID" (5.4.0) or "INFO Sending USR2 signal to process: PID."
  (5.29.1), exit status 0; no such record: "Failed to find a supervisor with this name",
  exit status 1; a signal not sent: "Failed to send USR2 signal to process: PID (strerror)",
  still exit status 0.
- horizon:supervisor-status NAME (SupervisorStatusCommand, 5.28.0 on; not defined at 5.4.0): the
  same match, "NAME is running" or "Unable to find a supervisor with this name." with exit status 1.
- horizon:supervisor NAME CONNECTION (SupervisorCommand, Supervisor::monitor() and loop()): the
  long-running supervisor process a master starts, `php artisan horizon:supervisor <master>:<name>
  redis ...`. It writes its record (RedisSupervisorRepository::update: name, pid, status running
  or paused) at once, then every second handles the signals that came meanwhile (USR2 pauses, CONT
  continues, TERM forgets the record and ends, Supervisor::terminate()) and writes it again; it
  ends when its parent does (ensureParentIsRunning()).
- anything else: Symfony's `Command "NAME" is not defined.`, exit status 1.

The records live in FAKE_HORIZON_STATE (JSON, {"records": [{name, pid, status}], "signals":
[[signal, name, pid]], "listed": how many times horizon:supervisors ran}), in the order RedisSupervisorRepository::all() returns them (the latest
written first, zrevrangebyscore); FAKE_HORIZON_BASENAME is this host's basename().
FAKE_HORIZON_EPERM makes posix_kill fail as it does for another user's process.
"""

import fcntl
import json
import os
import signal
import sys
import time
from contextlib import contextmanager

PATH = os.environ["FAKE_HORIZON_STATE"]
VERSION = os.environ.get("FAKE_HORIZON_VERSION", "5.29.1")
BASENAME = os.environ.get("FAKE_HORIZON_BASENAME", "")
COMPONENTS = VERSION != "5.4.0"
# Supervisor::monitor(): sleep(1) between loops.
LOOP_SECONDS = 1.0


@contextmanager
def state():
    """The records, locked against the other supervisors and commands, and written back."""
    with open(PATH + ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        with open(PATH, encoding="utf-8") as f:
            data = json.load(f)
        yield data
        with open(PATH + ".tmp", "w", encoding="utf-8") as f:
            json.dump(data, f)
        os.replace(PATH + ".tmp", PATH)


def say(level, line):
    """$this->info / $this->error at 5.4.0; $this->components->info / error at 5.29.1."""
    if COMPONENTS:
        print(f"\n   {level}  {line.rstrip('.')}.\n")
    else:
        print(line)


def table(records):
    rows = [["Name", "PID", "Status", "Workers", "Balancing"]]
    rows += [[r["name"], str(r["pid"]), r["status"], f"redis:{r['name'].rsplit(':', 1)[1]} (1)", "simple"] for r in records]
    widths = [max(len(row[i]) for row in rows) for i in range(5)]
    rule = "+" + "+".join("-" * (w + 2) for w in widths) + "+"
    line = lambda row: "|" + "|".join(f" {cell.ljust(w)} " for cell, w in zip(row, widths)) + "|"
    return "\n".join([rule, line(rows[0]), rule, *map(line, rows[1:]), rule])


def supervisors():
    with state() as data:
        records = list(data["records"])
        data["listed"] = data.get("listed", 0) + 1
    if not records:
        say("INFO", "No supervisors are running.")
        return 0
    print(("\n" if COMPONENTS else "") + table(records) + ("\n" if COMPONENTS else ""))
    return 0


def first_match(records, name):
    return next((r for r in records if r["name"].startswith(BASENAME) and r["name"].endswith(name)), None)


def signal_supervisor(command, name):
    sig, label = (signal.SIGUSR2, "USR2") if command == "horizon:pause-supervisor" else (signal.SIGCONT, "CONT")
    with state() as data:
        record = first_match(data["records"], name)
        if record is None:
            say("ERROR", "Failed to find a supervisor with this name")
            return 1
        data["signals"].append([label, record["name"], record["pid"]])
    pid = record["pid"]
    say("INFO", f"Sending {label} signal to process: {pid}" if COMPONENTS else f"Sending {label} Signal To Process: {pid}")
    try:
        if os.environ.get("FAKE_HORIZON_EPERM"):
            raise PermissionError(1, os.strerror(1))
        os.kill(pid, sig)
    except OSError as error:
        say("ERROR", f"Failed to send {label} signal to process: {pid} ({error.strerror})")
    return 0


def supervisor_status(name):
    if not COMPONENTS:
        return not_defined("horizon:supervisor-status")
    with state() as data:
        record = first_match(data["records"], name)
    if record is None:
        say("ERROR", "Unable to find a supervisor with this name.")
        return 1
    say("INFO", f"{name} is {record['status']}")
    return 0


def persist(name, working):
    with state() as data:
        records = [r for r in data["records"] if r["name"] != name]
        data["records"] = [{"name": name, "pid": os.getpid(), "status": "running" if working else "paused"}] + records


def forget(name):
    with state() as data:
        data["records"] = [r for r in data["records"] if r["name"] != name]


def supervise(name):
    pending = []
    for signum, what in ((signal.SIGUSR2, "pause"), (signal.SIGCONT, "continue"), (signal.SIGTERM, "terminate")):
        signal.signal(signum, lambda *_, what=what: pending.append(what))
    parent, working = os.getppid(), True
    persist(name, working)
    while True:
        time.sleep(LOOP_SECONDS)
        if os.getppid() != parent:
            return 0
        while pending:
            what = pending.pop(0)
            if what == "terminate":
                forget(name)
                return 0
            working = what == "continue"
        persist(name, working)


def not_defined(command):
    print(f'\n  Command "{command}" is not defined.\n')
    return 1


def main(argv):
    command, args = argv[0], argv[1:]
    if command == "horizon:supervisors":
        return supervisors()
    if command in ("horizon:pause-supervisor", "horizon:continue-supervisor"):
        return signal_supervisor(command, args[0])
    if command == "horizon:supervisor-status":
        return supervisor_status(args[0])
    if command == "horizon:supervisor":
        return supervise(args[0])
    return not_defined(command)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
