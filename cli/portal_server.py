"""How `r42 portal` runs uvicorn: one process, or ``R42_WEB_FORM__WORKERS`` processes that each
listen on their own socket of the same port (``SO_REUSEPORT``), so that the kernel spreads the
agencies' connections evenly over them.

uvicorn's own workers share one listening socket, and a worker whose event loop is free accepts
every connection waiting at that moment: 50 agencies' kept-alive connections opened at once all
went to one of two workers (``benchmarks.portal_spike``: one worker ~88 % of the portal's CPU,
the other idle), which then did the work of both. Its supervisor also killed a worker that took
over 5 s to answer its health check on a loaded machine, with every post it was handling; here
a worker is restarted only when it has died.
"""

from __future__ import annotations

import gc
import logging
import multiprocessing
import signal
import socket
import threading
import time
from collections.abc import Callable
from multiprocessing.process import BaseProcess

import uvicorn
from fastapi import FastAPI

from config.settings import WebFormSettings

logger = logging.getLogger("uvicorn.error")

# An idle connection is kept this long: longer than a reverse proxy keeps its idle connections
# to the portal (nginx and most load balancers: 60 s), so that the proxy, like a browser, never
# sends a post on a connection the portal is closing at that moment (uvicorn's default of 5 s
# equals httpx's and many clients' own: a post racing the close is reset, the agency gets an
# error and, behind nginx, a 502, since nginx does not retry a POST).
KEEP_ALIVE_SECONDS = 75
STOP_SECONDS = 30  # a worker's graceful shutdown (the last receipts sent) before it is killed
# A worker that dies this soon after its start, this many times in a row, will not start at all
# (a setting, the database, the code): the portal stops with an error instead of restarting
# it twice a second for ever.
EARLY_DEATH_SECONDS = 10.0
EARLY_DEATHS = 3


def served_app() -> FastAPI:
    """The web form as ``r42 portal`` serves it, in a process of its own.

    What the process holds once the app is built (its modules, the app, the programme:
    ~210,000 objects) is frozen out of the cyclic garbage collector (``gc.freeze``): its full
    collections walked all of it, 160-230 ms each, one every ~2 s flat out on SQLite; the
    collector's time went 0.73 -> 0.32 ms a post (benchmarks/README.md, "Eighth round"). Full
    collections still run, at the default thresholds, over what was allocated since. Here and
    not in ``create_app``: a test process builds an app per test, and a full collection of its
    heap at each start made tests/test_portal.py take 29 s instead of 18."""
    from portal.app import create_app  # in the worker: the supervisor never builds the app

    app = create_app()
    gc.collect()  # nothing already garbage is frozen
    gc.freeze()
    return app


def config(web: WebFormSettings) -> uvicorn.Config:
    return uvicorn.Config(
        "cli.portal_server:served_app",
        factory=True,
        host=web.host,
        port=web.port,
        proxy_headers=True,
        timeout_keep_alive=KEEP_ALIVE_SECONDS,
    )


def serve(web: WebFormSettings, *, target: Callable[[WebFormSettings], None] | None = None) -> None:
    """Serve the web form until SIGINT or SIGTERM; with several workers, restart one that dies
    (``target``: what a worker process runs, :func:`_worker`)."""
    if web.workers == 1:
        uvicorn.Server(config(web)).run()
        return
    _check_port_free(web)
    stopping = threading.Event()
    handlers = {
        sig: signal.signal(sig, lambda *_: stopping.set()) for sig in (signal.SIGINT, signal.SIGTERM)
    }
    try:
        _supervise(web, target or _worker, stopping)
    finally:
        for sig, handler in handlers.items():
            signal.signal(sig, handler)


def _supervise(
    web: WebFormSettings, target: Callable[[WebFormSettings], None], stopping: threading.Event
) -> None:
    spawn = multiprocessing.get_context("spawn")  # no thread or connection of this process copied
    workers: list[BaseProcess] = [
        spawn.Process(target=target, args=(web,)) for _ in range(web.workers)
    ]
    started = [time.monotonic()] * len(workers)
    early = 0  # workers in a row that died soon after their start
    for worker in workers:
        worker.start()
    while not stopping.wait(0.5):
        for index, worker in enumerate(workers):
            if worker.is_alive():
                continue
            early = early + 1 if time.monotonic() - started[index] < EARLY_DEATH_SECONDS else 0
            if early >= EARLY_DEATHS:
                logger.error("Worker processes die as they start (exit code %s): stopping",
                             worker.exitcode)  # fmt: skip
                stopping.set()
                break
            logger.warning("Worker process [%s] died (exit code %s): restarted", worker.pid,
                           worker.exitcode)  # fmt: skip
            workers[index] = spawn.Process(target=target, args=(web,))
            workers[index].start()
            started[index] = time.monotonic()
    for worker in workers:
        if worker.is_alive():
            worker.terminate()  # SIGTERM: uvicorn's graceful shutdown
    for worker in workers:
        worker.join(STOP_SECONDS)
        if worker.is_alive():
            worker.kill()
            worker.join()
    if early >= EARLY_DEATHS:
        raise SystemExit("the web form's worker processes could not start: see the log above")


def _check_port_free(web: WebFormSettings) -> None:
    """Refuse to start beside another server on the port (one listening with ``SO_REUSEPORT``,
    say a portal left running, would otherwise share the connections silently)."""
    family, kind, protocol, _, address = _address(web)
    with socket.socket(family, kind, protocol) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(address)
        except OSError as exc:
            raise SystemExit(f"cannot listen on {web.host}:{web.port}: {exc.strerror}") from None


def _address(web: WebFormSettings) -> tuple:  # type: ignore[type-arg]
    return socket.getaddrinfo(
        web.host, web.port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
    )[0]


def _worker(web: WebFormSettings) -> None:
    """One worker process: its own socket on the shared port, uvicorn on it."""
    family, kind, protocol, _, address = _address(web)
    listening = socket.socket(family, kind, protocol)
    listening.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listening.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    listening.bind(address)
    listening.set_inheritable(True)
    uvicorn.Server(config(web)).run(sockets=[listening])
