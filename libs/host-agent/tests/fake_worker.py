"""Stands in for `php artisan queue:work` under the test supervisord.

It records in its marker file what a queue:work process would make visible:
that it started, that SIGTERM reached it, and that it then finished the job in
hand before exiting 0. A SIGKILL leaves no "finished" line, so the marker tells
a graceful stop from a killed one. It also exits when its supervisord is gone,
so a test that kills supervisord leaves nothing running.
"""

import os
import signal
import sys
import time

marker = sys.argv[1]
job_seconds = float(sys.argv[2]) if len(sys.argv) > 2 else 0.5
terminated = False


def record(line: str) -> None:
    with open(marker, "a", encoding="utf-8") as f:
        f.write(f"{line}\n")


def on_term(_signum, _frame) -> None:
    global terminated
    terminated = True


signal.signal(signal.SIGTERM, on_term)
parent = os.getppid()
record(f"started {os.getpid()}")
while not terminated:
    if os.getppid() != parent:
        sys.exit(0)
    time.sleep(0.02)
record("TERM")
# The job in hand: Laravel's worker finishes it before it exits on SIGTERM.
time.sleep(job_seconds)
record("finished")
sys.exit(0)
