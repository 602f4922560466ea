"""Deadline day at the web form: N agencies post their reports at once, for a bounded time.

    .venv/bin/python -m benchmarks.portal_spike [--agencies 50] [--seconds 20]
        [--backends sqlite,postgresql] [--pg-workers 2]

Each backend gets a fresh database with N generated communes (34 targets, 7 task groups each:
``benchmarks.national_cycle.generated_registry``) and a cycle open; ``r42 portal``'s app runs in
its own process (uvicorn; PostgreSQL with ``--pg-workers`` processes), loopback only. Every
agency opens its link, then submits again and again (each post a little different, so each is
a new revision) until the time is up. Printed per backend: submissions/s, p50/p99 latency,
errors, the latency of the last tenth against the first (flat as revisions accumulate: the
baseline measured in the same run), the server's CPU per submission, and the check that every
acknowledged post was stored once and has one receipt.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import secrets
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
from sqlalchemy import create_engine, text

ROOT = Path(__file__).resolve().parent.parent
SECRET = secrets.token_urlsafe(48)


def prepare(url: str, count: int, base: str) -> list[dict]:
    """A fresh database with ``count`` communes and the 2026 cycle open; their links."""
    os.environ.update(
        {
            "R42_DATABASE__URL": url,
            "R42_WEB_FORM__LINK_SECRET": SECRET,
            "R42_WEB_FORM__PUBLIC_BASE_URL": base,
            "R42_MAIL__ALLOWED_DOMAINS": ".example",
        }
    )
    from benchmarks.national_cycle import OPENED, PROGRAMME, generated_registry
    from config.settings import get_settings
    from models.cycles import ensure_requests, open_cycle
    from models.database import get_engine, session_scope, upgrade_database
    from models.registry_store import load_registry
    from reporting.messages import link_for

    get_settings.cache_clear()
    get_engine.cache_clear()
    upgrade_database(url)
    with session_scope(url) as session:
        load_registry(generated_registry(count), session=session)
    with session_scope(url) as session:
        cycle, _ = open_cycle(PROGRAMME, 2026, OPENED, session=session)
        agencies = [
            {
                "path": "/bao-cao/" + link_for(r, get_settings())[0].rsplit("/", 1)[1],
                "indicators": [(i.code, i.kind) for i in r.agency.indicators],
                "groups": [g.code for g in r.agency.task_groups],
            }
            for r in ensure_requests(cycle, session=session)
        ]
    get_engine(url).dispose()
    return agencies


def start(url: str, port: int, workers: int, folder: Path) -> subprocess.Popen:
    env = {
        **os.environ,
        "R42_DATABASE__URL": url,
        "R42_MAIL__OUTBOX_DIR": str(folder / "outbox"),
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "portal.app:create_app", "--factory",
         "--host", "127.0.0.1", "--port", str(port), "--log-level", "warning",
         "--workers", str(workers)],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=open(folder / "portal.log", "wb"),
    )  # fmt: skip
    for _ in range(600):
        try:
            if httpx.get(f"http://127.0.0.1:{port}/health").status_code == 200:
                return process
        except httpx.TransportError:
            time.sleep(0.1)
    raise RuntimeError((folder / "portal.log").read_text())


def form(agency: dict, csrf: str, n: int) -> dict[str, str]:
    fields = {"csrf_token": csrf, "action": "submit"}
    for code, kind in agency["indicators"]:
        fields[f"value__{code}"] = {"yes_no": "có", "count": str(n + 1)}.get(kind, f"{n % 90},5")
    for group in agency["groups"]:
        fields[f"status__{group}"] = "done"
        fields[f"results__{group}"] = f"Đã thực hiện, lần gửi {n + 1}."
    return fields


async def agency_posts(base: str, agency: dict, until: float, samples: list, errors: list) -> int:
    async with httpx.AsyncClient(base_url=base, timeout=60) as client:
        page = await client.get(agency["path"])
        csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
        n = 0
        while time.monotonic() < until:
            started = time.monotonic()
            response = await client.post(agency["path"], data=form(agency, csrf, n))
            samples.append((started, time.monotonic() - started))
            if response.status_code == 303 and "khong-doi" not in response.headers["location"]:
                n += 1
            else:
                errors.append(response.status_code)
        return n


def server_cpu(pid: int) -> float:
    """CPU seconds of the server process and its children (uvicorn's workers)."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0.0
    pids = [pid] + [
        int(p) for p in os.listdir("/proc") if p.isdigit() and _parent(int(p)) == pid
    ]
    for one in pids:
        try:
            fields = Path(f"/proc/{one}/stat").read_text().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / ticks
        except (FileNotFoundError, IndexError):
            pass
    return total


def _parent(pid: int) -> int:
    try:
        return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])
    except (FileNotFoundError, IndexError):
        return -1


def run(backend: str, url: str, args: argparse.Namespace, folder: Path) -> dict:
    from tests.servers import free_port

    port = free_port()
    base = f"http://127.0.0.1:{port}"
    agencies = prepare(url, args.agencies, base)
    workers = args.pg_workers if backend == "postgresql" else 1
    process = start(url, port, workers, folder)
    try:
        cpu_before = server_cpu(process.pid)
        samples: list = []
        errors: list = []
        until = time.monotonic() + args.seconds

        async def everyone() -> list[int]:
            return await asyncio.gather(
                *(agency_posts(base, a, until, samples, errors) for a in agencies)
            )

        started = time.monotonic()
        done = asyncio.run(everyone())
        elapsed = time.monotonic() - started
        cpu = server_cpu(process.pid) - cpu_before
        time.sleep(2)  # the last receipts leave after their responses
    finally:
        process.terminate()
        process.wait(30)
    engine = create_engine(url)
    with engine.connect() as connection:
        stored = connection.execute(
            text("select count(*) from submission")
        ).scalar_one()
        top = connection.execute(
            text("select coalesce(sum(m), 0) from (select max(revision) m from submission group by request_id) t")
        ).scalar_one()
    engine.dispose()
    latencies = sorted(s[1] for s in samples)
    ordered = [s[1] for s in sorted(samples)]
    tenth = max(len(ordered) // 10, 1)
    receipts = len(list((folder / "outbox").glob("*-receipt-*.eml")))
    total = sum(done)
    return {
        "backend": f"{backend} ({workers} process{'es' if workers > 1 else ''})",
        "rate": total / elapsed,
        "p50": latencies[len(latencies) // 2] * 1000,
        "p99": latencies[int(len(latencies) * 0.99) - 1] * 1000,
        "errors": len(errors),
        "flat": (sum(ordered[-tenth:]) / tenth) / (sum(ordered[:tenth]) / tenth),
        "cpu_ms": cpu / max(total, 1) * 1000,
        "once": stored == total == top and receipts == total,
        "revisions": total / len(agencies),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--agencies", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--pg-workers", type=int, default=2)
    args = parser.parse_args(argv)
    backends = args.backends.split(",")
    rows = []
    cluster = None
    with tempfile.TemporaryDirectory(prefix="r42-spike-") as tmp:
        try:
            for backend in backends:
                folder = Path(tmp) / backend
                folder.mkdir()
                if backend == "sqlite":
                    url = f"sqlite:///{folder / 'r42.sqlite3'}"
                else:
                    from tests.servers import PostgresCluster

                    cluster = PostgresCluster()
                    server = cluster.start()
                    admin = create_engine(server, isolation_level="AUTOCOMMIT")
                    with admin.connect() as connection:
                        connection.execute(text('CREATE DATABASE "spike"'))
                    admin.dispose()
                    url = server.rsplit("/", 1)[0] + "/spike"
                rows.append(run(backend, url, args, folder))
        finally:
            if cluster is not None:
                cluster.stop()
    print(f"{args.agencies} agencies posting at once for {args.seconds:g} s")
    print("| backend | submissions/s | p50 ms | p99 ms | errors | last/first tenth latency "
          "| server CPU ms/submission | revisions/agency | stored and receipted once |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---|")
    for r in rows:
        print(f"| {r['backend']} | {r['rate']:.1f} | {r['p50']:.0f} | {r['p99']:.0f} "
              f"| {r['errors']} | {r['flat']:.2f} | {r['cpu_ms']:.1f} | {r['revisions']:.0f} "
              f"| {'yes' if r['once'] else 'NO'} |")
    return 0 if all(r["once"] and not r["errors"] for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
