"""Keep one long-running command alive: ``python -m ops.supervisor NAME -- COMMAND...``.

The layout starts each worker under a supervisor. The command runs in a process group of its
own (its flow runs included); if it exits while nobody asked it to stop (killed, crashed, out of
memory), it is started again after a pause that doubles from 1 s up to 60 s and goes back to
1 s once it has run for 5 minutes. On SIGTERM or SIGINT the supervisor passes SIGTERM to the
command's group, waits up to ``--grace`` seconds for it to finish (a Prefect worker reports
its flow runs' end), then kills what is left and exits.

A supervisor killed with SIGKILL cannot restart anything: ``up`` (or ``restart``) starts it
again, as it does any part whose recorded process is gone.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import signal
import subprocess
import sys
import time

from ops.processes import descendants, is_zombie

STABLE_SECONDS = 300


def log(name: str, text: str) -> None:
    stamp = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M:%S")
    print(f"{stamp} supervisor[{name}]: {text}", flush=True)


def signal_all(pids: list[int], sig: int) -> None:
    for pid in pids:
        try:
            os.kill(pid, sig)
        except ProcessLookupError:
            pass


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return not is_zombie(pid)


def supervise(name: str, command: list[str], grace: float) -> int:
    stopping: list[int] = []

    def stop(signum: int, _frame: object) -> None:
        stopping.append(signum)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    pause = 1.0
    while not stopping:
        started = time.monotonic()
        child = subprocess.Popen(command, start_new_session=True)
        log(name, f"started {command[0]} (pid {child.pid})")
        while child.poll() is None and not stopping:
            time.sleep(0.2)
        if stopping:
            return shut_down(name, child, grace)
        ran = time.monotonic() - started
        pause = 1.0 if ran > STABLE_SECONDS else min(pause * 2, 60.0)
        try:
            os.killpg(child.pid, signal.SIGKILL)  # what it left behind in its group
        except ProcessLookupError:
            pass
        log(name, f"exited with {child.returncode} after {ran:.0f} s; restarting in {pause:.0f} s")
        deadline = time.monotonic() + pause
        while time.monotonic() < deadline and not stopping:
            time.sleep(0.2)
    log(name, "stopped")
    return 0


def shut_down(name: str, child: subprocess.Popen, grace: float) -> int:
    """SIGTERM to the command and everything below it (flow runs may have a session of their
    own), ``grace`` seconds for them to end their runs, then SIGKILL to what is left."""
    tree = [child.pid, *descendants(child.pid)]
    log(name, f"stopping: SIGTERM to {len(tree)} processes, {grace:.0f} s to finish")
    signal_all(tree, signal.SIGTERM)
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline:
        child.poll()
        if not any(alive(pid) for pid in tree):
            break
        time.sleep(0.2)
    left = [pid for pid in tree if alive(pid)]
    if left:
        log(name, f"still running after {grace:.0f} s: SIGKILL to {left}")
        signal_all(left, signal.SIGKILL)
    child.wait()
    log(name, f"stopped ({child.returncode})")
    return 0


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if "--" not in argv:
        sys.exit("usage: python -m ops.supervisor [--grace SECONDS] NAME -- COMMAND ARGS...")
    split = argv.index("--")
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("name", help="the part's name, for the log")
    parser.add_argument("--grace", type=float, default=8, help="seconds to stop on SIGTERM")
    args = parser.parse_args(argv[:split])
    command = argv[split + 1 :]
    if not command:
        parser.error("no command to supervise")
    return supervise(args.name, command, args.grace)


if __name__ == "__main__":
    sys.exit(main())
