"""The production layout on one machine, with real processes: `make prod-up` / `make prod-down`.

PostgreSQL (databases ``prefect`` and ``r42``, a cluster under the state folder); ``prefect
server start`` behind its own login (``ops.layout_secrets``); the server's default result
storage on ``<state>/shared/results`` (``ops.prefect_setup``); the deployments of
``prefect.yaml`` on the process work pool ``r42-process``, run by workers each kept alive by
``ops.supervisor``, with heartbeats and the automations of ``ops.automations``; the agencies'
web form, ``r42 portal``. Only settings differ from the embedded default: they are written to
``<state>/env.sh`` (mode 600) for ops to source. ``up`` starts what is not running and leaves
the rest, so it can be run again at any time (after a crash, a reboot, a killed worker).
"""

from __future__ import annotations

import argparse
import os
import shlex
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from ops import processes
from ops.layout_secrets import API_AUTH, layout_secrets, write_settings
from ops.postgres import Cluster
from ops.prefect_setup import WORK_POOL

PROJECT_DIR = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


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
    heartbeat_seconds: int = 30  # a run silent for three beats is Crashed (ops.automations)
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
    def shared(self) -> Path:
        """What workers on other hosts would mount: results, outbox, report files."""
        return self.state / "shared"

    @property
    def results(self) -> Path:
        return self.shared / "results"

    @property
    def postgres(self) -> Cluster:
        return Cluster(self.state / "pg", self.pg_port, self.host)

    def env(self) -> dict[str, str]:
        """The settings every process of the set-up shares (the server adds its own two)."""
        env = {
            "PREFECT_API_URL": self.api_url,
            "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
            "PREFECT_RESULTS_PERSIST_BY_DEFAULT": "true",
            "PREFECT_FLOWS_HEARTBEAT_FREQUENCY": str(self.heartbeat_seconds),
            "PREFECT_LOCAL_STORAGE_PATH": str(self.results),
            "R42_PROJECT_DIR": str(PROJECT_DIR),
            "R42_DATABASE__URL": self.postgres.url("r42"),
            "R42_MAIL__TRANSPORT": "outbox",
            "R42_MAIL__OUTBOX_DIR": str(self.shared / "outbox"),
            "R42_CYCLE__REPORTS_DIR": str(self.shared / "reports"),
            "R42_WEB_FORM__HOST": self.host,
            "R42_WEB_FORM__PORT": str(self.portal_port),
            "R42_WEB_FORM__PUBLIC_BASE_URL": self.portal_url,
        }
        # A mail server ops set in the environment wins over the local outbox.
        env.update({k: v for k, v in os.environ.items() if k.startswith("R42_MAIL__")})
        env.update(layout_secrets(self.state))  # the link secret and the API login
        env.update(self.extra_env)
        return env

    def process_env(self, home: str) -> dict[str, str]:
        """The environment of one process: its own PREFECT_HOME, as on its own machine."""
        base = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "R42_"))}
        return {**base, **self.env(), "PREFECT_HOME": str(self.state / "homes" / home)}

    def worker_names(self) -> list[str]:
        return [f"r42-worker-{number}" for number in range(1, self.workers + 1)]


def part_command(layout: Layout, name: str) -> tuple[list[str], dict[str, str]]:
    """The command line and environment of one long-running part of the layout."""
    if name == "prefect-server":
        env = layout.process_env("server")
        env["PREFECT_API_DATABASE_CONNECTION_URL"] = layout.postgres.url("prefect", "asyncpg")
        env["PREFECT_SERVER_API_AUTH_STRING"] = env[API_AUTH]
        port = str(layout.api_port)
        return [str(BIN / "prefect"), "server", "start", "--host", layout.host, "--port", port], env
    if name == "portal":
        return [str(BIN / "r42"), "portal"], layout.process_env("portal")
    if name in layout.worker_names():  # restarted by its supervisor if it dies
        command = [str(BIN / "prefect"), "worker", "start", "--pool", WORK_POOL, "--name", name]
        if layout.worker_limit:
            command += ["--limit", str(layout.worker_limit)]
        supervisor = [sys.executable, "-m", "ops.supervisor", "--grace", "8", name, "--"]
        return [*supervisor, *command], layout.process_env(name)
    raise KeyError(f"no part named {name!r}: prefect-server, portal, {layout.worker_names()}")


def running(layout: Layout, name: str) -> processes.Recorded | None:
    """The part's recorded process if it is still the one the layout started."""
    path = processes.pid_path(layout.state, name)
    if not path.exists():
        return None
    record = processes.recorded(path)
    return record if processes.is_ours(record) else None


def start_part(layout: Layout, name: str) -> int:
    command, env = part_command(layout, name)
    return processes.spawn(name, command, env=env, cwd=PROJECT_DIR, state=layout.state)


def run(layout: Layout, command: list[str], home: str = "ops") -> str:
    """Run a one-off command of the set-up; its output goes to ``<state>/logs/ops.log``."""
    done = subprocess.run(
        command,
        cwd=PROJECT_DIR,
        env=layout.process_env(home),
        stdin=subprocess.DEVNULL,
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


def write_env_file(layout: Layout) -> Path:
    """``<state>/env.sh``: every setting, the secrets and the venv's commands on PATH (mode 600)."""
    home = layout.state / "homes" / "ops"
    return write_settings(layout.state / "env.sh", layout.env(), home=home, bin_dir=BIN)


def up(layout: Layout) -> list[str]:
    """Start every part that is not running, in order; returns the parts it started.

    A part whose pid file names a process that is gone (or another program now) is started
    again; a part still running is left alone. If a step fails, what this call started is
    stopped again and the parts that were already running stay up.
    """
    started_at, started = time.monotonic(), []
    for folder in ("homes", "logs", "pids"):
        (layout.state / folder).mkdir(parents=True, exist_ok=True)
    layout.shared.mkdir(parents=True, exist_ok=True)
    layout_secrets(layout.state)  # made on the first start, reused after
    cluster = layout.postgres
    cluster_was_running = cluster.running() if cluster.data.exists() else False
    cluster.start()
    try:
        cluster.create_database("prefect")
        cluster.create_database("r42")
        print(f"PostgreSQL on {layout.host}:{layout.pg_port} (databases prefect, r42)")
        if not running(layout, "prefect-server"):
            start_part(layout, "prefect-server")
            started.append("prefect-server")
        processes.wait_for(f"{layout.api_url}/health", "the Prefect server")
        print(f"Prefect server on {layout.api_url} (UI: {layout.api_url.removesuffix('/api')})")
        setup = [sys.executable, "-m", "ops.prefect_setup", "configure"]
        setup += ["--results", str(layout.results), "--heartbeat", str(layout.heartbeat_seconds)]
        print(run(layout, setup).strip())
        run(layout, [str(BIN / "r42"), "load-registry"])
        run(layout, [str(BIN / "prefect"), "--no-prompt", "deploy", "--all"])
        print(f"Deployments of prefect.yaml registered on the work pool {WORK_POOL}")
        for name in [*layout.worker_names(), "portal"]:
            if not running(layout, name):
                start_part(layout, name)
                started.append(name)
        processes.wait_for(f"{layout.portal_url}/health", "the web form")
        time.sleep(1)  # a part that cannot start (a port taken...) exits within a second
        exited = [name for name in started if not running(layout, name)]
        if exited:
            logs = ", ".join(str(layout.state / "logs" / f"{name}.log") for name in exited)
            raise RuntimeError(f"{', '.join(exited)} exited after starting: see {logs}")
    except BaseException:
        stop_parts(layout, started)
        if not cluster_was_running and not status(layout, only_running=True):
            cluster.stop()
        raise
    print(f"{layout.workers} workers on {WORK_POOL}; web form on {layout.portal_url}")
    print(f"Shared storage (results, outbox, reports): {layout.shared}")
    print(f"Started: {', '.join(started) or 'nothing, every part was already running'}")
    print(f"Up in {time.monotonic() - started_at:.0f} s. Settings: . {write_env_file(layout)}")
    return started


def stop_parts(layout: Layout, names: list[str]) -> None:
    for name in names:
        path = processes.pid_path(layout.state, name)
        if path.exists():
            outcome = processes.stop(processes.recorded(path))
            print(f"{name}: {outcome}")
            path.unlink()


def stop_workers(layout: Layout) -> None:
    """Stop every worker (SIGTERM, a grace period); then, while the server still runs, their
    runs still marked Running are set to Crashed and the automation schedules them again."""
    names = [p.stem for p in (layout.state / "pids").glob("*.pid")]
    stop_parts(layout, sorted(n for n in names if n not in ("portal", "prefect-server")))
    if running(layout, "prefect-server"):
        try:
            orphans = run(layout, [sys.executable, "-m", "ops.prefect_setup", "crash-orphans"])
            print(orphans.strip() or "No run was left Running")
        except RuntimeError as exc:  # the server does not answer: the heartbeats will tell
            print(f"Runs left Running not marked: {exc}")


def down(layout: Layout, wipe: bool = False) -> None:
    """Stop the portal, the workers and the server (checked by pid, start time and command),
    then PostgreSQL; ``wipe`` then deletes the state folder (data, secrets, reports)."""
    stop_parts(layout, ["portal"])
    stop_workers(layout)
    stop_parts(layout, [p.stem for p in (layout.state / "pids").glob("*.pid")])
    layout.postgres.stop()
    if wipe:
        import shutil

        shutil.rmtree(layout.state, ignore_errors=True)


def status(layout: Layout, only_running: bool = False) -> dict[str, str]:
    """Each part: running (pid) or not, as its pid file and /proc say."""
    names = ["prefect-server", *layout.worker_names(), "portal"]
    names += sorted({p.stem for p in (layout.state / "pids").glob("*.pid")} - set(names))
    result = {"postgresql": "running" if layout.postgres.running() else "stopped"}
    for name in names:
        record = running(layout, name)
        result[name] = f"running (pid {record.pid})" if record else "stopped"
    return {k: v for k, v in result.items() if v != "stopped"} if only_running else result


def restart(layout: Layout, name: str) -> None:
    part_command(layout, name)  # an unknown name fails before anything is stopped
    stop_parts(layout, [name])
    start_part(layout, name)
    print(f"{name}: started (pid {running(layout, name).pid})")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("action", choices=["up", "down", "status", "restart"])
    parser.add_argument("part", nargs="?", help="restart: prefect-server, portal, r42-worker-N")
    parser.add_argument("--state", type=Path, default=Layout.state, help="pids, logs, data")
    parser.add_argument("--pg-port", type=int, default=Layout.pg_port)
    parser.add_argument("--api-port", type=int, default=Layout.api_port)
    parser.add_argument("--portal-port", type=int, default=Layout.portal_port)
    parser.add_argument("--workers", type=int, default=Layout.workers)
    parser.add_argument("--wipe", action="store_true", help="down: also delete the state folder")
    args = parser.parse_args(argv)
    layout = Layout(args.state, "127.0.0.1", args.pg_port, args.api_port, args.portal_port)
    layout.workers = args.workers
    try:
        if args.action == "up":
            up(layout)
        elif args.action == "down":
            down(layout, wipe=args.wipe)
            print(f"Down{' and wiped' if args.wipe else ''}: {layout.state}")
        elif args.action == "status":
            for name, state in status(layout).items():
                print(f"{name:16} {state}")
        else:
            if not args.part:
                parser.error("restart needs the part's name, e.g. r42-worker-1")
            restart(layout, args.part)
    except (RuntimeError, KeyError) as exc:
        print(f"ops.production {args.action}: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
