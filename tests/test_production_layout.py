"""The production layout as ops run it: `python -m ops.production up|down|status|restart`.

Run the way cron, systemd or ssh without a tty run it: no terminal (stdin from /dev/null,
output to a pipe) and COLUMNS=80, so any table a command prints is cut. Up, up again, down,
up again; the secrets made once (mode 600) and reused; the server refusing a call without its
login; env.sh giving a shell `prefect` and `r42`; a stale pid file naming another process
left alone; a worker killed with SIGKILL started again by the next `up`.
"""

from __future__ import annotations

import base64
import os
import re
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import pytest

from ops.layout_secrets import read
from ops.processes import command_line, descendants, is_zombie, start_time
from tests.servers import free_port

ROOT = Path(__file__).resolve().parents[1]
PLACEHOLDER = "change-me-in-production-not-a-secret"
pytestmark = pytest.mark.postgres


class Ops:
    """One layout on free ports, driven through its command line only."""

    def __init__(self) -> None:
        self.state = Path(tempfile.mkdtemp(prefix="r42-layout-"))
        self.state.chmod(0o755)  # the postgres user keeps its cluster inside
        self.api = free_port()
        self.ports = [
            "--state", str(self.state), "--pg-port", str(free_port()),
            "--api-port", str(self.api), "--portal-port", str(free_port()),
        ]  # fmt: skip

    def __call__(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "R42_"))}
        env.update(COLUMNS="80", LINES="24", TERM="dumb")
        done = subprocess.run(
            [sys.executable, "-m", "ops.production", *args, *self.ports],
            cwd=ROOT,
            env=env,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=400,
        )
        if check:
            assert done.returncode == 0, done.stdout + done.stderr
        return done

    def pid(self, name: str) -> int:
        import json

        return json.loads((self.state / "pids" / f"{name}.pid").read_text())["pid"]

    def environ(self, name: str) -> dict[str, str]:
        raw = Path(f"/proc/{self.pid(name)}/environ").read_bytes().split(b"\0")
        return dict(item.decode().split("=", 1) for item in raw if b"=" in item)


@pytest.fixture(scope="module")
def ops():
    layout = Ops()
    try:
        yield layout
    finally:
        layout("down", check=False)
        shutil.rmtree(layout.state, ignore_errors=True)


def private(path: Path) -> bool:
    return stat.S_IMODE(path.stat().st_mode) == 0o600


def test_up_down_up_without_a_terminal_keeps_secrets_login_and_pids_straight(ops):
    first = ops("up")
    assert "work pool r42-process: created" in first.stdout
    assert "Started: prefect-server, r42-worker-1, r42-worker-2, portal" in first.stdout

    # The secrets: made once, strong, private, and what every part runs with.
    secrets = read(ops.state / "secrets.env")
    link, login = secrets["R42_WEB_FORM__LINK_SECRET"], secrets["PREFECT_API_AUTH_STRING"]
    assert len(link) >= 32 and link != PLACEHOLDER
    assert login.startswith("r42:") and len(login) >= 36
    assert private(ops.state / "secrets.env") and private(ops.state / "env.sh")
    assert ops.environ("portal")["R42_WEB_FORM__LINK_SECRET"] == link
    assert ops.environ("prefect-server")["PREFECT_SERVER_API_AUTH_STRING"] == login
    for worker in ("r42-worker-1", "r42-worker-2"):
        assert ops.environ(worker)["PREFECT_API_AUTH_STRING"] == login

    # The server refuses an API call without its login, or with a wrong one.
    api = f"http://127.0.0.1:{ops.api}/api"
    assert httpx.get(f"{api}/health").status_code == 200  # probes stay open
    assert httpx.post(f"{api}/deployments/filter", json={}).status_code == 401
    wrong = base64.b64encode(b"r42:guess").decode()
    headers = {"Authorization": f"Basic {wrong}"}
    assert httpx.post(f"{api}/deployments/filter", json={}, headers=headers).status_code == 401
    listed = httpx.post(f"{api}/deployments/filter", json={}, auth=tuple(login.split(":", 1)))
    assert listed.status_code == 200 and len(listed.json()) >= 9

    # A clean login shell (cron's PATH) gets `prefect` and `r42` from env.sh, logged in.
    shell = subprocess.run(
        ["bash", "-c", f". {ops.state / 'env.sh'} && command -v prefect r42 && "
         "prefect work-pool inspect r42-process >/dev/null && r42 --help >/dev/null"],
        env={"HOME": os.environ.get("HOME", "/root"), "PATH": "/usr/bin:/bin", "COLUMNS": "80"},
        stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert shell.returncode == 0, shell.stdout + shell.stderr
    venv = Path(sys.executable).parent
    assert shell.stdout.split() == [str(venv / "prefect"), str(venv / "r42")]

    # A second start while up changes nothing and says so.
    again = ops("up")
    assert "work pool r42-process: exists" in again.stdout
    assert "Started: nothing, every part was already running" in again.stdout

    # A worker killed with SIGKILL is started again by its supervisor; the supervisor killed
    # with it (the whole tree): status says so, and the next `up` starts that worker only.
    killed = ops.pid("r42-worker-1")
    (worker,) = [p for p in descendants(killed) if "worker" in " ".join(command_line(p) or [])]
    os.kill(worker, signal.SIGKILL)
    deadline = time.monotonic() + 20
    while not any("worker" in " ".join(command_line(p) or []) for p in descendants(killed)):
        assert time.monotonic() < deadline, "the supervisor did not start the worker again"
        time.sleep(0.2)
    assert "r42-worker-1     running" in ops("status").stdout
    for pid in [killed, *descendants(killed)]:
        os.kill(pid, signal.SIGKILL)
    deadline = time.monotonic() + 10
    while "r42-worker-1     stopped" not in ops("status").stdout:
        assert time.monotonic() < deadline
        time.sleep(0.2)
    assert "Started: r42-worker-1\n" in ops("up").stdout
    assert ops.pid("r42-worker-1") != killed

    # SIGINT (a Ctrl-C) to the web form and to a worker's supervisor: each is gone within
    # 10 s, the worker with it; `up` starts both again.
    for name in ("portal", "r42-worker-2"):
        pid = ops.pid(name)
        tree = [pid, *descendants(pid)]
        started = time.monotonic()
        os.kill(pid, signal.SIGINT)
        while any(start_time(p) is not None and not is_zombie(p) for p in tree):
            assert time.monotonic() - started < 10, f"{name} still running 10 s after SIGINT"
            time.sleep(0.1)
    assert "Started: r42-worker-2, portal\n" in ops("up").stdout

    # Down (SIGTERM, each part gone within 10 s), then up again as cron would: same secrets,
    # everything back.
    stopped = dict(re.findall(r"^(\S+): stopped in ([\d.]+) s$", ops("down").stdout, re.M))
    assert sorted(stopped) == ["portal", "prefect-server", "r42-worker-1", "r42-worker-2"]
    assert all(float(took) < 10 for took in stopped.values()), stopped
    assert "running" not in ops("status").stdout
    second = ops("up")
    assert "Started: prefect-server, r42-worker-1, r42-worker-2, portal" in second.stdout
    assert read(ops.state / "secrets.env") == secrets
    ops("down")


def test_down_signals_only_the_processes_the_layout_started(ops):
    """A pid file left behind (a crash, a reboot) may name someone else's process by now."""
    ops("up")
    ops("down")
    bystander = subprocess.Popen(["sleep", "300"], start_new_session=True)
    legacy = subprocess.Popen(["sleep", "301"], start_new_session=True)
    try:
        import json

        pids = ops.state / "pids"
        # Same pid, another start time: what a recycled pid looks like.
        record = {
            "pid": bystander.pid,
            "start_time": start_time(bystander.pid) - 1,
            "command": command_line(bystander.pid),
        }
        (pids / "portal.pid").write_text(json.dumps(record))
        (pids / "r42-worker-1.pid").write_text(str(legacy.pid))  # a bare pid, as files were
        out = ops("down").stdout
        assert f"portal: pid {bystander.pid} is another process now: not signalled" in out
        assert f"r42-worker-1: pid {legacy.pid} is another process now: not signalled" in out
        time.sleep(0.5)
        assert bystander.poll() is None and legacy.poll() is None
        assert not any(pids.glob("*.pid"))
    finally:
        bystander.kill()
        legacy.kill()
        bystander.wait()
        legacy.wait()
