"""Serve every deployment of ``prefect.yaml`` from one process, schedules included.

Used by ``make serve`` on one machine: a local Prefect server runs the scheduler and this
process runs the flows. The deployments and schedules are read from ``prefect.yaml`` so there
is one definition of them.
"""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import Any

import yaml
from prefect import serve
from prefect.schedules import Cron

PREFECT_YAML = Path(__file__).resolve().parents[1] / "prefect.yaml"


def deployment_specs(path: Path = PREFECT_YAML) -> list[dict[str, Any]]:
    return yaml.safe_load(path.read_text(encoding="utf-8"))["deployments"]


def load_flow(entrypoint: str) -> Any:
    file, _, name = entrypoint.partition(":")
    module = importlib.import_module(file.removesuffix(".py").replace("/", "."))
    return getattr(module, name)


def build_deployments(path: Path = PREFECT_YAML) -> list[Any]:
    deployments = []
    for spec in deployment_specs(path):
        schedules = [Cron(s["cron"], timezone=s["timezone"], slug=s["slug"])
                     for s in spec.get("schedules") or []]
        deployments.append(load_flow(spec["entrypoint"]).to_deployment(
            name=spec["name"], description=spec.get("description"),
            parameters=spec.get("parameters") or {}, schedules=schedules))
    return deployments


def main() -> None:
    serve(*build_deployments())


if __name__ == "__main__":
    main()
