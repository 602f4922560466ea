"""Serve every deployment of ``prefect.yaml`` from one process, schedules included.

Used by ``make serve`` on one machine: a local Prefect server runs the scheduler and this
process runs the flows. The deployments and schedules are read from ``prefect.yaml`` so there
is one definition of them.
"""

from __future__ import annotations

import argparse
import importlib
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

from prefect import serve
from prefect.schedules import Cron, Interval
from prefect.settings import PREFECT_API_URL, temporary_settings

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


def wait_for_server(url: str, seconds: int = 120) -> None:
    for _ in range(seconds):
        try:
            urllib.request.urlopen(f"{url}/health", timeout=2)
            return
        except OSError:
            time.sleep(1)
    raise RuntimeError(f"the Prefect server at {url} did not answer within {seconds} s")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--local-server",
        action="store_true",
        help="start `prefect server start` on 127.0.0.1:4200 and stop it on exit",
    )
    args = parser.parse_args(argv)
    if not args.local_server:
        serve(*build_deployments())
        return
    url = "http://127.0.0.1:4200/api"
    with open(".prefect-server.log", "ab") as log:
        server = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "prefect",
                "server",
                "start",
                "--host",
                "127.0.0.1",
                "--port",
                "4200",
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        wait_for_server(url)
        with temporary_settings({PREFECT_API_URL: url}):
            serve(*build_deployments())
    finally:
        server.terminate()
        server.wait(timeout=30)


if __name__ == "__main__":
    main()
