"""Serve every deployment of ``prefect.yaml`` from one process, schedules included.

Used by ``make serve`` on one machine: a local Prefect server runs the scheduler and this
process runs the flows. The deployments and schedules are read from ``prefect.yaml`` so there
is one definition of them.
"""

from __future__ import annotations

import argparse
import importlib
import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

from prefect import serve
from prefect.schedules import Cron, Interval

from config.yaml_files import load_yaml

PREFECT_YAML = Path(__file__).resolve().parents[1] / "prefect.yaml"


def deployment_specs(path: Path = PREFECT_YAML) -> list[dict[str, Any]]:
    return load_yaml(path)["deployments"]  # a key written twice is refused with its line


def load_flow(entrypoint: str) -> Any:
    file, _, name = entrypoint.partition(":")
    module = importlib.import_module(file.removesuffix(".py").replace("/", "."))
    return getattr(module, name)


def build_deployments(path: Path = PREFECT_YAML) -> list[Any]:
    deployments = []
    for spec in deployment_specs(path):
        schedules = [
            Cron(s["cron"], timezone=s["timezone"], slug=s["slug"])
            if "cron" in s
            else Interval(s["interval"], timezone=s["timezone"], slug=s["slug"])
            for s in spec.get("schedules") or []
        ]
        deployments.append(
            load_flow(spec["entrypoint"]).to_deployment(
                name=spec["name"],
                description=spec.get("description"),
                parameters=spec.get("parameters") or {},
                schedules=schedules,
            )
        )
    return deployments


def wait_for_server(url: str, seconds: int = 120, stopping: list[int] | None = None) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and not stopping:
        try:
            urllib.request.urlopen(f"{url}/health", timeout=2)
            return
        except OSError:
            time.sleep(0.5)
    if not stopping:
        raise RuntimeError(f"the Prefect server at {url} did not answer within {seconds} s")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--local-server",
        action="store_true",
        help="start `prefect server start` on 127.0.0.1 (--port) and stop it on exit",
    )
    parser.add_argument("--port", type=int, default=4200, help="the local server's port")
    args = parser.parse_args(argv)
    if not args.local_server:
        serve(*build_deployments())  # Prefect's runner ends its runs on SIGTERM
        return
    serve_with_local_server(args.port)


def serve_with_local_server(port: int) -> None:
    """The server and the serving process, each in a session of its own, stopped in order on
    SIGINT (Ctrl-C) or SIGTERM within 10 s: the runner first (it cancels its flow runs while
    the server can still record it), then the server."""
    from ops.supervisor import shut_down

    stopping: list[int] = []
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda received, _frame: stopping.append(received))
    url = f"http://127.0.0.1:{port}/api"
    command = [sys.executable, "-m", "prefect", "server", "start", "--host", "127.0.0.1"]
    with open(".prefect-server.log", "ab") as log:
        server = subprocess.Popen(
            [*command, "--port", str(port)],
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    runner = None
    try:
        wait_for_server(url, stopping=stopping)
        if not stopping:
            env = {**os.environ, "PREFECT_API_URL": url}
            runner = subprocess.Popen([sys.executable, "-m", "flows.serve"], env=env)
            while not stopping and runner.poll() is None:
                time.sleep(0.2)
    finally:
        if runner is not None:
            shut_down("serve", runner, grace=5)
        shut_down("prefect-server", server, grace=3)


if __name__ == "__main__":
    main()
