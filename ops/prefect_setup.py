"""What the layout configures on its Prefect server, through the Prefect client only.

Run by ``ops.production`` as ``python -m ops.prefect_setup ...`` with the layout's settings
(PREFECT_API_URL, PREFECT_API_AUTH_STRING), so each check asks the API what exists and never
reads the tables the ``prefect`` commands print (a narrow terminal or no tty cuts them).
Every step is idempotent: it runs again on each ``up``.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from prefect.client.orchestration import get_client
from prefect.client.schemas.actions import WorkPoolCreate
from prefect.exceptions import ObjectNotFound

from ops.automations import ensure_automations

WORK_POOL = "r42-process"
RESULTS_BLOCK = "r42-results"


def ensure_work_pool(name: str = WORK_POOL) -> str:
    """The process work pool the deployments run on, created with the worker's template."""
    from prefect.workers.process import ProcessWorker

    with get_client(sync_client=True) as client:
        try:
            client.read_work_pool(name)
            return f"work pool {name}: exists"
        except ObjectNotFound:
            pass
        client.create_work_pool(
            WorkPoolCreate(
                name=name,
                type=ProcessWorker.type,
                base_job_template=ProcessWorker.get_default_base_job_template(),
            )
        )
    return f"work pool {name}: created"


def configure_result_storage(results: Path) -> str:
    """A storage block on the shared folder, made the server's default result storage.

    Every client of this server (workers, ``r42 decide``, the UI) then reads and writes results
    there; PREFECT_RESULTS_DEFAULT_STORAGE_BLOCK would do the same per machine. Across machines
    the block is an NFS mount used the same way, or an object store block (``S3Bucket`` ...).
    """
    from prefect.filesystems import LocalFileSystem

    results.mkdir(parents=True, exist_ok=True)
    block_id = LocalFileSystem(basepath=str(results)).save(RESULTS_BLOCK, overwrite=True)
    with get_client(sync_client=True) as client:
        client.update_server_default_result_storage(block_id)
    return f"result storage local-file-system/{RESULTS_BLOCK} on {results}"


def workers(pool: str = WORK_POOL) -> list[dict]:
    """The pool's workers as the server sees them (name, status, last heartbeat)."""
    with get_client(sync_client=True) as client:
        return [
            {
                "name": w.name,
                "status": str(w.status.value if w.status else "unknown"),
                "last_heartbeat": w.last_heartbeat_time.isoformat()
                if w.last_heartbeat_time
                else None,
            }
            for w in client.read_workers_for_work_pool(pool)
        ]


def crash_orphans(pool: str = WORK_POOL) -> list[str]:
    """Runs of ``pool`` still Running or Pending once every worker of the pool is stopped: their
    processes are gone, so they are set to Crashed now (the automation then schedules each
    again once) instead of waiting for the missed heartbeats."""
    from prefect.client.schemas.filters import (
        FlowRunFilter,
        FlowRunFilterState,
        FlowRunFilterStateType,
        WorkPoolFilter,
        WorkPoolFilterName,
    )
    from prefect.client.schemas.objects import StateType
    from prefect.states import Crashed

    active = [StateType.RUNNING, StateType.PENDING]
    with get_client(sync_client=True) as client:
        runs = client.read_flow_runs(
            flow_run_filter=FlowRunFilter(
                state=FlowRunFilterState(type=FlowRunFilterStateType(any_=active))
            ),
            work_pool_filter=WorkPoolFilter(name=WorkPoolFilterName(any_=[pool])),
        )
        for run in runs:
            message = f"Its worker was stopped (ops.production down) while it was {run.state_name}"
            client.set_flow_run_state(run.id, Crashed(message=message), force=True)
    return [f"{run.name} ({run.id}): Crashed, its worker was stopped" for run in runs]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    configure = sub.add_parser("configure", help="work pool, result storage, automations")
    configure.add_argument("--results", type=Path, required=True)
    configure.add_argument("--heartbeat", type=int, required=True, help="seconds between beats")
    sub.add_parser("workers", help="the pool's workers as JSON")
    sub.add_parser("crash-orphans", help="runs left Running by stopped workers: Crashed")
    args = parser.parse_args(argv)
    if args.command == "configure":
        print(ensure_work_pool())
        print(configure_result_storage(args.results))
        for line in ensure_automations(args.heartbeat, WORK_POOL):
            print(line)
    elif args.command == "crash-orphans":
        for line in crash_orphans():
            print(line)
    else:
        print(json.dumps(workers()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
