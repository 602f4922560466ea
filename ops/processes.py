"""The layout's long-running processes: started in their own group, recorded, checked, stopped.

A pid file holds the pid, the process's start time (``/proc/<pid>/stat``, field 22, clock
ticks since boot) and its command line. A pid alone is not enough: after a reboot or a crash
the number may belong to another program, so nothing is signalled unless all three match.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Recorded:
    """What a pid file says about the process the layout started."""

    name: str
    pid: int
    start_time: int | None
    command: list[str]


def start_time(pid: int) -> int | None:
    """Clock ticks since boot at which ``pid`` started (None if there is no such process)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # The command name (field 2) may hold spaces and parentheses: split after its last ")".
    return int(stat.rsplit(")", 1)[1].split()[19])


def command_line(pid: int) -> list[str] | None:
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return None
    return [part.decode(errors="replace") for part in raw.split(b"\0") if part]


def is_zombie(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] == "Z"


def spawn(name: str, command: list[str], *, env: dict[str, str], cwd: Path, state: Path) -> int:
    """Start ``command`` in its own process group, logging to ``<state>/logs/<name>.log``."""
    (state / "logs").mkdir(parents=True, exist_ok=True)
    (state / "pids").mkdir(parents=True, exist_ok=True)
    with open(state / "logs" / f"{name}.log", "ab") as log:
        process = subprocess.Popen(
            command,
            cwd=cwd,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    record = {"pid": process.pid, "start_time": start_time(process.pid), "command": command}
    pid_path(state, name).write_text(json.dumps(record), encoding="utf-8")
    return process.pid


def pid_path(state: Path, name: str) -> Path:
    return state / "pids" / f"{name}.pid"


def recorded(path: Path) -> Recorded:
    """Read a pid file; an old one holding a bare pid has neither start time nor command."""
    text = path.read_text(encoding="utf-8").strip()
    if text.isdigit():
        return Recorded(path.stem, int(text), None, [])
    data = json.loads(text)
    return Recorded(path.stem, int(data["pid"]), data.get("start_time"), list(data["command"]))


def is_ours(record: Recorded) -> bool:
    """True only if the pid is still the very process the layout started (same start, command)."""
    if record.start_time is None or not record.command:
        return False
    if is_zombie(record.pid):
        return False
    return start_time(record.pid) == record.start_time and runs(record.command, record.pid)


def runs(command: list[str], pid: int) -> bool:
    """Whether ``pid`` runs ``command`` (a script shows as ``interpreter script args...``)."""
    actual = command_line(pid) or []
    program, args = command[0], command[1:]
    if len(actual) < len(command) or actual[len(actual) - len(args) :] != args:
        return False
    head = actual[: len(actual) - len(args)]
    return program in head or Path(program).name in {Path(part).name for part in head}


def stop(record: Recorded, seconds: float = 30) -> str:
    """SIGTERM the group the layout started, wait, then SIGKILL; never another program's group.

    Returns what happened, for the operator: "stopped in 1.2 s", "killed ..." or why nothing
    was signalled.
    """
    if not is_ours(record):
        if start_time(record.pid) is None or is_zombie(record.pid):
            _reap(record.pid)
            return "not running"
        return f"pid {record.pid} is another process now: not signalled"
    try:
        os.killpg(record.pid, signal.SIGTERM)
    except ProcessLookupError:
        return "not running"
    started = time.monotonic()
    while time.monotonic() < started + seconds:
        _reap(record.pid)
        try:
            os.killpg(record.pid, 0)
        except ProcessLookupError:
            return f"stopped in {time.monotonic() - started:.1f} s"
        if not is_ours(record) and _group_empty_but_zombies(record.pid):
            _reap(record.pid)
            return f"stopped in {time.monotonic() - started:.1f} s"
        time.sleep(0.1)
    try:
        os.killpg(record.pid, signal.SIGKILL)
    except ProcessLookupError:
        return f"stopped in {seconds:.0f} s"
    _reap(record.pid)
    return f"killed (still running after {seconds:.0f} s)"


def _reap(pid: int) -> None:
    """Collect the exit status if this process started ``pid`` (the tests do)."""
    try:
        os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        pass


def _group_empty_but_zombies(pgid: int) -> bool:
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == pgid and fields[0] != "Z":
            return False
    return True


def descendants(pid: int) -> list[int]:
    """Every process below ``pid`` (its children, theirs...), whatever group or session."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(ppid, []).append(int(entry.name))
    found, todo = [], [pid]
    while todo:
        below = children.get(todo.pop(), [])
        found += below
        todo += below
    return found


def wait_for(url: str, name: str, seconds: float = 180) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(url, timeout=2)
            return
        except OSError:
            time.sleep(0.5)
    raise RuntimeError(f"{name} did not answer at {url} within {seconds:.0f} s")
