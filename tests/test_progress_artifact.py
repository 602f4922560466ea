"""Progress while a long stage runs: a progress artifact in the UI, a bar in the terminal."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from prefect.client.orchestration import get_client
from prefect.client.schemas.filters import (
    ArtifactFilter,
    ArtifactFilterKey,
    FlowRunFilter,
    FlowRunFilterId,
)

from cli import main as cli
from flows.common import add_progress_listener
from flows.open_cycle import open_cycle_flow
from tests.factories import PROGRAMME, agency_codes, at

OPENED = dt.date(2026, 11, 2)


def flow_test(test):  # type: ignore[no-untyped-def]
    """Under Prefect's harness, on SQLite (the two databases do not differ here)."""
    test = pytest.mark.usefixtures("prefect_harness", "db")(test)
    return pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)(test)


def progress_artifacts(key: str, flow_run_id) -> list:  # type: ignore[no-untyped-def]
    """The artifacts under ``key`` that one flow run created (other tests reuse the keys)."""
    with get_client(sync_client=True) as client:
        return client.read_artifacts(
            artifact_filter=ArtifactFilter(key=ArtifactFilterKey(any_=[key])),
            flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[flow_run_id])),
        )


@flow_test
def test_open_cycle_progress_reaches_100_in_the_ui_and_in_process(smtp, smtp_settings):
    seen: list[tuple[str, int, int]] = []
    remove = add_progress_listener(lambda what, done, total: seen.append((what, done, total)))
    try:
        state = open_cycle_flow(year=2026, opened_on=OPENED, as_of=at(OPENED, 8), return_state=True)
    finally:
        remove()
    result = state.result()
    agencies = len(agency_codes(2026))
    assert result["sent"] == agencies == len(smtp.received)

    for key in (f"requests-{PROGRAMME}-2026", f"delivery-progress-{PROGRAMME}-2026"):
        (artifact,) = progress_artifacts(key, state.state_details.flow_run_id)
        assert artifact.type == "progress"
        assert artifact.data == 100.0

    queueing = [(done, total) for what, done, total in seen if what == "Chuẩn bị thư đề nghị"]
    assert [done for done, _ in queueing] == list(range(1, agencies + 1))
    assert {total for _, total in queueing} == {agencies}
    sending = [(done, total) for what, done, total in seen if what == "Gửi thư"]
    assert sending[-1] == (agencies, agencies)
    assert all(a[0] <= b[0] for a, b in zip(sending, sending[1:], strict=False))


@flow_test
def test_r42_open_cycle_shows_progress_on_stderr(smtp, smtp_settings, capsys):
    argv = ["open-cycle", "--year", "2026", "--opened-on", str(OPENED), "--as-of"]
    assert cli.main([*argv, at(OPENED, 8).isoformat()]) == 0
    err = capsys.readouterr().err
    agencies = len(agency_codes(2026))
    assert f"Chuẩn bị thư đề nghị: 100% ({agencies}/{agencies})" in err
    assert f"Gửi thư: 100% ({agencies}/{agencies})" in err
    assert err.count("Chuẩn bị thư đề nghị:") <= 11  # one line per 10 % when not a terminal


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_the_terminal_bar_redraws_one_line_and_ends_it():
    stream = Terminal()
    bar = cli.TerminalProgress(stream, width=10)
    for done in range(0, 5):
        bar("Gửi thư", done, 4)
    lines = stream.getvalue().split("\r")[1:]
    assert lines[0] == "Gửi thư [          ]   0% (0/4)"
    assert lines[2] == "Gửi thư [#####     ]  50% (2/4)"
    assert lines[-1] == "Gửi thư [##########] 100% (4/4)\n"
