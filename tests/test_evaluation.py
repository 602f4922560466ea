"""Evaluation rounds on both databases: the form's intake, the progress statuses, the final."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from models.cycles import cycle_requests, ensure_requests, get_cycle, open_cycle
from models.database import session_scope
from models.observations import Observed, record_observations
from models.orm import Agency, Channel, CycleKind, EvaluationValue, Submission
from models.registry_store import get_programme
from reporting.evaluation import evaluate
from reporting.evaluation_intake import EvaluationInput, record_evaluation
from reporting.submission_input import IntakeError, TaskReportInput
from tests.factories import PROGRAMME, at

# The issue's vectors: baseline 2020, latest 2025, target year 2030.
VECTORS = {
    "trained_certified": ("25.0", "30,0"),  # >= 40: R = 0.772, acceleration needed
    "stunting_under5": ("20.0", "17,0"),  # < 13, lower is better: R = 0.759
    "hospital_beds": ("34.0", "33,0"),  # >= 32: achieved, falling
    "unemployment": ("3.5", "2,8"),  # < 3: achieved
}


def evaluation_input(agency: Agency, year: int, values: dict[str, object] | None = None):
    """A valid evaluation report: the round year's value for every indicator, a narrative."""
    values = values or {}
    given = {}
    for i in agency.indicators:
        default = "có" if i.kind == "yes_no" else "12" if i.kind == "count" else "50,5"
        given[i.code] = {year: values.get(i.code, default)}
    tasks = {
        g.code: TaskReportInput(
            status="ongoing",
            results=f"Kết quả nhóm {g.number} giai đoạn.",
            difficulties="Thiếu nhân lực ở cơ sở." if g.number == 5 else "",
            proposals="Bổ sung kinh phí." if g.number == 6 else "",
        )
        for g in agency.task_groups
    }
    return EvaluationInput(
        values=given,
        tasks=tasks,
        results=f"{agency.name}: hoàn thành phần lớn nhiệm vụ.",
        shortfall_causes="Nguồn lực còn hạn chế.",
        lessons="Phân công rõ người, rõ việc.",
        proposals="Đề nghị Trung ương hướng dẫn bộ chỉ tiêu.",
    )


def open_round(kind: str, year: int, opened: dt.date, deadline: dt.date) -> None:
    with session_scope() as session:
        cycle, _ = open_cycle(
            PROGRAMME, year, opened, session=session, kind=kind, deadline=deadline
        )
        ensure_requests(cycle, session=session)


def submit_all(kind: str, year: int, values: dict[str, object], day: dt.date) -> None:
    with session_scope() as session:
        cycle = get_cycle(PROGRAMME, year, session=session, kind=kind)
        for request in cycle_requests(cycle, session=session):
            record_evaluation(
                request,
                evaluation_input(request.agency, year, values),
                session=session,
                channel=Channel.WEB_FORM,
                submitted_by="test",
                submitted_at=at(day),
            )


def test_midterm_statuses_hold_the_issues_vectors(db):
    with session_scope() as session:
        programme = get_programme(PROGRAMME, session=session)
        programme.baseline_year = 2020
        record_observations(
            programme,
            2020,
            {code: Observed(Decimal(base), None) for code, (base, _) in VECTORS.items()},
            session=session,
            source="import",
        )
    open_round(CycleKind.MIDTERM, 2025, dt.date(2025, 9, 15), dt.date(2025, 10, 31))
    submit_all(
        CycleKind.MIDTERM, 2025, {c: v for c, (_, v) in VECTORS.items()}, dt.date(2025, 10, 1)
    )
    with session_scope() as session:
        cycle = get_cycle(PROGRAMME, 2025, session=session, kind=CycleKind.MIDTERM)
        result = evaluate(cycle, session=session, as_of=at(dt.date(2025, 11, 1)))
    rows = {i.code: i for i in result.indicators}
    assert result.years == list(range(2020, 2026)) and result.review == "sơ kết"
    # R unrounded, as sdg-build computes it (tests/test_progress.py)
    assert rows["trained_certified"].status == "acceleration_needed"
    assert rows["trained_certified"].ratio == pytest.approx(0.7717257963801709)
    assert rows["stunting_under5"].status == "acceleration_needed"
    assert rows["stunting_under5"].ratio == pytest.approx(0.7585028888023315)
    assert rows["hospital_beds"].status == "achieved" and rows["hospital_beds"].worsening
    assert rows["unemployment"].status == "achieved" and not rows["unemployment"].worsening
    assert "Cần tăng tốc (R\u00a0=\u00a00,77)" == rows["trained_certified"].progress_text
    assert rows["hospital_beds"].progress_text == "Đã đạt mục tiêu; đạt nhưng đang xấu đi"
    # No 2020 value for merit_care (50,5 < 100): too few years, said so instead of guessed.
    assert rows["merit_care"].status == "insufficient_data"
    assert "năm gốc 2020" in rows["merit_care"].note
    assert rows["trained_certified"].sources == {2020: "stored", 2025: "agency"}
    assert result.on_time == result.requested and result.missing == 0
    assert result.narratives["lessons"][0]["text"] == "Phân công rõ người, rõ việc."


def test_final_review_compares_the_target_year_values_directly(db):
    open_round(CycleKind.FINAL, 2030, dt.date(2030, 10, 1), dt.date(2030, 11, 15))
    values = {
        "trained_certified": "40",  # at least 40: met exactly
        "unemployment": "3",  # below 3 is strict: 3 is not met
        "stunting_under5": "12,9",
        "minimum_living": "không",
    }
    submit_all(CycleKind.FINAL, 2030, values, dt.date(2030, 11, 20))
    with session_scope() as session:
        cycle = get_cycle(PROGRAMME, 2030, session=session, kind=CycleKind.FINAL)
        result = evaluate(cycle, session=session, as_of=at(dt.date(2030, 11, 30)))
    rows = {i.code: i for i in result.indicators}
    assert result.is_final and result.late == result.requested
    assert rows["trained_certified"].status == "achieved"
    assert rows["unemployment"].status == "not_achieved"
    assert rows["unemployment"].ratio is None  # no growth ratio: a direct comparison
    assert rows["stunting_under5"].status == "achieved"
    assert rows["minimum_living"].status == "not_achieved"
    assert rows["social_housing"].status == "no_target"


def test_the_form_names_every_wrong_field_and_stores_nothing(db):
    open_round(CycleKind.MIDTERM, 2025, dt.date(2025, 9, 15), dt.date(2025, 10, 31))
    with session_scope() as session:
        cycle = get_cycle(PROGRAMME, 2025, session=session, kind=CycleKind.MIDTERM)
        request = next(
            r for r in cycle_requests(cycle, session=session) if r.agency.code == "so-noi-vu"
        )
        data = evaluation_input(request.agency, 2025)
        data.values["unemployment"] = {2024: "abc", 2025: ""}
        data.values["merit_care"] = {2019: "12"}
        data.values["not_an_indicator"] = {2025: "1"}
        data.lessons = " "
        with pytest.raises(IntakeError) as refused:
            record_evaluation(
                request,
                data,
                session=session,
                channel=Channel.WEB_FORM,
                submitted_by="test",
                submitted_at=at(dt.date(2025, 10, 1)),
            )
        errors = {e.field: e.message for e in refused.value.errors}
        assert errors["values.unemployment.2024"] == "Phải là một số, ví dụ 99,5."
        assert errors["values.unemployment.2025"] == "Chưa nhập số liệu."
        assert errors["values.merit_care.2019"] == "Năm 2019 không thuộc giai đoạn đánh giá."
        assert errors["values.merit_care.2025"] == "Chưa nhập số liệu."
        assert "values.not_an_indicator" in errors
        assert errors["lessons"] == "Nêu bài học kinh nghiệm rút ra."
        assert session.scalar(select(func.count()).select_from(Submission)) == 0

        data = evaluation_input(request.agency, 2025, {"unemployment": "2,4"})
        data.values["unemployment"][2024] = "2,45"
        submission = record_evaluation(
            request,
            data,
            session=session,
            channel=Channel.WEB_FORM,
            submitted_by="test",
            submitted_at=at(dt.date(2025, 11, 3)),
        )
        assert submission.is_late and submission.revision == 1
        earlier = session.scalars(select(EvaluationValue)).all()
        assert [(v.indicator.code, v.year, v.value) for v in earlier] == [
            ("unemployment", 2024, Decimal("2.45"))
        ]


def test_ops_import_a_workbook_sent_back_by_mail(db, tmp_path, capsys):
    import io

    import openpyxl

    from cli import main as cli
    from reporting.evaluation_excel import build_evaluation_form
    from reporting.evaluation_requests import known_series

    open_round(CycleKind.MIDTERM, 2025, dt.date(2025, 9, 15), dt.date(2025, 10, 31))
    with session_scope() as session:
        cycle = get_cycle(PROGRAMME, 2025, session=session, kind=CycleKind.MIDTERM)
        request = next(
            r for r in cycle_requests(cycle, session=session) if r.agency.code == "so-noi-vu"
        )
        known = known_series(cycle.programme, [2024, 2025], session=session)
        content = build_evaluation_form(request, known=known, link="http://x/bao-cao/t")
    wb = openpyxl.load_workbook(io.BytesIO(content))
    sheet = wb["Chỉ tiêu theo năm"]  # laid out like the yearly form: title over hidden codes
    assert sheet["B1"].value.startswith("BÁO CÁO SƠ KẾT") and sheet.column_dimensions["A"].hidden
    assert sheet.protection.sheet and not sheet["G4"].protection.locked
    assert wb["_meta"].sheet_state == "veryHidden" and wb["Nhiệm vụ"].data_validations.count == 1
    for row in (4, 5, 6):
        wb["Chỉ tiêu theo năm"].cell(row, 7, "2,5" if row > 4 else "abc")
    for row in range(4, 9):
        wb["Nhiệm vụ"].cell(row, 4, "Hoàn thành")
        wb["Nhiệm vụ"].cell(row, 5, "Xong.")
    wb["Đánh giá chung"]["B4"], wb["Đánh giá chung"]["B6"] = "Đạt.", "Bài học."
    path = tmp_path / "so-ket.xlsx"
    wb.save(path)
    assert cli.main(["import-evaluation-form", str(path)]) == 2
    assert "Chỉ tiêu theo năm!G4: Phải là một số, ví dụ 99,5." in capsys.readouterr().err
    wb["Chỉ tiêu theo năm"].cell(4, 7, "99,1")
    wb.save(path)
    assert cli.main(["import-evaluation-form", str(path)]) == 0
    assert "Sở Nội vụ: midterm 2025 revision 1" in capsys.readouterr().out


def test_simultaneous_evaluations_for_one_request_get_successive_revisions(db):
    import threading

    open_round(CycleKind.MIDTERM, 2025, dt.date(2025, 9, 15), dt.date(2025, 10, 31))
    barrier, revisions, errors = threading.Barrier(4), [], []

    def post(n: int) -> None:
        try:
            barrier.wait(60)
            with session_scope() as session:
                cycle = get_cycle(PROGRAMME, 2025, session=session, kind=CycleKind.MIDTERM)
                request = cycle_requests(cycle, session=session)[0]
                data = evaluation_input(request.agency, 2025)
                data.lessons = f"Bài học lần {n}."  # each a new revision (the same one is not)
                with session.begin_nested():
                    submission = record_evaluation(
                        request,
                        data,
                        session=session,
                        channel=Channel.WEB_FORM,
                        submitted_by="test",
                        submitted_at=at(dt.date(2025, 10, 1)),
                    )
                revisions.append(submission.revision)
        except Exception as exc:  # asserted on below
            errors.append(exc)

    threads = [threading.Thread(target=post, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == [] and sorted(revisions) == [1, 2, 3, 4]


def test_coordinator_commands_reach_a_review_round_by_its_kind(db, capsys):
    from cli import main as cli

    open_round(CycleKind.MIDTERM, 2025, dt.date(2025, 9, 15), dt.date(2025, 10, 31))
    assert cli.main(["lock", "--year", "2025", "--kind", "midterm"]) == 0
    assert "Cycle 2025 (midterm) is now locked" in capsys.readouterr().out
    with session_scope() as session:
        assert get_cycle(PROGRAMME, 2025, session=session, kind=CycleKind.MIDTERM).status == (
            "locked"
        )
    assert cli.main(["link", "--year", "2025", "--kind", "midterm", "--agency", "so-noi-vu"]) == 0
    assert "/bao-cao/" in capsys.readouterr().out
    # Without --kind the commands mean the yearly cycle, which is not open for 2025 here.
    assert cli.main(["lock", "--year", "2025"]) != 0
    assert "no annual cycle 2025" in capsys.readouterr().err
