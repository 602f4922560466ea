"""The stages of ``benchmarks.national_scale`` that run outside the flows: simulated
submissions, and the consolidate flow's parts timed alone (its report files, its chart process
with its own memory, the consolidation and the report's text)."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
import time

ICT = dt.timezone(dt.timedelta(hours=7))


def at(day: dt.date, hour: int = 9) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour), tzinfo=ICT)


def submit(code: str, share: tuple[float, float], day: dt.date) -> int:
    """Agencies whose position falls in ``share`` of the list report on ``day``."""
    from models.cycles import cycle_requests, get_cycle
    from models.database import session_scope
    from models.orm import Channel
    from reporting.intake import record_submission
    from tests.factories import valid_input

    with session_scope() as session:
        requests = cycle_requests(get_cycle(code, 2026, session=session), session=session)
        chosen = requests[int(share[0] * len(requests)) : int(share[1] * len(requests))]
        for request in chosen:
            data = valid_input(request.agency, value=f"{40 + request.id % 50},5")
            record_submission(
                request,
                data,
                session=session,
                channel=Channel.WEB_FORM,
                submitted_by="benchmark",
                submitted_at=at(day),
            )
        return len(chosen)


def files_only(code: str, now: dt.datetime) -> str:
    """What the consolidate flow adds to the above: the report's files (documents/, #5)."""
    from models.cycles import get_cycle
    from models.database import session_scope
    from models.reports import latest_report

    try:
        from reporting.cycle_kinds import build_report_files
    except ImportError as exc:
        return f"not measured: {exc}"
    with session_scope() as session:
        report = latest_report(get_cycle(code, 2026, session=session), session=session)
        files = build_report_files(report, session=session, draft=True, now=now)
    sizes = {k: len(getattr(files, k, b"")) for k in ("docx", "xlsx", "html")}
    return ", ".join(f"{k} {v / 1e6:.1f} MB" for k, v in sizes.items())


def chart_process_alone(code: str) -> str:
    """The consolidate flow draws its charts in a second process (documents/chart_process.py):
    that process alone, on the latest revision's charts, with its own peak memory."""
    import pickle

    from documents import chart_process
    from models.cycles import get_cycle
    from models.database import session_scope
    from models.reports import latest_report
    from reporting.report_files import draw_charts

    class Job:  # what draw_charts gives the chart process
        drawing, job = False, b""

        def draw(self, series, statuses, **options) -> None:  # type: ignore[no-untyped-def]
            self.job = pickle.dumps((list(series), list(statuses), options))

    job = Job()
    with session_scope() as session:
        report = latest_report(get_cycle(code, 2026, session=session), session=session)
        draw_charts(job, report.cycle, report.data, session=session)  # type: ignore[arg-type]
    # Its peak from /proc (VmHWM starts again at exec): getrusage would count this process's
    # pages, shared with the child between fork and exec.
    code = (
        "import runpy, sys\n"
        "try:\n    runpy.run_module('documents.chart_process', run_name='__main__')\n"
        "except SystemExit:\n    pass\n"
        "status = open('/proc/self/status').read()\n"
        "print(status.split('VmHWM:')[1].split()[0], file=sys.stderr)"
    )
    start = time.perf_counter()
    child = subprocess.run(
        [sys.executable, "-c", code],
        input=len(job.job).to_bytes(8, "big") + job.job,
        capture_output=True,
        cwd=chart_process.ROOT,
        check=True,
    )
    peak = int(child.stderr.split()[-1]) / 1024
    return (
        f"{time.perf_counter() - start:.1f} s with its start, {len(child.stdout) / 1e6:.1f} MB "
        f"of PNG, peak RSS {peak:.0f} MB (beside the flow's)"
    )


def consolidate_only(code: str, now: dt.datetime) -> str:
    from documents.content_html import report_body
    from documents.content_markdown import content_markdown
    from documents.stored_report import read_consolidation
    from models.cycles import get_cycle
    from models.database import session_scope
    from reporting.consolidation import consolidate
    from reporting.yearly_content import build_content

    with session_scope() as session:
        cycle = get_cycle(code, 2026, session=session)
        start = time.perf_counter()
        data = consolidate(cycle, session=session, as_of=now).as_data()
        middle = time.perf_counter()
        content = build_content(read_consolidation(data), cycle.registry_version.document)
        text, html = content_markdown(content), report_body(content)
        end = time.perf_counter()
    return (
        f"consolidate {middle - start:.2f} s, render {end - middle:.2f} s, "
        f"report {len(text) / 1e6:.1f} MB Markdown, {len(html) / 1e6:.1f} MB HTML"
    )
