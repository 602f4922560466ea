"""How long a personal link works, as the programme sets it: R42_WEB_FORM__LINK_VALID_DAYS from
its own issue day (``link_validity: days``) or until the cycle is locked (``until_locked``); the
emails say which, and a locked cycle's link opens the read-only locked page; on both databases."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from fastapi.testclient import TestClient

from config.registry import RegistryError
from config.registry_files import load_programme
from config.settings import get_settings
from models.cycles import cycle_requests, get_cycle
from models.database import session_scope
from models.orm import CycleStatus, MessageKind
from models.registry_store import load_registry
from portal.access import LinkRefused, open_request
from portal.app import create_app
from reporting.coordination import reissue_link, set_cycle_status
from reporting.messages import link_for
from tests.factories import PROGRAMME, at
from tests.test_registry import P, copy_programme
from tests.test_request_email import OPENED, messages, open_2026

UNTIL_LOCKED = "có hiệu lực đến khi kỳ báo cáo được khóa sổ để tổng hợp"


def use_link_validity(tmp_path, validity: str) -> None:
    """Load the shipped programme with ``link_validity`` set, as ops would edit its file."""
    root = copy_programme(tmp_path, P, lambda d: d.update(link_validity=validity))
    with session_scope() as session:
        load_registry(load_programme(PROGRAMME, root=root), session=session)


def first_request(session):  # type: ignore[no-untyped-def]
    return cycle_requests(get_cycle(PROGRAMME, 2026, session=session), session=session)[0]


@pytest.fixture
def web(db, configure, tmp_path):
    """One day of validity: on the machine's real day, a `days` link of 02/11/2026 is dead."""
    configure(R42_WEB_FORM__PUBLIC_BASE_URL="http://testserver", R42_WEB_FORM__LINK_VALID_DAYS=1)
    with TestClient(create_app(), raise_server_exceptions=False) as client:
        yield client


def path_of(url: str) -> str:
    return url.removeprefix("http://testserver")


def test_until_locked_links_work_until_the_cycle_is_locked_then_show_the_locked_page(
    web, tmp_path
):
    use_link_validity(tmp_path, "until_locked")
    open_2026()
    request_email = messages(MessageKind.REQUEST)[0]
    for part in ("plain", "html"):
        body = request_email.get_body((part,)).get_content()
        assert UNTIL_LOCKED in body and "đến hết ngày" not in body
    reissued_on = OPENED + dt.timedelta(days=130)
    with session_scope() as session:
        request = first_request(session)
        first, expires = link_for(request, get_settings())
        assert expires is None
        reissue_link(
            request, session=session, settings=get_settings(), actor="test", now=at(reissued_on)
        )
        second, _ = link_for(request, get_settings())
    (notice,) = messages(MessageKind.LINK)
    text = notice.get_body(("plain",)).get_content()
    assert second in text and "có hiệu lực từ hôm nay đến khi kỳ báo cáo được khóa sổ" in text

    settings = get_settings().web_form
    with session_scope() as session:  # a year after the reissue: still open
        token = second.rsplit("/", 1)[1]
        later = at(dt.date(2028, 1, 5))
        assert open_request(token, session=session, settings=settings, now=later)
        with pytest.raises(LinkRefused) as refused:  # the first link was revoked
            old = first.rsplit("/", 1)[1]
            open_request(old, session=session, settings=settings, now=at(reissued_on))
        assert refused.value.status_code == 410 and "revoked" in refused.value.reason

    page = web.get(path_of(second))
    assert page.status_code == 200 and "đã khóa" not in page.text
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    with session_scope() as session:
        set_cycle_status(
            get_cycle(PROGRAMME, 2026, session=session),
            CycleStatus.LOCKED,
            session=session,
            actor="test",
            now=at(OPENED + dt.timedelta(days=40)),
        )
    locked = web.get(path_of(second))
    assert locked.status_code == 200
    assert "Kỳ báo cáo năm 2026 đã khóa; biểu mẫu chỉ để xem." in locked.text
    assert "Đề nghị gia hạn" in page.text and "Đề nghị gia hạn" not in locked.text  # no empty box
    posted = web.post(path_of(second), data={"csrf_token": csrf, "action": "submit"})
    assert posted.status_code == 409
    assert "Kỳ báo cáo đã khóa, không nhận thêm báo cáo." in posted.text


def test_days_links_end_on_their_day_even_before_the_cycle_is_locked(web, tmp_path):
    use_link_validity(tmp_path, "days")
    open_2026()
    body = messages(MessageKind.REQUEST)[0].get_body(("plain",)).get_content()
    assert "có hiệu lực đến hết ngày 03/11/2026" in body and UNTIL_LOCKED not in body
    with session_scope() as session:
        url, expires = link_for(first_request(session), get_settings())
    assert expires == dt.date(2026, 11, 3)
    token, settings = url.rsplit("/", 1)[1], get_settings().web_form
    next_day = at(dt.date(2026, 11, 4), 9)
    with session_scope() as session, pytest.raises(LinkRefused) as refused:
        open_request(token, session=session, settings=settings, now=next_day)
    assert refused.value.status_code == 410 and refused.value.title == "Đường dẫn đã hết hạn"
    use_link_validity(tmp_path / "again", "until_locked")  # the programme changes its mind
    with session_scope() as session:
        assert open_request(token, session=session, settings=settings, now=next_day)


def test_an_unknown_link_validity_is_refused_naming_the_field(tmp_path):
    root = copy_programme(tmp_path, P, lambda d: d.update(link_validity="forever"))
    with pytest.raises(RegistryError, match="programme.yaml") as info:
        load_programme(PROGRAMME, root=root)
    assert "link_validity" in str(info.value)
