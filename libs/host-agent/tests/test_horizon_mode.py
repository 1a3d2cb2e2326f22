"""The host agent's Horizon mode against moto's SSM and a Horizon double that follows the
contract of horizon:supervisor-status, horizon:pause-supervisor and
horizon:continue-supervisor as laravel/horizon v5.29 defines them (fake_horizon_artisan.py)."""

from __future__ import annotations

import json
import shlex
import sys
from pathlib import Path

import pytest

from conftest import HERE, free_port

FAKE_ARTISAN = HERE / "fake_horizon_artisan.py"


class FakeHorizon:
    def __init__(self, path: Path, running: bool = True, **supervisors: str):
        self.path = path
        self.write({"running": running, "supervisors": supervisors, "signals": []})

    def write(self, state) -> None:
        self.path.write_text(json.dumps(state))

    @property
    def state(self):
        return json.loads(self.path.read_text())

    def args(self, *agent_args: str):
        return ("--horizon", "--artisan", f"{shlex.quote(sys.executable)} {shlex.quote(str(FAKE_ARTISAN))}", *agent_args)


@pytest.fixture
def horizon(tmp_path):
    def make(running: bool = True, **supervisors: str) -> FakeHorizon:
        return FakeHorizon(tmp_path / "horizon.json", running, **supervisors)

    return make


def run(agent, horizon: FakeHorizon, *args: str, **env: str):
    return agent().run(*horizon.args(*args), FAKE_HORIZON_STATE=str(horizon.path), **env)


def test_a_disabled_switch_pauses_the_lanes_supervisors_and_an_enabled_one_continues_them(agent, switches, horizon):
    hz = horizon(image="running", bulk="paused", sync="running")
    switches.set("image", "disabled")
    switches.set("bulk", "enabled")
    switches.set("sync", "enabled")

    result = run(agent, hz, "--once", "--lane", "image,bulk,sync")

    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    assert hz.state["supervisors"] == {"image": "paused", "bulk": "running", "sync": "running"}
    assert hz.state["signals"] == [["USR2", "image"], ["CONT", "bulk"]]
    lines = result.stdout.splitlines()
    assert len(lines) == 2
    assert " lane=image switch=disabled program=image action=pause processes=image:running " in lines[0]
    assert "result=\"image: INFO Sending USR2 signal to process: 4242.\"" in lines[0]
    assert " lane=bulk switch=enabled program=bulk action=continue " in lines[1]


def test_a_lane_with_several_supervisors_pauses_each(agent, switches, horizon):
    hz = horizon(**{"sync-urgent": "running", "sync-main": "running"})
    switches.set("sync", "disabled")

    result = run(agent, hz, "--once", "--lane", "sync=sync-urgent+sync-main")

    assert result.returncode == 0, result.stderr
    assert hz.state["supervisors"] == {"sync-urgent": "paused", "sync-main": "paused"}


def test_lanes_already_as_switched_are_left_alone(agent, switches, horizon):
    hz = horizon(image="paused", bulk="running")
    switches.set("image", "disabled")
    switches.set("bulk", "enabled")

    result = run(agent, hz, "--once", "--lane", "image,bulk")

    assert (result.returncode, result.stdout, result.stderr) == (0, "", "")
    assert hz.state["signals"] == []


def test_a_missing_switch_leaves_that_lane_alone_and_applies_the_others(agent, switches, horizon):
    hz = horizon(image="running", bulk="running")
    switches.set("bulk", "disabled")

    result = run(agent, hz, "--once", "--lane", "image,bulk")

    assert result.returncode == 1
    assert "the parameter does not exist; left the lane as it is" in result.stderr
    assert hz.state["supervisors"] == {"image": "running", "bulk": "paused"}


def test_an_unreadable_switch_value_leaves_that_lane_alone(agent, switches, horizon):
    hz = horizon(image="running")
    switches.set("image", "off")

    result = run(agent, hz, "--once", "--lane", "image")

    assert result.returncode == 1
    assert 'the switch says \\"off\\", not enabled or disabled' in result.stderr
    assert hz.state["signals"] == []


def test_unreachable_ssm_changes_nothing_and_says_so(agent, switches, horizon):
    hz = horizon(image="running")

    result = run(agent, hz, "--once", "--lane", "image", endpoint=f"http://127.0.0.1:{free_port()}")

    assert result.returncode == 1
    assert "could not read the host-consumer switches from SSM, changed nothing" in result.stderr
    assert hz.state["signals"] == []


def test_a_supervisor_horizon_does_not_have_is_reported_and_the_others_applied(agent, switches, horizon):
    hz = horizon(image="running")
    switches.set("image", "disabled")
    switches.set("bulk", "disabled")

    result = run(agent, hz, "--once", "--lane", "image,bulk")

    assert result.returncode == 1
    assert "horizon:supervisor-status bulk: ERROR Unable to find a supervisor with this name." in result.stderr
    assert "no such supervisor in config/horizon.php" in result.stderr
    assert hz.state["supervisors"] == {"image": "paused"}


def test_horizon_not_running_changes_nothing_and_says_so_per_lane(agent, switches, horizon):
    hz = horizon(running=False, image="running")
    switches.set("image", "disabled")

    result = run(agent, hz, "--once", "--lane", "image")

    assert result.returncode == 1
    assert "Horizon not running on this host" in result.stderr
    assert hz.state["signals"] == []


def test_a_signal_horizon_could_not_send_is_an_error(agent, switches, horizon):
    hz = horizon(image="running")
    state = hz.state
    state["fail_signal"] = True
    hz.write(state)
    switches.set("image", "disabled")

    result = run(agent, hz, "--once", "--lane", "image")

    assert result.returncode == 1
    assert "horizon:pause-supervisor image:" in result.stderr
    assert "Failed to send USR2 signal" in result.stderr


def test_check_lists_the_lanes_without_a_supervisor_and_changes_nothing(agent, horizon):
    hz = horizon(image="running", bulk="paused")

    result = run(agent, hz, "--check", "--lane", "image,bulk,sync")

    assert result.returncode == 1
    assert "lane=sync" in result.stderr and "pausing this lane would find nothing" in result.stderr
    assert "lane=image" in result.stdout and "lane=bulk" in result.stdout
    assert hz.state["signals"] == []
    ok = run(agent, hz, "--check", "--lane", "image,bulk")
    assert ok.returncode == 0, ok.stderr


def test_check_is_refused_outside_horizon_mode(agent):
    result = agent().run("--check", "--lane", "image")
    assert result.returncode == 2
    assert "--check applies to Horizon mode (--horizon)" in result.stderr
