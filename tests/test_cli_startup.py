"""`r42` run directly on a busy machine: its own longer wait for Prefect's temporary server, and
one line saying what to do when even that is not enough."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from cli.errors import EPHEMERAL_STARTUP, allow_slow_prefect_start, explain

ROOT = Path(__file__).resolve().parents[1]


def test_r42_waits_120_s_for_the_temporary_server_unless_told_otherwise(monkeypatch):
    monkeypatch.delenv(EPHEMERAL_STARTUP, raising=False)
    allow_slow_prefect_start()
    assert os.environ[EPHEMERAL_STARTUP] == "120"
    monkeypatch.setenv(EPHEMERAL_STARTUP, "300")
    allow_slow_prefect_start()
    assert os.environ[EPHEMERAL_STARTUP] == "300"


def test_a_server_too_slow_to_start_is_one_line_saying_what_to_do(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "R42_"))}
    env.update(
        PYTHONPATH=str(ROOT),
        PREFECT_HOME=str(tmp_path / ".prefect"),  # fresh: its database is made first (> 1 s)
        PREFECT_SERVER_ANALYTICS_ENABLED="false",
        **{EPHEMERAL_STARTUP: "1"},
    )
    assert subprocess.run(
        [sys.executable, "-m", "cli.main", "load-registry"], cwd=tmp_path, env=env, timeout=120
    ).returncode == 0
    done = subprocess.run(
        [sys.executable, "-m", "cli.main", "open-cycle", "--year", "2026"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 2, done.stderr[-2000:]
    (last,) = [line for line in done.stderr.splitlines() if line.startswith("r42 open-cycle:")]
    assert "Traceback" not in done.stderr
    assert last.startswith("r42 open-cycle: Timed out while attempting to connect to ephemeral")
    assert f"(waited 1 s): the machine is busy; set {EPHEMERAL_STARTUP} higher" in last
    assert "stdout:" not in last


def test_other_messages_are_left_alone():
    assert explain("no annual cycle 2026") == "no annual cycle 2026"
