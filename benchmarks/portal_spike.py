"""Deadline day at the web form: N agencies post their reports at once, for a bounded time.

    .venv/bin/python -m benchmarks.portal_spike [--agencies 50] [--seconds 20]
        [--backends sqlite,postgresql] [--pg-workers 2] [--rate sqlite=50,postgresql=100]
        [--prior-revisions 100]

Each backend gets a fresh database with N generated communes (34 targets, 7 task groups each:
``benchmarks.national_cycle.generated_registry``) and a cycle open; ``r42 portal`` runs in its
own process(es) (PostgreSQL: ``R42_WEB_FORM__WORKERS=--pg-workers``), loopback only. Every agency
opens its link first; then, timed, every agency submits again and again (each post a little
different, so each is a new revision) until the time is up:

- flat out: each agency posts as soon as its previous post was answered (the most the server
  does; by Little's law the latency is then N agencies / throughput);
- paced (``--rate``): the agencies together post at the rate given (each agency every
  N/rate seconds, a post not waiting for the previous one's answer): the latency at that load.

Printed per run: submissions/s, p50/p99 latency, errors, the latency of the last tenth against
the first (flat as revisions accumulate: the baseline measured in the same run), the server's
CPU per submission (its processes, the posts only), and the check that every acknowledged post
was stored once and has one receipt.

The client keeps idle connections 5 s (httpx's default), as browsers and proxies keep theirs:
the portal keeps them longer (``cli.portal_server.KEEP_ALIVE_SECONDS``). When both said 5 s, a
post sent on a connection just as the busy portal closed it was reset (``ReadError``, paced at
100/s: 2-21 a run; nothing stored, nothing in the portal's log): an agency behind a proxy would
have met it too, so the portal changed, not this client.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import os
import re
import secrets
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import httpx
from sqlalchemy import create_engine, text

from benchmarks.smtp_sink import PostfixSink, SmtpSink, postfix_available, process_cpu_seconds
from config.registry_files import load_programme
from documents.vietnamese import format_number

ROOT = Path(__file__).resolve().parent.parent
SECRET = secrets.token_urlsafe(48)
OPENED_AT = dt.datetime(2026, 11, 3, 3, tzinfo=dt.UTC)
PLAUSIBLE = {t.code: t.plausible for t in load_programme("vinh-long-r42").programme.targets}


def prepare(url: str, count: int, base: str, prior: int = 0) -> list[dict]:
    """A fresh database with ``count`` communes and the 2026 cycle open, each with ``prior``
    revisions already stored (through the intake, without receipts); their links."""
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
    from models.database import get_engine, reset_engines, session_scope, upgrade_database
    from models.orm import Channel
    from models.registry_store import load_registry
    from reporting.form_fields import to_submission
    from reporting.intake import record_submission
    from reporting.messages import link_for

    get_settings.cache_clear()
    reset_engines()
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
    for n in range(prior):  # one transaction per round, as many revisions as agencies
        with session_scope(url) as session:
            cycle, _ = open_cycle(PROGRAMME, 2026, OPENED, session=session)
            for agency, request in zip(agencies, ensure_requests(cycle, session=session)):
                fields = form(agency, "", 10_000 + n)  # never what a timed post sends
                record_submission(
                    request, to_submission(fields, request), session=session,
                    channel=Channel.DEMO, submitted_by="benchmark", submitted_at=OPENED_AT,
                )  # fmt: skip
    get_engine(url).dispose()
    return agencies


def start(
    url: str, port: int, workers: int, folder: Path, relay_port: int | None = None
) -> subprocess.Popen:
    """`r42 portal` as ops start it, with ``workers`` processes; its receipts go to the local
    outbox folder, or over SMTP to the relay on ``relay_port`` (127.0.0.1)."""
    env = {
        **os.environ,
        "R42_DATABASE__URL": url,
        "R42_MAIL__OUTBOX_DIR": str(folder / "outbox"),
        "R42_WEB_FORM__HOST": "127.0.0.1",
        "R42_WEB_FORM__PORT": str(port),
        "R42_WEB_FORM__WORKERS": str(workers),
    }
    if relay_port is not None:
        env |= {
            "R42_MAIL__TRANSPORT": "smtp",
            "R42_MAIL__SMTP_HOST": "127.0.0.1",
            "R42_MAIL__SMTP_PORT": str(relay_port),
        }
    process = subprocess.Popen(
        [sys.executable, "-m", "cli.main", "portal"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=open(folder / "portal.log", "wb"),
    )  # fmt: skip
    for _ in range(1200):  # every worker serving: the first alone would get every connection
        if (folder / "portal.log").read_text().count("Application startup complete") == workers:
            if httpx.get(f"http://127.0.0.1:{port}/health").status_code == 200:
                return process
        time.sleep(0.1)
    raise RuntimeError((folder / "portal.log").read_text())


def value(code: str, kind: str, n: int) -> str:
    """The n-th post's value: inside the indicator's plausible range, so that no post stops at
    the step asking the clerk to confirm a value that looks wrong; different from the last."""
    if kind == "yes_no":
        return "có"
    low, high = PLAUSIBLE.get(code) or (Decimal(0), Decimal(100 if kind == "percent" else 1000))
    number = low + (high - low) / 12 * (n % 10 + 1)
    exponent = Decimal(1) if kind == "count" else Decimal("0.1")
    return format_number(number.quantize(exponent))


def form(agency: dict, csrf: str, n: int) -> dict[str, str]:
    fields = {"csrf_token": csrf, "action": "submit"}
    for code, kind in agency["indicators"]:
        fields[f"value__{code}"] = value(code, kind, n)
    for group in agency["groups"]:
        fields[f"status__{group}"] = "done"
        fields[f"results__{group}"] = f"Đã thực hiện, lần gửi {n + 1}."
    return fields


async def open_link(client: httpx.AsyncClient, agency: dict) -> str:
    page = await client.get(agency["path"])
    return re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)


async def agency_posts(
    client: httpx.AsyncClient,
    agency: dict,
    csrf: str,
    run: dict,
    samples: list,
    errors: list,
    first: int = 0,
) -> int:
    """Post until the time is up (at least once): flat out, or one post every ``run['every']``
    seconds; ``first`` numbers the posts (each a different report)."""
    stored = 0
    tasks = []

    async def post(n: int) -> None:
        nonlocal stored
        started = time.monotonic()
        try:
            response = await client.post(agency["path"], data=form(agency, csrf, n))
        except httpx.TransportError as exc:  # counted: the agency saw no answer
            errors.append(f"{type(exc).__name__} ({type(exc.__context__).__name__})")
            return
        samples.append((started, time.monotonic() - started))
        if response.status_code == 303 and "khong-doi" not in response.headers["location"]:
            stored += 1
        else:
            errors.append(response.status_code)

    n = 0
    while n == 0 or time.monotonic() < run["until"]:
        if run["every"] is None:
            await post(first + n)
        else:
            start = run["start"] + run["offset"] + n * run["every"]
            await asyncio.sleep(max(start - time.monotonic(), 0))
            tasks.append(asyncio.ensure_future(post(first + n)))
        n += 1
    await asyncio.gather(*tasks)
    return stored


def server_cpu(pid: int) -> float:
    """CPU seconds of the server process and its children (the portal's workers), each once.

    Until 2026-11-30 (eighth round) the server process was counted twice (it is also among
    /proc's entries): one SQLite process's figures were twice its CPU, as ``perf stat -e
    task-clock -p PID`` showed (26.1 s against 12.9 s flat out, 8.5 against 4.2 paced); with
    PostgreSQL's workers only the idle supervisor was counted twice."""
    total = process_cpu_seconds(pid)
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or int(entry) == pid:
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()
            if int(stat[1]) == pid:
                total += process_cpu_seconds(int(entry))
        except (FileNotFoundError, IndexError, ProcessLookupError):
            pass  # ended meanwhile
    return total


def run(backend: str, url: str, args: argparse.Namespace, folder: Path, rate: float | None) -> dict:
    from tests.servers import free_port

    port = free_port()
    agencies = prepare(url, args.agencies, f"http://127.0.0.1:{port}", args.prior_revisions)
    workers = args.pg_workers if backend == "postgresql" else 1
    with relay_for(args.receipts) as relay:
        return _posting(backend, url, args, folder, rate, agencies, port, workers, relay)


@contextlib.contextmanager
def relay_for(receipts: str) -> Iterator[PostfixSink | SmtpSink | None]:
    """Where the portal's receipts go: the outbox folder (``make demo``'s transport, a file
    each), or a discarding SMTP server in its own process (production's transport): Postfix's
    ``smtp-sink`` where installed, else the minimal asyncio sink."""
    if receipts == "outbox":
        yield None
        return
    with PostfixSink() if postfix_available() else SmtpSink("minimal") as sink:
        yield sink


def _posting(
    backend: str,
    url: str,
    args: argparse.Namespace,
    folder: Path,
    rate: float | None,
    agencies: list[dict],
    port: int,
    workers: int,
    relay: PostfixSink | SmtpSink | None,
) -> dict:
    base = f"http://127.0.0.1:{port}"
    process = start(url, port, workers, folder, relay.port if relay is not None else None)
    try:
        samples: list = []
        errors: list = []
        every = None if rate is None else len(agencies) / rate

        async def everyone() -> tuple[list[int], int, float, float]:
            limits = httpx.Limits(max_connections=None, max_keepalive_connections=None)
            async with httpx.AsyncClient(base_url=base, timeout=60, limits=limits) as client:
                tokens = await asyncio.gather(*(open_link(client, a) for a in agencies))
                warm_up = {"start": 0, "until": 0, "every": 0, "offset": 0}  # one post each
                warm = await asyncio.gather(  # untimed: the first posts load and compile
                    *(agency_posts(client, a, t, warm_up, [], errors, first=1_000_000)
                      for a, t in zip(agencies, tokens, strict=True))
                )  # fmt: skip
                cpu_before, started = server_cpu(process.pid), time.monotonic()
                runs = [
                    {"start": started, "until": started + args.seconds, "every": every,
                     "offset": (every or 0) * i / len(agencies)}
                    for i in range(len(agencies))
                ]  # fmt: skip
                done = await asyncio.gather(
                    *(agency_posts(client, a, t, r, samples, errors)
                      for a, t, r in zip(agencies, tokens, runs, strict=True))
                )  # fmt: skip
                elapsed, cpu = time.monotonic() - started, server_cpu(process.pid) - cpu_before
                return done, sum(warm), elapsed, cpu

        done, warm, elapsed, cpu = asyncio.run(everyone())
        time.sleep(2)  # the last receipts leave after their responses
    finally:
        process.terminate()
        process.wait(30)
    if errors:
        log = (folder / "portal.log").read_text()
        print(f"{backend}: errors {sorted(set(map(str, errors)))}; the portal's log ends:")
        print(log[-3000:])
        print("worker processes restarted:", [line for line in log.splitlines() if "died" in line])
    engine = create_engine(url)
    with engine.connect() as connection:
        stored = connection.execute(
            text("select count(*) from submission")
        ).scalar_one()
        top = connection.execute(
            text("select coalesce(sum(m), 0) from (select max(revision) m from submission group by request_id) t")
        ).scalar_one()
        sent = dict(connection.execute(text(
            "select kind = 'receipt', count(*) from outgoing_message where status = 'sent' group by 1"
        )).all())  # fmt: skip
    engine.dispose()
    latencies = sorted(s[1] for s in samples)
    ordered = [s[1] for s in sorted(samples)]
    tenth = max(len(ordered) // 10, 1)
    if relay is None:  # one file a receipt
        receipts = len(list((folder / "outbox").glob("*-receipt-*.eml")))
    else:  # each sent once, the request emails queued at the opening too: counted at the relay
        receipts = sent.get(True, 0) if relay.messages == sum(sent.values()) else -1
    prior = args.prior_revisions * len(agencies)
    total = sum(done)
    return {
        "backend": f"{backend} ({workers} process{'es' if workers > 1 else ''})",
        "load": ("flat out" if rate is None else f"paced {rate:g}/s")
        + ("" if relay is None else ", receipts over SMTP"),
        "rate": total / elapsed,
        "p50": latencies[len(latencies) // 2] * 1000,
        "p99": latencies[int(len(latencies) * 0.99) - 1] * 1000,
        "errors": len(errors),
        "flat": (sum(ordered[-tenth:]) / tenth) / (sum(ordered[:tenth]) / tenth),
        "cpu_ms": cpu / max(total, 1) * 1000,
        "once": stored - prior == total + warm and top == stored and receipts == total + warm,
        "revisions": stored / len(agencies),
    }


def database(server: str, name: str) -> str:
    """A new, empty database on the throwaway PostgreSQL cluster."""
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return server.rsplit("/", 1)[0] + f"/{name}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--agencies", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--pg-workers", type=int, default=2)
    parser.add_argument(
        "--prior-revisions",
        type=int,
        default=0,
        help="revisions each agency has before the clock starts (latency at revision 100: 100)",
    )
    parser.add_argument(
        "--rate",
        default="sqlite=50,postgresql=100",
        help="backend=posts/s for a second, paced run per backend (empty: flat out only)",
    )
    parser.add_argument(
        "--receipts",
        choices=("outbox", "smtp"),
        default="outbox",
        help="where the portal sends receipts: the local outbox folder (a file each, as `make "
        "demo`), or over SMTP to a discarding relay in its own process (as in production)",
    )
    args = parser.parse_args(argv)
    backends = args.backends.split(",")
    rates = dict(item.split("=") for item in args.rate.split(",") if item)
    rows = []
    cluster = None
    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="r42-spike-") as tmp:
        try:
            for backend in backends:
                for rate in [None] + ([float(rates[backend])] if backend in rates else []):
                    folder = Path(tmp) / f"{backend}-{rate or 'flat'}"
                    folder.mkdir()
                    if backend == "sqlite":
                        url = f"sqlite:///{folder / 'r42.sqlite3'}"
                    else:
                        if cluster is None:
                            from tests.servers import PostgresCluster

                            cluster = PostgresCluster()
                            server = cluster.start()
                        url = database(server, f"spike_{folder.name.replace('.', '_')}")
                    rows.append(run(backend, url, args, folder, rate))
        finally:
            if cluster is not None:
                cluster.stop()
    print(f"{args.agencies} agencies posting at once for {args.seconds:g} s, "
          f"{args.prior_revisions} revisions each before")
    print(f"load average (1 min) before: {load_before[0]:.1f}, after: {os.getloadavg()[0]:.1f}")
    print("| backend | load | submissions/s | p50 ms | p99 ms | errors | last/first tenth latency "
          "| server CPU ms/submission | revisions/agency | stored and receipted once |")
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|---|")
    for r in rows:
        print(f"| {r['backend']} | {r['load']} | {r['rate']:.1f} | {r['p50']:.0f} | {r['p99']:.0f} "
              f"| {r['errors']} | {r['flat']:.2f} | {r['cpu_ms']:.1f} | {r['revisions']:.0f} "
              f"| {'yes' if r['once'] else 'NO'} |")
    return 0 if all(r["once"] and not r["errors"] for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
