"""Charts for the reports, as PNG bytes (matplotlib's Agg canvas: no display, no pyplot state),
used by the yearly report and the evaluations alike: :func:`indicator_chart` (one indicator's
values by year, the straight path from a baseline short of the target to it, the target line;
yes/no indicators "Có"/"Không" by year) and :func:`status_chart` (indicators per progress
status, read from the consolidation's ``Progress`` values). Axis numbers are written the
Vietnamese way; status colours are :data:`STATUS_COLOURS`. One small chart takes about 40 ms
(tests/test_charts.py).
"""

from __future__ import annotations

import io
import textwrap
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal

import matplotlib

matplotlib.use("Agg")  # before anything else of matplotlib: never a display

from matplotlib.backends.backend_agg import FigureCanvasAgg  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.ticker import FuncFormatter, MaxNLocator  # noqa: E402

from documents.labels import Progress  # noqa: E402
from documents.vietnamese import format_number  # noqa: E402
from models.indicators import meets_target  # noqa: E402

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
FONT = "DejaVu Sans"  # ships with matplotlib and has every Vietnamese letter
STATUS_COLOURS = {
    Progress.ACHIEVED: "#1a7f37",
    Progress.ON_TRACK: "#4caf50",
    Progress.ACCELERATION_NEEDED: "#f2a900",
    Progress.LIMITED_PROGRESS: "#e8710a",
    Progress.MOVING_AWAY: "#c62828",
    Progress.NOT_ACHIEVED: "#c62828",
    Progress.INSUFFICIENT_DATA: "#9e9e9e",
    Progress.NO_TARGET: "#cfcfcf",
}
VALUE_COLOUR, PATH_COLOUR, TARGET_COLOUR = "#1f4e79", "#7f7f7f", "#c62828"
# Type sizes at the figure's own size. A report prints an indicator chart two to a row on A4
# (7,9 cm for a 3,2 in figure: 0,97) and the overview at 13,5-15 cm for 6 in (0,89-0,98), so
# these keep every label at 8 pt or more on paper (tests/test_report_print.py).
LABEL_PT, TITLE_PT = 8.5, 9.5  # indicator charts
OVERVIEW_LABEL_PT, OVERVIEW_TITLE_PT = 9.5, 10.5

Number = Decimal | float | int


def _title_lines(title: str, width: int = 40) -> str:
    """At most two lines; a longer title is cut with an ellipsis."""
    lines = textwrap.wrap(title, width)
    if len(lines) > 2:
        lines = [lines[0], textwrap.shorten(" ".join(lines[1:]), width - 1, placeholder="") + "…"]
    return "\n".join(lines)


def _left_margin(
    known: Mapping[int, object], target: Number | None, unit: str, yes_no: bool, width: float
) -> float:
    """Room on the left for the widest axis number (and the unit), as a share of the width."""
    if yes_no:
        characters = len("Không")
    else:
        numbers = [abs(float(v)) for v in known.values()]  # type: ignore[arg-type]
        numbers += [abs(float(target))] if target is not None else []
        top = max(numbers, default=1.0) * 1.1
        characters = max(len(_axis_number(top)), len(_axis_number(top / 7)) + 2)
    points = characters * 0.62 * LABEL_PT + (LABEL_PT * 1.4 if unit and not yes_no else 0) + 6
    return min(points / (width * 72), 0.45)


def _axis_number(value: float, _position: object = None) -> str:
    return format_number(round(Decimal(str(float(value))), 4))


def _png(figure: Figure, dpi: int) -> bytes:
    buffer = io.BytesIO()
    FigureCanvasAgg(figure)
    figure.savefig(buffer, format="png", dpi=dpi)
    return buffer.getvalue()


def _figure(width: float, height: float, **margins: float) -> Figure:
    """A figure with fixed margins (a layout engine would cost more than the drawing)."""
    figure = Figure(figsize=(width, height), facecolor="white")
    figure.subplots_adjust(**margins)
    return figure


def indicator_chart(
    title: str,
    series: Mapping[int, Number | bool | None],
    *,
    unit: str = "",
    target: Number | None = None,
    baseline_year: int,
    target_year: int,
    yes_no: bool = False,
    rule: str | None = None,
    width: float = 3.2,
    height: float = 2.2,
    dpi: int = 150,
) -> bytes:
    """PNG of one indicator: values by year, baseline-to-target path, target line.

    ``series`` maps year -> value (bool for yes/no indicators; None where unknown). The path is
    drawn from the baseline year's value to ``target`` in ``target_year`` when both are known
    and the baseline does not already meet the target under ``rule`` (a straight path from a
    value past the target would point to a worse one: the target line alone is drawn then).
    """
    figure = indicator_figure(
        title,
        series,
        unit=unit,
        target=target,
        baseline_year=baseline_year,
        target_year=target_year,
        yes_no=yes_no,
        rule=rule,
        width=width,
        height=height,
    )
    return _png(figure, dpi)


def indicator_figure(
    title: str,
    series: Mapping[int, Number | bool | None],
    *,
    unit: str = "",
    target: Number | None = None,
    baseline_year: int,
    target_year: int,
    yes_no: bool = False,
    rule: str | None = None,
    width: float = 3.2,
    height: float = 2.2,
) -> Figure:
    """The figure :func:`indicator_chart` renders (its lines can be inspected)."""
    known = {year: value for year, value in sorted(series.items()) if value is not None}
    figure = _figure(
        width, height, left=_left_margin(known, target, unit, yes_no, width), right=0.97,
        top=0.76, bottom=0.12,
    )  # fmt: skip
    axes = figure.add_subplot()
    # The title across the whole figure, placed (not laid out: measuring every artist to place
    # a title costs a third of the drawing time).
    per_line = int(width * 72 * 0.94 / (0.6 * TITLE_PT))
    figure.text(0.02, 0.98, _title_lines(title, per_line), fontsize=TITLE_PT, family=FONT,
                ha="left", va="top")  # fmt: skip
    axes.tick_params(labelsize=LABEL_PT)
    axes.set_xlim(min([baseline_year, *known]) - 0.5, target_year + 0.5)
    room = width * 72 * (figure.subplotpars.right - figure.subplotpars.left)
    years = max(2, int(room / (4.6 * 0.62 * LABEL_PT + 6)))  # year labels that do not touch
    axes.xaxis.set_major_locator(MaxNLocator(integer=True, nbins=min(years, 7)))
    axes.grid(axis="y", linewidth=0.4, alpha=0.5)
    for side in ("top", "right"):
        axes.spines[side].set_visible(False)
    if yes_no:
        years = list(known)
        axes.scatter(
            years,
            [1 if known[y] else 0 for y in years],
            c=[
                STATUS_COLOURS[Progress.ACHIEVED if known[y] else Progress.MOVING_AWAY]
                for y in years
            ],
            s=24,
            zorder=3,
        )
        axes.set_ylim(-0.5, 1.5)
        axes.set_yticks([0, 1], ["Không", "Có"], fontsize=LABEL_PT, family=FONT)
    else:
        values = {year: float(value) for year, value in known.items()}
        if target is not None:
            axes.axhline(float(target), color=TARGET_COLOUR, linewidth=0.9, linestyle=":")
            axes.annotate(
                f"Mục tiêu {target_year}: {format_number(target)}",
                (target_year + 0.4, float(target)),
                fontsize=LABEL_PT,
                family=FONT,
                color=TARGET_COLOUR,
                ha="right",
                va="bottom",
            )
            start = Decimal(str(known[baseline_year])) if baseline_year in values else None
            if start is not None and not (rule and meets_target(rule, Decimal(str(target)), start)):
                axes.plot(
                    [baseline_year, target_year],
                    [values[baseline_year], float(target)],
                    color=PATH_COLOUR,
                    linewidth=0.8,
                    linestyle="--",
                )
        if values:
            axes.plot(
                list(values), list(values.values()), color=VALUE_COLOUR, marker="o", markersize=3
            )
        else:
            axes.text(0.5, 0.5, "Chưa có số liệu", transform=axes.transAxes, ha="center",
                      fontsize=LABEL_PT, family=FONT, color=PATH_COLOUR)  # fmt: skip
        axes.yaxis.set_major_formatter(FuncFormatter(_axis_number))
        if unit:
            axes.set_ylabel(unit, fontsize=LABEL_PT, family=FONT)
    return figure


def status_chart(
    counts: Mapping[Progress, int] | Iterable[Progress],
    *,
    title: str = "Tiến độ thực hiện các chỉ tiêu",
    width: float = 6.0,
    height: float = 2.8,
    dpi: int = 150,
) -> bytes:
    """PNG of a horizontal bar per progress status with its count (statuses with 0 left out).

    ``counts`` is status -> count, or an iterable of statuses (one per indicator).
    """
    if not isinstance(counts, Mapping):
        tally: dict[Progress, int] = {}
        for status in counts:
            tally[status] = tally.get(status, 0) + 1
        counts = tally
    shown = [(s, counts[s]) for s in Progress if counts.get(s)]
    figure = _figure(width, height, left=0.38, right=0.97, top=0.87, bottom=0.1)
    axes = figure.add_subplot()
    labels = [status.text for status, _ in shown][::-1]
    numbers = [count for _, count in shown][::-1]
    bars = axes.barh(labels, numbers, color=[STATUS_COLOURS[s] for s, _ in shown][::-1], height=0.6)
    axes.bar_label(
        bars, labels=[str(n) for n in numbers], padding=3, fontsize=OVERVIEW_LABEL_PT, family=FONT
    )
    axes.set_title(title, fontsize=OVERVIEW_TITLE_PT, family=FONT, loc="left")
    axes.tick_params(labelsize=OVERVIEW_LABEL_PT)
    for label in axes.get_yticklabels():
        label.set_family(FONT)
    axes.xaxis.set_major_locator(MaxNLocator(integer=True))
    axes.set_xlim(0, max(numbers, default=1) * 1.15 + 0.5)
    for side in ("top", "right"):
        axes.spines[side].set_visible(False)
    return _png(figure, dpi)


@dataclass(frozen=True)
class IndicatorSeries:
    """What one indicator's chart shows: its values by year and its target."""

    number: int
    name: str
    unit: str
    target: Decimal | None
    yes_no: bool
    values: Mapping[int, Decimal | bool | None]
    rule: str | None = None  # the target's rule: no path drawn from a baseline already past it


@dataclass(frozen=True)
class ReportCharts:
    """The charts of a report, rendered once and embedded in its DOCX and HTML."""

    overview: bytes
    indicators: list[tuple[str, bytes]]  # (caption, PNG), in the programme's order


def report_charts(
    series: Sequence[IndicatorSeries],
    statuses: Iterable[Progress],
    *,
    baseline_year: int,
    target_year: int,
    overview_title: str = "Tiến độ thực hiện các chỉ tiêu",
) -> ReportCharts:
    """The overview of ``statuses`` and one chart per indicator of ``series``."""
    return ReportCharts(
        overview=status_chart(statuses, title=overview_title),
        indicators=[
            (
                f"{item.number}. {item.name}",
                indicator_chart(
                    f"{item.number}. {item.name}",
                    item.values,
                    unit=item.unit,
                    target=item.target,
                    baseline_year=baseline_year,
                    target_year=target_year,
                    yes_no=item.yes_no,
                    rule=item.rule,
                ),
            )
            for item in series
        ],
    )
