"""The production layout on one machine, with real processes: `make prod-up` / `make prod-down`.

- PostgreSQL (a cluster kept under the state folder) holds two databases: ``prefect`` for the
  Prefect server and ``r42`` for the application;
- ``prefect server start`` on the first (with its scheduler);
- result storage every worker reads: a ``local-file-system/r42-results`` block on
  ``<state>/shared/results``, set as the server's default result storage, and results persisted
  by default (a suspended submission run resumes on whichever worker picks it up);
- the deployments of ``prefect.yaml`` registered with ``prefect deploy --all`` on the process
  work pool ``r42-process``, served by two or more ``prefect worker start`` processes;
- the agencies' web form, ``r42 portal``.

Same code as the embedded default: only settings (environment variables) differ. They are
written to ``<state>/env.sh`` so that ops can ``. data/prod/env.sh`` and then use ``prefect``
and ``r42`` against this set-up. Pids and logs live under the state folder.
"""

from __future__ import annotations

import argparse
import os
import shlex
import signal
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from ops.postgres import Cluster

PROJECT_DIR = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
WORK_POOL = "r42-process"
RESULTS_BLOCK = "r42-results"


@dataclass
class Layout:
    """Where everything runs; ``extra_env`` adds or overrides settings (mail, for example)."""

    state: Path = PROJECT_DIR / "data" / "prod"
    host: str = "127.0.0.1"
    pg_port: int = 55432
    api_port: int = 4300
    portal_port: int = 8043
    workers: int = 2
    worker_limit: int | None = None  # concurrent flow runs per worker (None: no limit)
    extra_env: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.state = Path(self.state).resolve()

    @property
    def api_url(self) -> str:
        return f"http://{self.host}:{self.api_port}/api"

    @property
    def portal_url(self) -> str:
        return f"http://{self.host}:{self.portal_port}"

    @property
    def results(self) -> Path:
        return self.state / "shared" / "results"

    @property
    def postgres(self) -> Cluster:
        return Cluster(self.state / "pg", self.pg_port, self.host)

    def env(self) -> dict[str, str]:
        """The settings every process of the set-up shares (the server adds its database)."""
        env = {
            "PREFECT_API_URL": self.api_url,
            "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
            "PREFECT_RESULTS_PERSIST_BY_DEFAULT": "true",
            "PREFECT_LOCAL_STORAGE_PATH": str(self.results),
            "R42_PROJECT_DIR": str(PROJECT_DIR),
            "R42_DATABASE__URL": self.postgres.url("r42"),
            "R42_MAIL__TRANSPORT": "outbox",
            "R42_MAIL__OUTBOX_DIR": str(self.state / "shared" / "outbox"),
            "R42_WEB_FORM__HOST": self.host,
            "R42_WEB_FORM__PORT": str(self.portal_port),
            "R42_WEB_FORM__PUBLIC_BASE_URL": self.portal_url,
        }
        # Settings ops already set (an SMTP server, a link secret...) win over the local defaults.
        env.update({k: v for k, v in os.environ.items() if k.startswith("R42_MAIL__")})
        env.update({k: v for k, v in os.environ.items() if k == "R42_WEB_FORM__LINK_SECRET"})
        env.update(self.extra_env)
        return env

    def process_env(self, home: str) -> dict[str, str]:
        """The environment of one process: its own PREFECT_HOME, as on its own machine."""
        base = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "R42_"))}
        return {**base, **self.env(), "PREFECT_HOME": str(self.state / "homes" / home)}


def pid_file(layout: Layout, name: str) -> Path:
    return layout.state / "pids" / f"{name}.pid"


def spawn(layout: Layout, name: str, command: list[str], env: dict[str, str]) -> int:
    """Start ``command`` in its own process group, logging to ``<state>/logs/<name>.log``."""
    (layout.state / "logs").mkdir(parents=True, exist_ok=True)
    (layout.state / "pids").mkdir(parents=True, exist_ok=True)
    with open(layout.state / "logs" / f"{name}.log", "ab") as log:
        process = subprocess.Popen(
            command,
            cwd=PROJECT_DIR,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    pid_file(layout, name).write_text(str(process.pid))
    return process.pid


def run(layout: Layout, command: list[str], home: str = "ops") -> str:
    """Run a one-off command of the set-up; its output goes to ``<state>/logs/ops.log``."""
    done = subprocess.run(
        command,
        cwd=PROJECT_DIR,
        env=layout.process_env(home),
        capture_output=True,
        text=True,
        timeout=300,
    )
    (layout.state / "logs").mkdir(parents=True, exist_ok=True)
    with open(layout.state / "logs" / "ops.log", "a", encoding="utf-8") as log:
        log.write(f"$ {shlex.join(command)}\n{done.stdout}{done.stderr}\n")
    if done.returncode != 0:
        raise RuntimeError(f"{shlex.join(command)} failed:\n{done.stdout}{done.stderr}")
    return done.stdout


def wait_for(url: str, name: str, seconds: float = 180) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(url, timeout=2)
            return
        except OSError:
            time.sleep(0.5)
    raise RuntimeError(f"{name} did not answer at {url} within {seconds:.0f} s")


def write_env_file(layout: Layout) -> Path:
    path = layout.state / "env.sh"
    lines = [f"export {k}={shlex.quote(v)}" for k, v in sorted(layout.env().items())]
    path.write_text(
        "# Settings of the local production set-up: `. " + str(path) + "`\n"
        + "\n".join(lines)
        + f"\nexport PREFECT_HOME={shlex.quote(str(layout.state / 'homes' / 'ops'))}\n",
        encoding="utf-8",
    )  # fmt: skip
    return path


def start_server(layout: Layout) -> None:
    env = layout.process_env("server")
    env["PREFECT_API_DATABASE_CONNECTION_URL"] = layout.postgres.url("prefect", driver="asyncpg")
    prefect = str(BIN / "prefect")
    command = [prefect, "server", "start", "--host", layout.host, "--port", str(layout.api_port)]
    spawn(layout, "prefect-server", command, env)
    wait_for(f"{layout.api_url}/health", "the Prefect server")


def configure_result_storage(layout: Layout) -> None:
    """A storage block on the shared folder, made the server's default result storage.

    Every client of this server (workers, ``r42 decide``, the UI) then reads and writes results
    there; PREFECT_RESULTS_DEFAULT_STORAGE_BLOCK would do the same per machine.
    """
    layout.results.mkdir(parents=True, exist_ok=True)
    code = (
        "from prefect.client.orchestration import get_client\n"
        "from prefect.filesystems import LocalFileSystem\n"
        f"block = LocalFileSystem(basepath={str(layout.results)!r})\n"
        f"block_id = block.save({RESULTS_BLOCK!r}, overwrite=True)\n"
        "with get_client(sync_client=True) as client:\n"
        "    client.update_server_default_result_storage(block_id)\n"
    )
    run(layout, [sys.executable, "-c", code])


def deploy(layout: Layout) -> None:
    prefect = str(BIN / "prefect")
    pools = run(layout, [prefect, "work-pool", "ls"])
    if WORK_POOL not in pools:
        run(layout, [prefect, "work-pool", "create", WORK_POOL, "--type", "process"])
    run(layout, [prefect, "--no-prompt", "deploy", "--all"])


def start_workers(layout: Layout) -> None:
    for number in range(1, layout.workers + 1):
        name = f"r42-worker-{number}"
        command = [str(BIN / "prefect"), "worker", "start", "--pool", WORK_POOL, "--name", name]
        if layout.worker_limit:
            command += ["--limit", str(layout.worker_limit)]
        spawn(layout, name, command, layout.process_env(name))


def up(layout: Layout) -> None:
    """Bring every part up, in order; each step is idempotent, so `up` can be run again."""
    if any((layout.state / "pids").glob("*.pid")):
        raise RuntimeError(f"already up (pids in {layout.state / 'pids'}): run `down` first")
    (layout.state / "homes").mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    cluster = layout.postgres
    cluster.start()
    cluster.create_database("prefect")
    cluster.create_database("r42")
    print(f"PostgreSQL on {layout.host}:{layout.pg_port} (databases prefect, r42)")
    try:
        start_server(layout)
        print(f"Prefect server on {layout.api_url} (UI: {layout.api_url.removesuffix('/api')})")
        configure_result_storage(layout)
        run(layout, [str(BIN / "r42"), "load-registry"])
        deploy(layout)
        print(f"Deployments of prefect.yaml registered on the work pool {WORK_POOL}")
        start_workers(layout)
        spawn(layout, "portal", [str(BIN / "r42"), "portal"], layout.process_env("portal"))
        wait_for(f"{layout.portal_url}/health", "the web form")
    except BaseException:
        down(layout)
        raise
    print(f"{layout.workers} workers on {WORK_POOL}; web form on {layout.portal_url}")
    print(f"Results: {layout.results}; logs: {layout.state / 'logs'}")
    print(f"Up in {time.monotonic() - started:.0f} s. Settings: . {write_env_file(layout)}")


def stop_process(pid: int, seconds: float = 20) -> None:
    """SIGTERM the process group we started (a worker's flow runs included), then SIGKILL."""
    try:
        os.killpg(pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            os.waitpid(pid, os.WNOHANG)  # reap it if this process started it (the tests)
        except ChildProcessError:
            pass
        try:
            os.killpg(pid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.2)
    os.killpg(pid, signal.SIGKILL)


def down(layout: Layout, wipe: bool = False) -> None:
    """Stop the portal, the workers and the server (by their recorded pids), then PostgreSQL."""
    order = {"portal": 0, "prefect-server": 2}  # the workers (1) between the two
    paths = sorted((layout.state / "pids").glob("*.pid"), key=lambda p: order.get(p.stem, 1))
    for path in paths:
        stop_process(int(path.read_text()))
        path.unlink()
    layout.postgres.stop()
    if wipe:
        import shutil

        shutil.rmtree(layout.state, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("action", choices=["up", "down"])
    parser.add_argument("--state", type=Path, default=Layout.state, help="pids, logs, data")
    parser.add_argument("--pg-port", type=int, default=Layout.pg_port)
    parser.add_argument("--api-port", type=int, default=Layout.api_port)
    parser.add_argument("--portal-port", type=int, default=Layout.portal_port)
    parser.add_argument("--workers", type=int, default=Layout.workers)
    parser.add_argument("--wipe", action="store_true", help="down: also delete the state folder")
    args = parser.parse_args(argv)
    layout = Layout(args.state, "127.0.0.1", args.pg_port, args.api_port, args.portal_port)
    layout.workers = args.workers
    if args.action == "up":
        up(layout)
    else:
        down(layout, wipe=args.wipe)
        print(f"Down{' and wiped' if args.wipe else ''}: {layout.state}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
