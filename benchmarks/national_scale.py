"""National-scale cycle: one programme of 4,500 agencies, open -> remind -> consolidate.

    .venv/bin/python -m benchmarks.national_scale [--agencies 4500] [--backends sqlite,postgresql]

For each backend, in a fresh process (so that peak memory is that backend's): generate the
registry (benchmarks/national_registry.py) into a temporary folder, migrate a fresh database
(a SQLite file, or a database on a throwaway PostgreSQL cluster started here as tests/servers.py
does) and load the registry, then run the real flows under Prefect's temporary server, mail
going over SMTP to a discarding local server (benchmarks/smtp_sink.py, "minimal"):

1. open-cycle: requests created, each agency's email rendered with its own XLSX form, queued
   and sent (target < 60 s);
2. simulated submissions: 70 % of agencies report on time (the intake's record_submission);
3. send-reminders on D-7: the other 30 % are reminded, queued and sent;
4. 10 % more report late;
5. consolidate: consolidation, the draft report stored, its DOCX, XLSX annex and HTML, the
   artifacts (target < 10 s); also timed without Prefect (consolidate() + build_content() and its Markdown and HTML, the
   report files) to show where the time goes, and the chart process the flow runs beside it
   (documents/chart_process.py) alone, with its own peak memory.

Each stage prints its wall time and the process's peak RSS so far (target < 1 GB). Nothing is
sent anywhere but 127.0.0.1.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import resource
import secrets
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.national_stages import (
    at,
    chart_process_alone,
    consolidate_only,
    files_only,
    submit,
)

OPENED = dt.date(2026, 11, 2)
DEADLINE = dt.date(2026, 12, 4)  # 05/12/2026 is a Saturday
ROOT = Path(__file__).resolve().parents[1]
TARGETS = {"open-cycle": 60.0, "consolidate": 10.0, "peak_mb": 1024.0}


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run_backend(url: str, agencies: int) -> list[dict]:
    """The child: every stage on one database; returns one row per stage."""
    from benchmarks.national_registry import write_programme
    from config.registry_files import load_programme
    from models.database import session_scope, upgrade_database
    from models.registry_store import load_registry

    code = f"national-{agencies}"
    root = Path(os.environ["R42_CYCLE__PROGRAMMES_DIR"])
    write_programme(root, code, agencies, 1)
    rows: list[dict] = []

    def stage(name: str, action, detail=lambda result: "") -> object:
        start = time.perf_counter()
        try:
            result = action()
            text = detail(result)
        except Exception as exc:  # recorded in the table; the next stages still run
            result, text = None, f"FAILED: {type(exc).__name__}: {str(exc)[:100]}"
        seconds = time.perf_counter() - start
        rows.append({"stage": name, "seconds": seconds, "peak_mb": peak_mb(), "detail": text})
        print(f"  {name}: {seconds:.1f} s, {text}", file=sys.stderr, flush=True)
        return result

    def load() -> int:
        upgrade_database()
        registry = load_programme(code)
        with session_scope() as session:
            load_registry(registry, session=session)
        return len(registry.versions[0].agencies)

    from prefect import flow

    @flow(name="benchmark-warm-up")
    def warm_up() -> None:
        """Starts Prefect's temporary server, which the first flow of a process waits for."""

    from flows.consolidate import consolidate_flow
    from flows.open_cycle import open_cycle_flow
    from flows.send_reminders import send_reminders_flow

    stage("prefect temporary server", warm_up)
    stage("load registry", load, lambda n: f"{n} agencies")
    stage(
        "open-cycle (flow)",
        lambda: open_cycle_flow(year=2026, programme=code, opened_on=OPENED, as_of=at(OPENED)),
        lambda r: f"{r['queued']} queued, {r.get('sent', 0)} sent",
    )
    stage("submissions, 70 % on time", lambda: submit(code, (0, 0.7), dt.date(2026, 11, 20)), str)
    reminder_day = DEADLINE - dt.timedelta(days=7)
    stage(
        "send-reminders D-7 (flow)",
        lambda: send_reminders_flow(
            year=2026, programme=code, on=reminder_day, as_of=at(reminder_day)
        ),
        lambda r: f"{len(r['queued'])} reminded",
    )
    stage("submissions, 10 % late", lambda: submit(code, (0.7, 0.8), dt.date(2026, 12, 10)), str)
    after = dt.date(2026, 12, 11)
    stage(
        "consolidate (flow)",
        lambda: consolidate_flow(year=2026, programme=code, as_of=at(after)),
        lambda r: f"report revision {r['revision']}",
    )
    stage(
        "consolidate() + build_content() and its Markdown and HTML, no Prefect",
        lambda: consolidate_only(code, at(after)),
        str,
    )
    stage(
        "report files (DOCX, XLSX annex, HTML), no Prefect",
        lambda: files_only(code, at(after)),
        str,
    )
    stage("chart process alone (its own peak RSS)", lambda: chart_process_alone(code), str)
    return rows


def _database(backend: str, folder: Path, postgres: str | None) -> str:
    if backend == "sqlite":
        return f"sqlite:///{folder / 'r42.sqlite3'}"
    from sqlalchemy import create_engine, text

    admin = create_engine(postgres, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text("DROP DATABASE IF EXISTS r42_bench"))
        connection.execute(text("CREATE DATABASE r42_bench"))
    admin.dispose()
    return postgres.rsplit("/", 1)[0] + "/r42_bench"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--agencies", type=int, default=4500)
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--child", help=argparse.SUPPRESS)  # database URL, in the child process
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(run_backend(args.child, args.agencies)))
        return 0

    from benchmarks.smtp_sink import SmtpSink
    from tests.servers import PostgresCluster

    backends = args.backends.split(",")
    cluster = PostgresCluster() if "postgresql" in backends else None
    postgres = cluster.start() if cluster else None
    results: dict[str, list[dict]] = {}
    started = time.perf_counter()
    try:
        with SmtpSink("minimal") as sink, tempfile.TemporaryDirectory() as tmp:
            for backend in backends:
                folder = Path(tmp) / backend
                folder.mkdir()
                url = _database(backend, folder, postgres)
                env = {
                    **os.environ,
                    "R42_DATABASE__URL": url,
                    "R42_CYCLE__PROGRAMMES_DIR": str(folder / "programmes"),
                    "R42_MAIL__TRANSPORT": "smtp",
                    "R42_WEB_FORM__LINK_SECRET": secrets.token_urlsafe(48),  # smtp: no placeholder
                    "R42_MAIL__SMTP_HOST": "127.0.0.1",
                    "R42_MAIL__SMTP_PORT": str(sink.port),
                    "PYTHONPATH": str(ROOT),
                    "PREFECT_LOGGING_LEVEL": "WARNING",
                    "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
                }
                print(f"{backend}:", file=sys.stderr, flush=True)
                before = sink.messages
                child = [sys.executable, "-m", "benchmarks.national_scale", "--child", url]
                out = subprocess.run(
                    [*child, "--agencies", str(args.agencies)],
                    env=env,
                    cwd=folder,
                    check=False,
                    stdout=subprocess.PIPE,
                    text=True,
                )
                lines = out.stdout.strip().splitlines()
                failed = {"stage": "child process", "seconds": None, "peak_mb": None}
                results[backend] = (
                    json.loads(lines[-1])
                    if out.returncode == 0 and lines
                    else [{**failed, "detail": f"FAILED: exit status {out.returncode}"}]
                )
                results[backend].append(
                    {
                        "stage": "messages the SMTP sink received",
                        "seconds": None,
                        "peak_mb": None,
                        "detail": str(sink.messages - before),
                    }
                )
    finally:
        if cluster:
            cluster.stop()
    print_table(results, args.agencies, time.perf_counter() - started)
    return 0


def print_table(results: dict[str, list[dict]], agencies: int, wall: float) -> None:
    print(
        f"\nNational scale, {agencies} agencies, {dt.date.today()}, {os.cpu_count()} cores, "
        f"Python {sys.version.split()[0]}; total wall {wall:.0f} s\n"
    )
    print("| backend | stage | wall s | peak RSS MB | detail |")
    print("|---|---|---:|---:|---|")
    for backend, rows in results.items():
        for row in rows:
            seconds = "" if row["seconds"] is None else f"{row['seconds']:.1f}"
            peak = "" if row["peak_mb"] is None else f"{row['peak_mb']:.0f}"
            print(f"| {backend} | {row['stage']} | {seconds} | {peak} | {row['detail']} |")
    print(
        f"\nTargets: open-cycle < {TARGETS['open-cycle']:.0f} s, consolidate < "
        f"{TARGETS['consolidate']:.0f} s, peak < {TARGETS['peak_mb']:.0f} MB."
    )


if __name__ == "__main__":
    raise SystemExit(main())
