#!/usr/bin/env python3
"""A stand-in for `php artisan` with Laravel Horizon, for the host agent's tests.

It follows the contract of the three commands as laravel/horizon v5.29 defines them
(src/Console/SupervisorStatusCommand.php, PauseSupervisorCommand.php,
ContinueSupervisorCommand.php): the same names, argument, exit statuses and lines (as
Laravel's console components print them, indented and labelled), matching a supervisor
whose name ends in NAME among this host's, which here are those in the state file.
State file (FAKE_HORIZON_STATE, JSON): {"running": bool, "supervisors": {name: "running"|"paused"},
"signals": [[signal, name], ...], "fail_signal": bool}. Horizon not running: no supervisors.
"""

import json
import os
import sys

path = os.environ["FAKE_HORIZON_STATE"]
with open(path, encoding="utf-8") as f:
    state = json.load(f)


def find(name):
    if not state.get("running", True):
        return None
    # MasterSupervisor::basename() prefixes every supervisor's name with the host's; NAME matches its end.
    return next((full for full in state["supervisors"] if f"host-abcd:{full}".endswith(name)), None)


def save():
    with open(path, "w", encoding="utf-8") as f:
        json.dump(state, f)


command, name = sys.argv[1], sys.argv[2]
found = find(name)
if command == "horizon:supervisor-status":
    if found is None:
        print("\n   ERROR  Unable to find a supervisor with this name.\n")
        sys.exit(1)
    print(f"\n   INFO  {name} is {state['supervisors'][found]}.\n")
elif command in ("horizon:pause-supervisor", "horizon:continue-supervisor"):
    if found is None:
        print("\n   ERROR  Failed to find a supervisor with this name.\n")
        sys.exit(1)
    signal = "USR2" if command == "horizon:pause-supervisor" else "CONT"
    print(f"\n   INFO  Sending {signal} signal to process: 4242.\n")
    if state.get("fail_signal"):
        print(f"\n   ERROR  Failed to send {signal} signal to process: 4242 (Operation not permitted).\n")
        sys.exit(0)
    state.setdefault("signals", []).append([signal, found])
    state["supervisors"][found] = "paused" if signal == "USR2" else "running"
    save()
else:
    print(f"Command \"{command}\" is not defined.")
    sys.exit(1)
