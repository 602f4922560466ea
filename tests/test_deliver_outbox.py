"""The deliver-outbox flow under Prefect's harness: mail queued while the relay was down goes
out as soon as it is back, not with the next reminder rung; a refused login is said once."""

from __future__ import annotations

import datetime as dt
from collections import Counter

import pytest
from prefect.client.orchestration import get_client

from flows.deliver_outbox import deliver_outbox_flow
from flows.open_cycle import open_cycle_flow
from tests.factories import at
from tests.servers import SmtpServer, free_port

pytestmark = pytest.mark.usefixtures("prefect_harness")
OPENED = dt.date(2026, 11, 2)


def smtp_on(configure, port: int, **extra: str) -> None:
    settings = {
        "TRANSPORT": "smtp",
        "SMTP_HOST": "127.0.0.1",
        "SMTP_PORT": str(port),
        "SMTP_TIMEOUT": "3",
        "RETRY_WAIT_SECONDS": "0",
        **extra,
    }
    configure(**{f"R42_MAIL__{key}": value for key, value in settings.items()})


def test_requests_queued_while_the_relay_is_down_go_out_when_it_is_back(db, configure):
    port = free_port()
    smtp_on(configure, port)
    opened = open_cycle_flow(year=2026, opened_on=OPENED, as_of=at(OPENED, 8))
    assert opened["queued"] > 10 and opened["pending"] == opened["queued"]
    assert deliver_outbox_flow() != {}  # still down: nothing lost, nothing failed
    with SmtpServer(port=port) as server:
        totals = deliver_outbox_flow()
        assert deliver_outbox_flow() == {}  # nothing is due any more: one query, no run work
    (cycle_totals,) = totals.values()
    assert cycle_totals == {"sent": opened["queued"]}
    import asyncio
    import json

    rows = json.loads(asyncio.run(_delivery_artifact()).data)
    assert list(rows[0])[:2] == ["Cơ quan", "Tình trạng"]  # the status second, in Vietnamese
    assert {row["Tình trạng"] for row in rows} == {"Đã gửi"}
    copies = Counter(r for received in server.received for r in received.recipients)
    assert len(copies) == opened["queued"] and set(copies.values()) == {1}


async def _delivery_artifact():
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterKey
    from prefect.client.schemas.sorting import ArtifactSort

    async with get_client() as client:
        artifacts = await client.read_artifacts(
            artifact_filter=ArtifactFilter(key=ArtifactFilterKey(like_="delivery-vinh")),
            sort=ArtifactSort.CREATED_DESC,
            limit=1,
        )
    return artifacts[0]


def test_a_refused_login_is_said_once_and_everything_waits(db, configure, tmp_path, monkeypatch):
    import asyncio

    from aiosmtpd.smtp import AuthResult

    from tests.servers import make_tls_files

    cert, _, context = make_tls_files(tmp_path)
    monkeypatch.setenv("SSL_CERT_FILE", str(cert))
    logins = []

    def authenticator(server, session, envelope, mechanism, auth_data):
        logins.append(auth_data.login)
        return AuthResult(success=False, handled=False)

    with SmtpServer(
        tls_context=context, require_starttls=True, authenticator=authenticator, auth_required=True
    ) as server:
        smtp_on(
            configure,
            server.port,
            SMTP_SECURITY="starttls",
            SMTP_USERNAME="tonghop",
            SMTP_PASSWORD="wrong",
        )
        opened = open_cycle_flow(year=2026, opened_on=OPENED, as_of=at(OPENED, 8))
    assert len(logins) == 1 and server.received == []
    assert opened["pending"] == opened["queued"] > 10
    artifact = asyncio.run(_delivery_artifact())
    assert "Dừng gửi" in artifact.description and "R42_MAIL__SMTP_PASSWORD" in artifact.description
