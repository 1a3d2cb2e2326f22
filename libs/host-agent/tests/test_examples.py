"""The examples operators copy: they must keep working with the agent, and stop gracefully."""

from __future__ import annotations

import configparser
import re
import shlex
import sys
from pathlib import Path

from conftest import FAKE_WORKER, JOB_SECONDS, load_agent

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def programs():
    """The example's [program:queue-<lane>] sections, by lane."""
    parser = configparser.ConfigParser(interpolation=None)
    parser.read(EXAMPLES / "queue-lanes.conf")
    return {s[len("program:queue-") :]: parser[s] for s in parser.sections() if s.startswith("program:queue-")}


def agent_arguments(command: str):
    """The agent's arguments in a command line that runs /usr/local/bin/queue-lanes-host-agent."""
    words = shlex.split(command)
    return words[words.index("/usr/local/bin/queue-lanes-host-agent") + 1 :]


def service_arguments():
    text = (EXAMPLES / "queue-lanes-host-agent.service").read_text()
    [command] = re.findall(r"^ExecStart=(.*)$", text, re.M)
    return agent_arguments(command)


def cron_arguments():
    [entry] = [line for line in (EXAMPLES / "queue-lanes-host-agent.cron").read_text().splitlines() if line and not line.startswith("#")]
    # Minute, hour, day, month, weekday, user; then the command, up to the pipe into logger.
    return agent_arguments(entry.split("|")[0].split(None, 6)[6])


def test_every_program_stops_gracefully_within_its_job_timeout():
    found = programs()
    assert sorted(found) == ["bulk", "image", "sync"]
    for lane, program in found.items():
        command = program["command"]
        # PHP itself, so SIGTERM reaches the worker rather than a shell.
        assert command.startswith("php "), lane
        assert f" queue:work redis --queue={lane} " in command
        [timeout] = re.findall(r" --timeout=(\d+) ", command)
        assert int(program["stopwaitsecs"]) > int(timeout), lane
        assert program["stopsignal"] == "TERM"
        assert program["autostart"] == "true"


def test_the_service_and_cron_run_the_agent_alike_with_arguments_it_accepts():
    assert cron_arguments() == service_arguments()
    args = load_agent().parse_args(service_arguments())
    assert args.once
    assert (args.app, args.environment, args.region) == ("propertyfeed", "production", "eu-west-2")
    # Every lane's default program is one the supervisor example defines.
    assert [(lane.name, lane.program) for lane in args.lanes] == [(lane, f"queue-{lane}:*") for lane in programs()]


def test_the_horizon_service_holds_the_switches_with_the_same_lanes_as_the_horizon_excerpt():
    text = (EXAMPLES / "queue-lanes-host-agent-horizon.service").read_text()
    [command] = re.findall(r"^ExecStart=(.*)$", text, re.M)
    args = load_agent().parse_args(agent_arguments(command))
    # A service of its own, so the watch sees a restart within a second, as the web user.
    assert (args.horizon, args.interval, args.watch, args.once) == (True, 60, 1.0, False)
    assert re.search(r"^User=www-data$", text, re.M) and re.search(r"^Restart=always$", text, re.M)
    assert args.artisan == "php /var/www/propertyfeed/current/artisan"
    assert [(lane.name, lane.program) for lane in args.lanes] == [(lane, lane) for lane in programs()]
    assert (args.app, args.environment, args.region) == ("propertyfeed", "production", "eu-west-2")


def test_the_example_programs_under_supervisord_hand_a_lane_over_gracefully(supervisord, switches, agent):
    """The example's own stop settings and names, with fake_worker.py in place of PHP."""
    sections, specs, lane = [], {}, None
    for line in (EXAMPLES / "queue-lanes.conf").read_text().splitlines():
        header = re.match(r"\[program:queue-(.+)\]", line)
        key = line.split("=", 1)[0]
        if header:
            lane = header.group(1)
            specs[lane] = {}
        elif key == "command":
            line = f"command={sys.executable} {FAKE_WORKER} %(here)s/{lane}-%(process_num)02d.marker {JOB_SECONDS}"
        elif key in ("user", "directory"):
            continue  # the current user, anywhere
        elif key == "startsecs":
            line = "startsecs=0"  # the fake worker is up at once; a second per test saved
        elif key == "stdout_logfile":
            line = "stdout_logfile=%(here)s/%(program_name)s-%(process_num)02d.log"
        elif key == "numprocs":
            specs[lane]["numprocs"] = int(line.split("=", 1)[1])
        elif key == "process_name":
            specs[lane]["numbered"] = "%(process_num)" in line
        sections.append(line)
    sv = supervisord("\n".join(sections) + "\n", **specs)
    switches.set("sync", "enabled")
    switches.set("image", "disabled")
    switches.set("bulk", "disabled")
    lanes = [lane.name for lane in load_agent().parse_args(service_arguments()).lanes]

    run = agent(sv).run("--once", *[f"--lane={lane}" for lane in lanes])

    assert run.returncode == 0, run.stderr
    assert sv.lane_states("sync") == ["RUNNING", "RUNNING"]
    assert sv.lane_states("image") == ["STOPPED", "STOPPED"]
    assert sv.lane_states("bulk") == ["STOPPED"]
    for lane, num in [("image", 0), ("image", 1), ("bulk", 0)]:
        assert sv.marker(lane, num)[1:] == ["TERM", "finished"]
    assert "SIGKILL" not in sv.log()


def test_the_horizon_excerpt_gives_each_of_productions_lanes_a_supervisor_of_its_own():
    """libs/host-agent/examples/horizon.php, read by PHP: a supervisor per lane, named as
    the agent's Horizon mode expects, taking exactly the lane's queues (never default), with
    the lane's job settings; and default's supervisor apart, which the agent never pauses."""
    import json
    import subprocess

    import yaml

    config = json.loads(
        subprocess.run(
            ["php", "-r", f'echo json_encode(require {json.dumps(str(EXAMPLES / "horizon.php"))});'],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    )
    production = yaml.safe_load((EXAMPLES.parents[2] / "environments" / "production.yaml").read_text())
    supervisors = config["defaults"]
    assert set(config["environments"]["production"]) == set(supervisors)
    assert supervisors["supervisor-default"]["queue"] == ["default"]
    for name, lane in production["lanes"].items():
        supervisor = supervisors[name]
        job = lane["job"]
        assert supervisor["queue"] == lane["queues"], name
        assert "default" not in supervisor["queue"]
        assert (supervisor["timeout"], supervisor["tries"], supervisor["memory"]) == (job["timeout"], job["tries"], job["memory"]), name
        assert (supervisor["maxJobs"], supervisor["maxProcesses"]) == (job["maxJobs"], lane["workers"]), name
