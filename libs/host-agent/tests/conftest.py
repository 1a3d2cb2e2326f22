"""Real servers for the host agent's tests, on this machine only.

moto's SSM runs in this process (ThreadedMotoServer) on 127.0.0.1 and a free
port, for the whole session. Each test gets a supervisord of its own
(Debian's package; `bash tools/bootstrap.sh --test` installs it) with its
config, unix socket and logs in a temporary folder, never the system's, and its
programs running as the current user. The agent runs as a separate process, as
cron or systemd would run it, so its exit status and output are what is tested.
"""

from __future__ import annotations

import functools
import http.client
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import uuid
import xmlrpc.client
from pathlib import Path
from typing import Dict, List, Optional

import boto3
import pytest

HERE = Path(__file__).resolve().parent
AGENT = HERE.parent / "src" / "queue_lanes_host_agent.py"
FAKE_WORKER = HERE / "fake_worker.py"
REGION = "eu-west-2"
# Seconds the fake worker spends on its job after SIGTERM; supervisord must wait that out.
JOB_SECONDS = 0.3
STOPWAITSECS = 10

# Credentials and config from nowhere but here: no ~/.aws, no instance metadata lookups.
AWS_ENV = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_DEFAULT_REGION": REGION,
    "AWS_EC2_METADATA_DISABLED": "true",
    "AWS_CONFIG_FILE": os.devnull,
    "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
}


@functools.lru_cache(maxsize=None)
def load_agent():
    """The agent's file as a module, for what the tests share with it (the switch's name, parsing)."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("queue_lanes_host_agent", AGENT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until(what: str, ready, timeout: float = 10.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = ready()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"{what} within {timeout:.0f} s")


@pytest.fixture(scope="session")
def moto_endpoint():
    from moto.server import ThreadedMotoServer

    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    yield f"http://127.0.0.1:{port}"
    server.stop()


@pytest.fixture
def ssm(moto_endpoint):
    session = boto3.session.Session(aws_access_key_id="testing", aws_secret_access_key="testing", region_name=REGION)
    return session.client("ssm", endpoint_url=moto_endpoint)


@pytest.fixture
def environment() -> str:
    """An environment name of the test's own, so tests share moto without seeing each other's parameters."""
    return f"t{uuid.uuid4().hex[:10]}"


class Switches:
    """The parameters stack's host-consumer switches for one environment, in moto."""

    def __init__(self, ssm, app: str, environment: str):
        self.ssm, self.app, self.environment = ssm, app, environment

    def set(self, lane: str, value: str) -> None:
        # The agent's own name for it; libs/ssm-parameters' host-switch-agent.test.ts holds it to the stack's.
        self.ssm.put_parameter(
            Name=load_agent().switch_name(self.app, self.environment, lane),
            Value=value,
            Type="String",
            Overwrite=True,
        )


@pytest.fixture
def switches(ssm, environment) -> Switches:
    return Switches(ssm, "propertyfeed", environment)


class Agent:
    def __init__(self, endpoint: str, supervisor: Optional["Supervisord"], environment: str):
        self.endpoint, self.supervisor, self.environment = endpoint, supervisor, environment

    def command(self, *args: str) -> List[str]:
        base = [sys.executable, str(AGENT), "--app", "propertyfeed", "--environment", self.environment]
        if self.supervisor:
            base += ["--supervisor-config", str(self.supervisor.config)]
        return base + list(args)

    def env(self, endpoint: Optional[str] = None, **extra: str) -> Dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
        return {**env, **AWS_ENV, "AWS_ENDPOINT_URL_SSM": endpoint or self.endpoint, **extra}

    def run(self, *args: str, endpoint: Optional[str] = None, **extra_env: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            self.command(*args), env=self.env(endpoint, **extra_env), capture_output=True, text=True, timeout=60
        )


class _UnixTransport(xmlrpc.client.Transport):
    def __init__(self, path: Path):
        super().__init__()
        self.path = str(path)

    def make_connection(self, host):
        connection = http.client.HTTPConnection("localhost", timeout=10)
        connection.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        connection.sock.settimeout(10)
        connection.sock.connect(self.path)
        return connection


class Supervisord:
    """A supervisord with one program per lane (`queue-<lane>`), each running fake_worker.py."""

    def __init__(self, programs: Dict[str, Dict[str, object]], sections: Optional[str] = None):
        """`programs`: per lane, `numprocs`, `autostart` and `numbered` (process names end in
        _00, _01...; the default when numprocs > 1). `sections` replaces the generated
        [program:...] sections, which must then run fake_worker.py as these would."""
        # A short folder: a unix socket's path must fit in 108 bytes.
        self.dir = Path(tempfile.mkdtemp(prefix="ql-sv-", dir="/tmp" if os.path.isdir("/tmp") else None))
        self.config = self.dir / "supervisord.conf"
        self.socket = self.dir / "supervisor.sock"
        self.programs = programs
        self.sections = sections
        self.config.write_text(self._config())
        self.process: Optional[subprocess.Popen] = None

    def _config(self) -> str:
        lines = [
            "[unix_http_server]",
            "file=%(here)s/supervisor.sock",
            "chmod=0700",
            "[supervisord]",
            "nodaemon=true",
            "logfile=%(here)s/supervisord.log",
            "pidfile=%(here)s/supervisord.pid",
            "childlogdir=%(here)s",
            "[rpcinterface:supervisor]",
            "supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface",
            "[supervisorctl]",
            "serverurl=unix://%(here)s/supervisor.sock",
        ]
        if self.sections is not None:
            return "\n".join(lines) + "\n" + self.sections
        for lane, spec in self.programs.items():
            numprocs = int(spec.get("numprocs", 1))
            lines += [
                f"[program:queue-{lane}]",
                f"command={sys.executable} {FAKE_WORKER} %(here)s/{lane}-%(process_num)02d.marker {JOB_SECONDS}",
                f"numprocs={numprocs}",
                "process_name=%(program_name)s_%(process_num)02d" if numprocs > 1 else "process_name=%(program_name)s",
                f"autostart={'true' if spec.get('autostart', True) else 'false'}",
                "autorestart=true",
                "startsecs=0",
                "stopsignal=TERM",
                f"stopwaitsecs={STOPWAITSECS}",
                "redirect_stderr=true",
                "stdout_logfile=%(here)s/%(program_name)s-%(process_num)02d.log",
            ]
        return "\n".join(lines) + "\n"

    def start(self) -> "Supervisord":
        if not shutil.which("supervisord"):
            raise RuntimeError("supervisord is not installed: run `bash tools/bootstrap.sh --test`")
        self.process = subprocess.Popen(
            ["supervisord", "-c", str(self.config)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        expected = {}
        for lane, spec in self.programs.items():
            for process in self.processes(lane):
                expected[process] = "RUNNING" if spec.get("autostart", True) else "STOPPED"
        wait_until("supervisord did not start its programs", lambda: self.states() == expected)
        for lane, spec in self.programs.items():
            if spec.get("autostart", True):
                for num in range(int(spec.get("numprocs", 1))):
                    wait_until(f"queue-{lane} did not start", lambda: self.marker(lane, num))
        return self

    def processes(self, lane: str) -> List[str]:
        """The process names `supervisorctl status` shows for a lane's program."""
        spec = self.programs[lane]
        numprocs = int(spec.get("numprocs", 1))
        if not spec.get("numbered", numprocs > 1):
            return [f"queue-{lane}"]
        return [f"queue-{lane}:queue-{lane}_{n:02d}" for n in range(numprocs)]

    def ctl(self, *args: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            ["supervisorctl", "-c", str(self.config), *args], capture_output=True, text=True, timeout=30
        )

    def states(self) -> Dict[str, str]:
        """Every process's state, named as `supervisorctl status` names it."""
        # supervisord's XML-RPC over its socket: the test's own checks cost no process each.
        try:
            infos = xmlrpc.client.ServerProxy("http://supervisord", transport=_UnixTransport(self.socket)).supervisor.getAllProcessInfo()
        except (OSError, xmlrpc.client.Error):
            return {}
        return {
            (i["name"] if i["group"] == i["name"] else f"{i['group']}:{i['name']}"): i["statename"] for i in infos
        }

    def lane_states(self, lane: str) -> List[str]:
        states = self.states()
        return [states.get(p) for p in self.processes(lane)]

    def marker(self, lane: str, num: int = 0) -> List[str]:
        path = self.dir / f"{lane}-{num:02d}.marker"
        return path.read_text().splitlines() if path.exists() else []

    def log(self) -> str:
        path = self.dir / "supervisord.log"
        return path.read_text() if path.exists() else ""

    def stop(self) -> None:
        # SIGKILL, not a graceful shutdown, which costs seconds of supervisord's
        # one-second ticks per test; the fake workers exit once it is gone.
        if self.process and self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        shutil.rmtree(self.dir, ignore_errors=True)


@pytest.fixture
def supervisord():
    """Starts a supervisord with the given programs: `supervisord(image={}, bulk={"autostart": False})`."""
    started: List[Supervisord] = []

    def start(sections: Optional[str] = None, **programs: Dict[str, object]) -> Supervisord:
        server = Supervisord(programs, sections)
        started.append(server)
        return server.start()

    yield start
    for server in started:
        server.stop()


@pytest.fixture
def agent(moto_endpoint, environment):
    def make(supervisor: Optional[Supervisord] = None) -> Agent:
        return Agent(moto_endpoint, supervisor, environment)

    return make
