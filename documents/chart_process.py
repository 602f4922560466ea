"""A report's charts drawn in a second process while this one writes the rest of the report.

The 35 charts of a yearly report take about 2 s of matplotlib, all of it holding the GIL; the
annex, the breakdown by agency and the DOCX tables take as long again and need the charts only
when the pictures are placed. :class:`ChartProcess` starts ``python -m documents.chart_process``
early (matplotlib is imported while this process consolidates), sends it the series once they
are known (pickled on its stdin, length first) and reads the PNGs back (pickled on its stdout),
so that on two cores the charts cost nothing. The PNGs are the bytes that
:func:`documents.charts.report_charts` draws here; where no process can be started, it is
called here.

    with ChartProcess() as charts:
        ...  # consolidate
        charts.draw(series, statuses, baseline_year=2020, target_year=2030)
        ...  # write what needs no chart
        pictures = charts.result()
"""

from __future__ import annotations

import pickle
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # matplotlib is imported by the chart process, not by this one
    from documents.charts import IndicatorSeries, ReportCharts
    from documents.labels import Progress

ROOT = Path(__file__).resolve().parents[1]
TIMEOUT_S = 300  # 35 charts take ~2 s; a chart process that hangs must not hold a flow run


class ChartProcessError(RuntimeError):
    """The chart process exited without charts (its stderr is in the message)."""


class ChartProcess:
    """One report's charts, drawn by a child process; a context manager that never leaves the
    child running."""

    def __init__(self) -> None:
        self._job: tuple[list[IndicatorSeries], list[Progress], dict[str, Any]] | None = None
        self._charts: ReportCharts | None = None
        try:
            self._process: subprocess.Popen[bytes] | None = subprocess.Popen(
                [sys.executable, "-m", "documents.chart_process"],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                cwd=ROOT,  # ``-m`` finds the project's packages from here
            )
        except OSError:  # no process may be started here: draw in this one
            self._process = None

    @property
    def drawing(self) -> bool:
        """Whether it has been given its charts to draw."""
        return self._job is not None

    def draw(
        self, series: Sequence[IndicatorSeries], statuses: Sequence[Progress], **options: Any
    ) -> None:
        """Start drawing :func:`documents.charts.report_charts` of these arguments."""
        if self._job is not None:
            raise RuntimeError("a chart process draws one report's charts")
        self._job = (list(series), list(statuses), options)
        if self._process is not None and self._process.stdin is not None:
            job = pickle.dumps(self._job)
            try:  # length first: the child starts on the job without waiting for the pipe's end
                self._process.stdin.write(len(job).to_bytes(8, "big") + job)
                self._process.stdin.flush()
            except BrokenPipeError:
                pass  # it exited early: result() reports why

    def result(self) -> ReportCharts:
        """The charts, once drawn."""
        if self._charts is not None:
            return self._charts
        if self._job is None:
            raise RuntimeError("nothing to draw: call draw() first")
        if self._process is None:
            from documents.charts import report_charts

            series, statuses, options = self._job
            self._charts = report_charts(series, statuses, **options)
            return self._charts
        try:
            out, err = self._process.communicate(timeout=TIMEOUT_S)
        except subprocess.TimeoutExpired as exc:
            self.close()
            raise ChartProcessError(f"the chart process drew nothing in {TIMEOUT_S} s") from exc
        if self._process.returncode != 0 or not out:
            detail = err.decode("utf-8", "replace").strip()[-2000:]
            raise ChartProcessError(
                f"the chart process exited with status {self._process.returncode}: {detail}"
            )
        self._charts = pickle.loads(out)  # noqa: S301  (our own child's output)
        return self._charts

    def close(self) -> None:
        if self._process is not None and self._process.poll() is None:
            self._process.kill()
            self._process.communicate()

    def __enter__(self) -> ChartProcess:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()


def main() -> int:
    """The child: read one job on stdin, write its charts on stdout."""
    from documents.charts import report_charts

    size = sys.stdin.buffer.read(8)
    if len(size) < 8:  # the parent needed no charts after all
        return 0
    job = sys.stdin.buffer.read(int.from_bytes(size, "big"))
    series, statuses, options = pickle.loads(job)  # noqa: S301  (from our own parent)
    sys.stdout.buffer.write(pickle.dumps(report_charts(series, statuses, **options)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
