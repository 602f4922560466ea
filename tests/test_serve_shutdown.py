"""`make serve` stops within 10 s on Ctrl-C (SIGINT to its process group) or on SIGTERM.

`python -m flows.serve --local-server` starts `prefect server start` and the process serving
every deployment of prefect.yaml; both, and everything they started, must be gone within 10 s
of the signal, as for every long-running process of the project.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from ops.processes import descendants
from tests.servers import free_port

ROOT = Path(__file__).resolve().parents[1]


def start_serving(tmp_path: Path, port: int) -> subprocess.Popen:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")}
    env.update(
        PREFECT_HOME=str(tmp_path / "prefect-home"),
        PREFECT_SERVER_ANALYTICS_ENABLED="false",
        R42_DATABASE__URL=f"sqlite:///{tmp_path / 'r42.sqlite3'}",
    )
    process = subprocess.Popen(
        [sys.executable, "-m", "flows.serve", "--local-server", "--port", str(port)],
        cwd=ROOT,  # as `make serve` runs it
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,  # a terminal's foreground group, as `make serve` has
    )
    api = f"http://127.0.0.1:{port}/api"
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:  # serving: the deployments are registered
        assert process.poll() is None, "flows.serve exited on its own"
        try:
            found = httpx.post(f"{api}/deployments/filter", json={}, timeout=5).json()
            if len(found) >= 9:
                return process
        except httpx.HTTPError:
            pass
        time.sleep(1)
    raise TimeoutError("flows.serve never served its deployments")


@pytest.mark.parametrize("how", ["ctrl-c", "sigterm"])
def test_serve_with_its_local_server_stops_within_10_seconds(tmp_path, how):
    process = start_serving(tmp_path, free_port())
    tree = [process.pid, *descendants(process.pid)]
    assert len(tree) >= 3  # itself, the server, the serving process
    started = time.monotonic()
    if how == "ctrl-c":
        os.killpg(process.pid, signal.SIGINT)  # what the terminal sends the foreground group
    else:
        process.send_signal(signal.SIGTERM)
    try:
        process.wait(10)
    finally:
        left = [pid for pid in tree if Path(f"/proc/{pid}").exists() and not zombie(pid)]
        for pid in left:
            os.kill(pid, signal.SIGKILL)
    took = time.monotonic() - started
    assert not left, f"still running after {took:.1f} s: {left}"
    assert took < 10


def zombie(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z"
    except OSError:
        return True
