"""The host agent against a real supervisord and moto's SSM (see conftest.py)."""

from __future__ import annotations

import signal
import subprocess
import time
import urllib.request

import boto3

from conftest import REGION, Supervisord, free_port, wait_until


def lines(text: str):
    return [line for line in text.splitlines() if line]


def test_a_disabled_switch_stops_the_lane_gracefully(supervisord, switches, agent):
    sv = supervisord(image={"numprocs": 2}, sync={})
    switches.set("image", "disabled")
    switches.set("sync", "enabled")

    run = agent(sv).run("--once", "--lane", "image,sync")

    assert run.returncode == 0, run.stderr
    assert run.stderr == ""
    assert sv.lane_states("image") == ["STOPPED", "STOPPED"]
    # SIGTERM reached each worker and supervisord waited while it finished its job:
    # a SIGKILL would have left no "finished" line.
    for num in (0, 1):
        assert sv.marker("image", num)[1:] == ["TERM", "finished"]
        assert f"stopped: queue-image_{num:02d} (exit status 0)" in sv.log()
    assert "SIGKILL" not in sv.log()
    # The enabled lane kept its one process, untouched.
    assert sv.lane_states("sync") == ["RUNNING"]
    assert len(sv.marker("sync")) == 1
    [line] = lines(run.stdout)
    assert " level=info lane=image switch=disabled program=queue-image:* action=stop " in line
    assert "processes=queue-image:queue-image_00:RUNNING,queue-image:queue-image_01:RUNNING" in line
    assert 'result="queue-image:queue-image_00: stopped, queue-image:queue-image_01: stopped"' in line


def test_an_enabled_switch_starts_the_lane(supervisord, switches, agent):
    sv = supervisord(image={"autostart": False})
    switches.set("image", "enabled")

    run = agent(sv).run("--once", "--lane", "image")

    assert run.returncode == 0, run.stderr
    assert sv.lane_states("image") == ["RUNNING"]
    wait_until("the started worker did not record its start", lambda: sv.marker("image"))
    assert " action=start " in run.stdout


def test_lanes_already_as_switched_are_left_alone(supervisord, switches, agent):
    sv = supervisord(image={}, bulk={"autostart": False})
    switches.set("image", "enabled")
    switches.set("bulk", "disabled")
    before = sv.marker("image")

    quiet = agent(sv).run("--once", "--lane", "image", "--lane", "bulk")
    # A bare program name addresses the one process of that program.
    verbose = agent(sv).run("--once", "--lane", "image=queue-image,bulk", "--verbose")

    assert (quiet.returncode, quiet.stdout, quiet.stderr) == (0, "", "")
    assert verbose.returncode == 0
    assert [line.split(" msg=")[1] for line in lines(verbose.stdout)] == ['"already as switched"'] * 2
    assert sv.lane_states("image") == ["RUNNING"] and sv.lane_states("bulk") == ["STOPPED"]
    assert sv.marker("image") == before  # the same process, never restarted
    assert sv.marker("bulk") == []


def test_unreachable_ssm_changes_nothing_and_says_so(supervisord, switches, agent):
    sv = supervisord(image={}, bulk={"autostart": False})
    closed = f"http://127.0.0.1:{free_port()}"

    started = time.monotonic()
    run = agent(sv).run("--once", "--lane", "image,bulk", endpoint=closed)

    assert time.monotonic() - started < 15
    assert run.returncode == 1
    assert run.stdout == ""
    [line] = lines(run.stderr)
    assert " level=error lanes=image,bulk " in line
    assert "could not read the host-consumer switches from SSM, changed nothing: Could not connect to the endpoint URL" in line
    assert "Traceback" not in run.stderr
    assert sv.lane_states("image") == ["RUNNING"] and sv.lane_states("bulk") == ["STOPPED"]
    assert len(sv.marker("image")) == 1


def test_access_denied_changes_nothing_and_names_the_policy(supervisord, switches, agent, moto_endpoint, environment):
    sv = supervisord(image={})
    switches.set("image", "disabled")
    iam = boto3.client("iam", endpoint_url=moto_endpoint, region_name=REGION, aws_access_key_id="testing", aws_secret_access_key="testing")
    user = f"web-{environment}"
    iam.create_user(UserName=user)
    key = iam.create_access_key(UserName=user)["AccessKey"]

    def enforce_iam(count: str) -> None:
        request = urllib.request.Request(
            f"{moto_endpoint}/moto-api/reset-auth", data=count.encode(), method="POST", headers={"Content-Type": "text/plain"}
        )
        urllib.request.urlopen(request).close()

    # From here moto checks every request's signature and the caller's policies;
    # the user has none, as a web host whose role lacks the policy.
    enforce_iam("0")
    try:
        run = agent(sv).run(
            "--once", "--lane", "image", AWS_ACCESS_KEY_ID=key["AccessKeyId"], AWS_SECRET_ACCESS_KEY=key["SecretAccessKey"]
        )
    finally:
        enforce_iam("inf")

    assert run.returncode == 1
    [line] = lines(run.stderr)
    assert "could not read the host-consumer switches from SSM, changed nothing: " in line
    assert f"User: arn:aws:iam::123456789012:user/{user} is not authorized to perform: ssm:GetParameters" in line
    assert "attach the parameters stack's host_consumer_read_policy to this host's role" in line
    assert sv.lane_states("image") == ["RUNNING"]
    assert len(sv.marker("image")) == 1


def test_a_missing_switch_leaves_that_lane_alone_and_applies_the_others(supervisord, switches, agent, environment):
    sv = supervisord(sync={}, image={}, bulk={"autostart": False}, feeds={})
    switches.set("image", "disabled")
    switches.set("bulk", "enabled")
    switches.set("feeds", "paused")  # not a value the parameters stack writes

    run = agent(sv).run("--once", "--lane", "sync,image,bulk,feeds")

    assert run.returncode == 1
    errors = lines(run.stderr)
    assert len(errors) == 2
    assert f"lane=sync parameter=/propertyfeed/{environment}/lanes/sync/host-consumer" in errors[0]
    assert 'msg="the parameter does not exist; left the lane as it is"' in errors[0]
    assert 'the switch says \\"paused\\", not enabled or disabled; left the lane as it is' in errors[1]
    assert sv.lane_states("sync") == ["RUNNING"] and sv.lane_states("feeds") == ["RUNNING"]
    assert sv.lane_states("image") == ["STOPPED"] and sv.marker("image")[1:] == ["TERM", "finished"]
    assert sv.lane_states("bulk") == ["RUNNING"]
    assert [line.split(" lane=")[1].split()[0] for line in lines(run.stdout)] == ["image", "bulk"]


def test_a_lane_supervisord_does_not_know_is_reported_and_the_others_applied(supervisord, switches, agent):
    sv = supervisord(image={})
    switches.set("image", "disabled")
    switches.set("bulk", "disabled")

    run = agent(sv).run("--once", "--lane", "bulk=bulk-workers:*", "--lane", "image")

    assert run.returncode == 1
    [error] = lines(run.stderr)
    assert "lane=bulk switch=disabled program=bulk-workers:*" in error
    assert 'msg="supervisorctl status bulk-workers:*: bulk-workers: ERROR (no such group); left the lane as it is"' in error
    assert sv.lane_states("image") == ["STOPPED"]


def test_supervisord_not_running_changes_nothing_and_says_so(switches, agent):
    down = Supervisord({"image": {}})  # its config, never started
    switches.set("image", "disabled")
    try:
        run = agent(down).run("--once", "--lane", "image")
    finally:
        down.stop()

    assert run.returncode == 1
    [line] = lines(run.stderr)
    assert "lane=image switch=disabled program=queue-image:*" in line
    assert f"supervisorctl status queue-image:*: unix://{down.socket} no such file; left the lane as it is" in line


def test_dry_run_reports_and_changes_nothing(supervisord, switches, agent):
    sv = supervisord(image={}, bulk={"autostart": False})
    switches.set("image", "disabled")
    switches.set("bulk", "disabled")

    run = agent(sv).run("--once", "--dry-run", "--lane", "image,bulk")

    assert run.returncode == 0
    assert [line.split(" msg=")[1] for line in lines(run.stdout)] == ['"would stop"', '"already as switched"']
    assert sv.lane_states("image") == ["RUNNING"] and len(sv.marker("image")) == 1


def test_interval_follows_a_switch_flip_and_exits_on_sigterm(supervisord, switches, agent):
    sv = supervisord(image={})
    switches.set("image", "enabled")
    runner = agent(sv)
    loop = subprocess.Popen(
        runner.command("--interval", "0.2", "--lane", "image"),
        env=runner.env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        switches.set("image", "disabled")
        wait_until("the loop did not stop the lane", lambda: sv.lane_states("image") == ["STOPPED"])
        switches.set("image", "enabled")
        wait_until("the loop did not start the lane again", lambda: sv.lane_states("image") == ["RUNNING"])
        loop.send_signal(signal.SIGTERM)
        out, err = loop.communicate(timeout=10)
    finally:
        if loop.poll() is None:
            loop.kill()
    assert loop.returncode == 0
    assert err == ""
    assert [line.split(" action=")[1].split()[0] for line in lines(out)] == ["stop", "start"]


def test_usage_errors_are_one_line_with_exit_status_2(agent):
    runner = agent()
    for args, message in [
        (["--once"], "no lanes given"),
        (["--once", "--lane", "image,image"], "lane image is given twice"),
        (["--once", "--lane", "bad lane"], '"bad lane" is not a lane name'),
        (["--once", "--lane", "image=workers:*,bulk=workers:*"], "lanes image and bulk both name program workers:*"),
        (["--lane", "image"], "one of the arguments --once --interval --check is required"),
    ]:
        run = subprocess.run(runner.command(*args), env=runner.env(), capture_output=True, text=True, timeout=30)
        assert run.returncode == 2, args
        assert message in lines(run.stderr)[-1], run.stderr
        assert "Traceback" not in run.stderr


def test_without_a_region_it_says_so(agent):
    runner = agent()
    env = {k: v for k, v in runner.env().items() if k != "AWS_DEFAULT_REGION"}
    run = subprocess.run(runner.command("--once", "--lane", "image"), env=env, capture_output=True, text=True, timeout=30)
    assert run.returncode == 1
    [line] = lines(run.stderr)
    assert "pass --region or set AWS_DEFAULT_REGION" in line and "changed nothing" in line
