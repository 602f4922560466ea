"""Is one Prefect task run per agency affordable at 4,500 agencies?

    .venv/bin/python -m benchmarks.task_run_cost [--agencies 4500]

Under Prefect's temporary server (what `r42` and the demo use), in a fresh PREFECT_HOME-less
process, it times:

1. the way the flows here work: one task for the whole stage, reporting per-agency progress
   to a progress artifact at most once a second (flows.common.StageProgress), then a small flow;
2. a flow with one task run per agency (each task does nothing);
3. right after it, and 30 s later, a flow with one task: how long the server, busy recording
   the runs of (2), makes the next flow wait (or whether it answers at all).

Each "agency" does no work, so what is measured is Prefect's own cost.
"""

from __future__ import annotations

import argparse
import os
import sys
import time

os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
# With one task run per agency the temporary server's in-memory event queue overflows and logs
# one "Subscription queue is full, dropping message for topic='events'" warning per event lost
# (~4,900 at 4,500 task runs); PREFECT_SERVER_LOGGING_LEVEL=WARNING shows them.
os.environ.setdefault("PREFECT_SERVER_LOGGING_LEVEL", "ERROR")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--agencies", type=int, default=4500)
    args = parser.parse_args(argv)
    n = args.agencies

    from prefect import flow, task

    from flows.common import StageProgress

    @task
    def one_agency(number: int) -> int:
        """Nothing: the cost measured is the task run's."""
        return number

    @flow(name="bench-task-per-agency")
    def task_per_agency(count: int) -> int:
        return sum(one_agency(i) for i in range(count))

    @task
    def whole_stage(count: int) -> int:
        progress = StageProgress("bench-stage-progress", "bench", f"{count} agencies")
        for done in range(1, count + 1):
            progress(done, count)
        return count

    @flow(name="bench-one-task")
    def one_task(count: int) -> int:
        return whole_stage(count)

    rows = []

    def timed(name: str, action) -> None:  # type: ignore[no-untyped-def]
        start = time.perf_counter()
        try:
            action()
            outcome = "completed"
        except Exception as exc:  # e.g. 503 from a server still busy with the previous run
            outcome = f"failed: {type(exc).__name__}: {str(exc).splitlines()[0][:90]}"
        seconds = time.perf_counter() - start
        rows.append((name, seconds, outcome))
        print(f"  {name}: {seconds:.1f} s, {outcome}", file=sys.stderr, flush=True)

    timed("temporary server start + first flow (1 task)", lambda: one_task(1))
    timed("a flow with 1 task (warm)", lambda: one_task(1))
    timed(f"one task for {n} agencies, with a progress artifact", lambda: one_task(n))
    timed("the next flow with 1 task, right after", lambda: one_task(1))
    timed(f"a flow with {n} task runs, one per agency", lambda: task_per_agency(n))
    timed("the next flow with 1 task, right after", lambda: one_task(1))
    time.sleep(30)
    timed("a flow with 1 task, 30 s later", lambda: one_task(1))

    warm = rows[1][1]
    per_task = (rows[4][1] - warm) / n * 1000
    print(f"\nPrefect task-run cost, {n} agencies, {os.cpu_count()} cores, temporary server\n")
    print("| run | wall s | outcome |")
    print("|---|---:|---|")
    for name, seconds, outcome in rows:
        print(f"| {name} | {seconds:.1f} | {outcome} |")
    print(f"\nOne task run costs {per_task:.1f} ms over a warm flow run ({warm:.1f} s).")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
