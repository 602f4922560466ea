"""Limits before work: the link is checked and the body capped before anything is parsed, for
outsiders too; refused links are counted per client and minute and rate-limited."""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import AsyncIterator, Iterator

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from starlette.datastructures import FormData, Headers
from starlette.formparsers import FormParser, MultiPartException

from config.settings import get_settings
from models.database import session_scope
from models.orm import AuditEvent, Submission
from portal.limits import plain_fields
from tests.test_intake_load import agencies, portal  # noqa: F401
from tests.test_portal import AGENCY, path_of, valid_form
from tests.test_portal import portal as test_client  # noqa: F401

MB = 1_000_000


def rss_peak_kb(pid: int) -> int:
    """The process's peak resident memory (VmHWM), in kB."""
    with open(f"/proc/{pid}/status") as status:
        return next(int(line.split()[1]) for line in status if line.startswith("VmHWM"))


def chunks(total: int, size: int = 1 << 20) -> Iterator[bytes]:
    block = b"a=" + b"x" * (size - 2)
    for _ in range(total // size):
        yield block


def post_stream(base: str, path: str, total: int, **headers: str) -> int | str:
    """POST ``total`` bytes, streamed; the status, or how the connection ended."""
    try:
        response = httpx.post(
            base + path,
            content=chunks(total),
            headers={"content-type": "application/x-www-form-urlencoded", **headers},
            timeout=60,
        )
        return response.status_code
    except httpx.TransportError as exc:  # the server answered and closed while we were sending
        return type(exc).__name__


def test_huge_bodies_are_refused_before_they_are_read(portal):  # noqa: F811
    process, base, _ = portal
    valid = agencies()[0]["path"]
    before = rss_peak_kb(process.pid)
    started = time.monotonic()
    # an outsider: 300 MB to a made-up link is refused on the link, its body never read
    outsider = post_stream(base, "/bao-cao/made.up", 300 * MB)
    assert outsider in {403, "WriteError", "RemoteProtocolError"}
    # a real link: a declared length over the cap is refused at once
    response = httpx.post(
        base + valid, content=b"x" * (5 * MB), timeout=60,
        headers={"content-type": "application/x-www-form-urlencoded"},
    )  # fmt: skip
    assert response.status_code == 413 and "Dữ liệu gửi lên quá lớn" in response.text
    assert "4 MB" in response.text
    # a real link, chunked with no length: cut at the cap while streaming
    assert post_stream(base, valid, 300 * MB, **{"transfer-encoding": "chunked"}) in {
        413,
        "WriteError",
        "RemoteProtocolError",
    }
    elapsed = time.monotonic() - started
    grown_mb = (rss_peak_kb(process.pid) - before) / 1000
    assert grown_mb < 40, f"the portal grew by {grown_mb:.0f} MB"
    assert elapsed < 20
    assert httpx.get(base + valid).status_code == 200  # and it still serves


def test_too_many_fields_or_a_field_too_large_is_refused(test_client):  # noqa: F811
    path = path_of()
    token = csrf_of_client(test_client, path)
    many = {f"f{n}": "1" for n in range(1500)} | {"csrf_token": token}
    response = test_client.post(path, data=many)
    assert response.status_code == 400 and "Yêu cầu không hợp lệ" in response.text
    huge = valid_form(token, **{"adjustment_proposals": "ộ" * 200_000})
    response = test_client.post(path, data=huge)
    assert response.status_code == 413 and "quá lớn" in response.text
    with session_scope() as session:
        assert session.scalar(select(func.count()).select_from(Submission)) == 0


def csrf_of_client(client: TestClient, path: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', client.get(path).text).group(1)


def test_refused_links_are_counted_per_minute_and_rate_limited(test_client):  # noqa: F811
    limit = get_settings().web_form.refusals_per_minute
    statuses = [test_client.get(f"/bao-cao/made.up{n}").status_code for n in range(limit + 10)]
    assert statuses[:limit] == [403] * limit and statuses[limit:] == [429] * 10
    limited = test_client.post("/bao-cao/made.up", data={"x": "y"})
    assert limited.status_code == 429 and limited.headers["retry-after"] == "60"
    assert "Quá nhiều yêu cầu" in limited.text and "thử lại" in limited.text
    assert test_client.get(path_of()).status_code == 200  # a real link still opens
    test_client.app.state.refusals.flush_all()
    with session_scope() as session:
        (event,) = session.scalars(select(AuditEvent).where(AuditEvent.action == "link.refused"))
    assert event.detail["count"] == limit + 11
    assert event.detail["statuses"] == {"403": limit, "429": 11}


def test_a_refused_minute_is_written_once_then_its_count_kept_current(test_client):  # noqa: F811
    refusals = test_client.app.state.refusals
    for n in range(5):
        test_client.get(f"/bao-cao/made.up{n}")
    with session_scope() as session:  # the first refusal is on record at once
        (event,) = session.scalars(select(AuditEvent).where(AuditEvent.action == "link.refused"))
        assert event.detail["count"] == 1
    refusals.flush_all()
    with session_scope() as session:
        (event,) = session.scalars(select(AuditEvent).where(AuditEvent.action == "link.refused"))
        assert event.detail["count"] == 5


def test_a_valid_post_within_the_limits_still_goes_through(test_client):  # noqa: F811
    path = path_of(AGENCY)
    response = test_client.post(
        path, data=valid_form(csrf_of_client(test_client, path)), follow_redirects=False
    )
    assert response.status_code == 303



FORM = (  # as a browser sends the web form: "1.250,5", an empty note, "Đã thực hiện"
    b"csrf_token=abc&value__x=1.250%2C5&note__x=&results__g=%C4%90%C3%A3+th%E1%BB%B1c+hi%E1%BB%87n"
)
LONG = b"f=" + b"x" * 2048  # a field over the limit of 2 kB
MANY = b"&".join(b"f%d=1" for n in range(12))  # over the limit of 10 fields


@pytest.mark.parametrize(
    ("body", "read_here"),
    [
        (FORM, True),
        (b"a=1&a=2&b=%2B+%26%3D", True),  # repeated names, an escaped "+", "&" and "="
        (b"t\xc3\xaan=\xc4\x90\xc3\xa3", True),  # raw UTF-8 (no browser sends it): read as Latin-1
        (LONG, True),
        (MANY, True),
        (LONG + b"&" + MANY, True),  # both: the first error met
        (b"a=1&&b=2", False),  # an empty field, one without "=", a ";", an empty body
        (b"a&b=2", False),
        (b"a=1;b=2", False),
        (b"=1", False),
        (b"", False),
    ],
)
def test_a_form_body_reads_as_starlettes_parser_reads_it(body, read_here):
    """The web form's urlencoded body is parsed without Starlette's parser where it can be:
    the same fields, or the same error; anything else is left to Starlette's parser."""

    async def starlette() -> FormData | str:
        async def stream() -> AsyncIterator[bytes]:
            yield body

        try:
            return await FormParser(Headers(), stream(), max_fields=10, max_part_size=2048).parse()
        except MultiPartException as exc:
            return exc.message

    try:
        ours: FormData | str | None = plain_fields(body, 10, 2048)
    except MultiPartException as exc:
        ours = exc.message
    expected = asyncio.run(starlette())
    assert (ours is not None) == read_here
    if isinstance(ours, FormData):
        assert isinstance(expected, FormData) and ours.multi_items() == expected.multi_items()
    elif ours is not None:
        assert ours == expected
