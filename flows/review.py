"""The 2025 mid-term review (sơ kết) and the 2030 final review (tổng kết): the cycle's own
flows, run for a review's kind.

A review is a collection round like the yearly cycle, with the evaluation form: the same
open-cycle, send-reminders and consolidate flows run with ``kind`` midterm or final (as
subflows of this one), and its report is approved and sent to the ministry by
submit-to-ministry with the same ``kind``. This flow is what the ``midterm-review`` and
``final-review`` deployments run: the step asked, or with ``step="auto"`` whatever is due on
the day (open the round if it is not open, send the reminder rung due, consolidate once the
deadline has passed). Every step is idempotent: a second run changes nothing and sends nothing
again.
"""

import datetime as dt
from typing import Literal

from prefect import flow, get_run_logger

from flows.common import run_scope
from flows.consolidate import consolidate_flow
from flows.open_cycle import open_cycle_flow
from flows.parameters import PROGRAMME, asked
from flows.send_reminders import send_reminders_flow
from models.cycles import find_cycle
from models.database import session_scope

Step = Literal["auto", "open", "remind", "consolidate"]
Review = Literal["midterm", "final"]


@flow(name="review")
def review_flow(
    kind: Review = asked("Loại kỳ", "midterm: sơ kết 2025; final: tổng kết 2030"),
    year: int | None = asked("Năm", "Năm của kỳ sơ kết, tổng kết; để trống: năm nay", None),
    step: Step = asked(
        "Bước",
        "auto: việc đến hạn trong ngày; open: mở kỳ; remind: nhắc hạn; consolidate: tổng hợp",
        "auto",
    ),
    programme: str | None = PROGRAMME,
    opened_on: dt.date | None = asked("Ngày mở", "Ngày mở kỳ; để trống: hôm nay", None),
    deadline: dt.date | None = asked(
        "Hạn báo cáo", "Hạn gửi báo cáo của kỳ; để trống: theo quy tắc hằng năm", None
    ),
    on: dt.date | None = asked("Ngày", "Ngày xét việc đến hạn; để trống: hôm nay", None),
    as_of: dt.datetime | None = asked(
        "Thời điểm", "Chỉ dùng khi chạy thử: coi như đang ở thời điểm này; để trống: bây giờ", None
    ),
) -> dict:
    """Open, remind or consolidate the review of ``kind`` (``auto``: what is due on the day).

    Its report is approved and sent by submit-to-ministry with the same ``kind``."""
    scope = run_scope(year, programme, as_of)
    programme, year, day = scope.programme, scope.year, on or scope.today
    common = {"year": year, "programme": programme, "as_of": scope.now, "kind": kind}
    result: dict = {"kind": kind, "year": year, "day": day.isoformat()}
    with session_scope() as session:
        found = find_cycle(programme, year, session=session, kind=kind)
        deadline_of = found.deadline if found else None
    if step == "auto" and found is None and day.year != year:
        get_run_logger().info("Nothing due on %s: the %s review of %d is not open", day, kind, year)
        return result  # a scheduled run in another year never opens the round early
    if step == "open" or (step == "auto" and found is None):
        opened = open_cycle_flow(**common, opened_on=opened_on or day, deadline=deadline)
        return result | {"opened": opened}
    if step in ("remind", "auto"):
        result["reminded"] = send_reminders_flow(**common, on=day)
    if step == "consolidate" or (step == "auto" and deadline_of and day > deadline_of):
        result["report"] = consolidate_flow(**common)
    return result


# The deployments ops know, "midterm-review/midterm-review" and "final-review/final-review":
# the one review flow under each name (prefect.yaml sets their kind and year).
midterm_review_flow = review_flow.with_options(name="midterm-review")
final_review_flow = review_flow.with_options(name="final-review")
