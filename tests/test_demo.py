"""`python -m demo` (what `make demo` runs) end to end in a clean folder, and what its outbox holds."""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import email.utils
import sqlite3
from collections import Counter

from tests.servers import run_r42_in_clean_folder


def test_demo_outbox_holds_one_request_per_agency_and_only_due_reminders(tmp_path):
    run = run_r42_in_clean_folder(tmp_path, module="demo")
    assert "Demo finished." in run.stdout

    demo = tmp_path / "data" / "demo"
    database = sqlite3.connect(demo / "r42.sqlite3")
    agencies = dict(
        database.execute(
            "SELECT a.email, a.code FROM request r JOIN agency a ON a.id = r.agency_id"
        )
    )
    first_report = dict(
        database.execute(
            "SELECT a.code, MIN(s.submitted_at) FROM submission s"
            " JOIN request r ON r.id = s.request_id JOIN agency a ON a.id = r.agency_id"
            " GROUP BY a.code"
        )
    )
    assert 0 < len(first_report) < len(agencies)  # some agencies never report

    requests, reminders = Counter(), Counter()
    for path in sorted((demo / "outbox").glob("*.eml")):
        message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        code = agencies.get(message["To"].addresses[0].addr_spec)
        if "-request-" in path.name:
            requests[code] += 1
        elif "-reminder-" in path.name:
            # '<agency>-<rung>', or '<agency>@<granted date>-<rung>' on an extended ladder
            reminders[(code, path.stem.split("-reminder-", 1)[1])] += 1
            sent = email.utils.parsedate_to_datetime(message["Date"])
            reported = first_report.get(code)
            assert reported is None or reported > sent.astimezone(dt.UTC).replace(
                tzinfo=None
            ).isoformat(sep=" "), f"{path.name}: {code} had reported on {reported}"
    assert requests == Counter({code: 1 for code in agencies.values()})
    assert reminders and max(reminders.values()) == 1
    assert len(list((demo / "outbox").glob("*-report-*.eml"))) == 1
    report = (demo / "report-2026.md").read_text(encoding="utf-8")
    assert "Số: 215/BC-UBND" in report and "DỰ THẢO" not in report
