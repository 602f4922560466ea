"""``r42 check``'s look at Prefect: the API answers, the deployments of ``prefect.yaml`` are
there with their schedules and work pool, a worker polls it, and results go to storage every
worker can read. Without PREFECT_API_URL the flows run on a temporary local server: fine for
the demo, but nothing is scheduled."""

from __future__ import annotations

import datetime as dt
import os

from cli.check_rows import FAIL, OK, WARN, Row
from flows.serve import deployment_specs


async def check_prefect() -> list[Row]:
    from prefect.client.orchestration import get_client
    from prefect.exceptions import ObjectNotFound
    from prefect.settings import get_current_settings

    url = get_current_settings().api.url
    if not url:
        return [
            Row(
                WARN,
                "prefect",
                "PREFECT_API_URL is not set: flows run on a temporary local server, no schedule "
                "fires; set it to the Prefect server's API for production",
            )
        ]
    rows: list[Row] = []
    async with get_client() as client:
        failure = await client.api_healthcheck()
        if failure is not None:
            return [Row(FAIL, "prefect", f"PREFECT_API_URL={url} unreachable: {failure}")]
        rows.append(Row(OK, "prefect", f"API at {url} answers"))
        specs = deployment_specs()
        deployments = {d.name: d for d in await client.read_deployments()}
        pools = set()
        for spec in specs:
            found = deployments.get(spec["name"])
            if found is None:
                rows.append(
                    Row(
                        FAIL,
                        "prefect",
                        f"deployment {spec['name']} missing: run `prefect deploy --all` with "
                        "R42_PROJECT_DIR set to the code's path on the workers",
                    )
                )
                continue
            pool = spec["work_pool"]["name"]
            pools.add(pool)
            wanted = {s.get("slug") for s in spec.get("schedules", [])}
            have = {s.slug for s in found.schedules if s.active}
            if found.work_pool_name != pool:
                rows.append(
                    Row(FAIL, "prefect", f"deployment {spec['name']} runs on "
                        f"{found.work_pool_name!r}, prefect.yaml says {pool!r}: deploy again")
                )  # fmt: skip
            elif wanted - have or found.paused:
                missing = ", ".join(sorted(x for x in wanted - have if x)) or "paused"
                rows.append(
                    Row(WARN, "prefect", f"deployment {spec['name']}: schedules not active "
                        f"({missing}): resume it in the UI or deploy again")
                )  # fmt: skip
        if not [r for r in rows if r.status != OK]:
            rows.append(Row(OK, "prefect", f"{len(specs)} deployments of prefect.yaml present"))
        for pool in sorted(pools):
            try:
                await client.read_work_pool(pool)
            except ObjectNotFound:
                rows.append(Row(FAIL, "prefect", f"work pool {pool} missing: "
                                f"`prefect work-pool create {pool} --type process`"))  # fmt: skip
                continue
            now = dt.datetime.now(dt.UTC)
            alive = [
                w.name
                for w in await client.read_workers_for_work_pool(pool)
                if w.last_heartbeat_time
                and now - w.last_heartbeat_time
                < dt.timedelta(seconds=3 * (w.heartbeat_interval_seconds or 30))
            ]
            if alive:
                rows.append(Row(OK, "prefect", f"work pool {pool}: {len(alive)} worker(s) polling"))
            else:
                rows.append(Row(FAIL, "prefect", f"no worker polling {pool}: start "
                                f"`prefect worker start --pool {pool}`"))  # fmt: skip
        storage = await client.read_server_default_result_storage()
        if storage.default_result_storage_block_id or os.environ.get(
            "PREFECT_RESULTS_DEFAULT_STORAGE_BLOCK"
        ):
            rows.append(Row(OK, "prefect", "result storage shared by the workers"))
        else:
            rows.append(
                Row(
                    FAIL,
                    "prefect",
                    "no shared result storage: a suspended submission cannot resume on another "
                    "worker; set the server's default (see README, Shared result storage)",
                )
            )
    return rows
