"""The same report sent twice (a double click, a form uploaded again) is acknowledged without a
new revision or a second receipt; a changed one is a new revision."""

from __future__ import annotations

from sqlalchemy import func, select

from models.database import session_scope
from models.orm import Submission
from tests.factories import outbox
from tests.test_portal import csrf, filled_form, path_of, portal, upload, valid_form  # noqa: F401


def revisions() -> list[int]:
    with session_scope() as session:
        return list(session.scalars(select(Submission.revision).order_by(Submission.revision)))


def test_the_same_post_twice_is_one_revision_and_one_receipt(portal):  # noqa: F811
    path = path_of()
    token = csrf(portal, path)
    first = portal.post(path, data=valid_form(token), follow_redirects=False)
    again = portal.post(path, data=valid_form(token), follow_redirects=False)
    assert first.headers["location"].endswith("/bien-nhan/1")
    assert again.status_code == 303 and again.headers["location"].endswith("/bien-nhan/1?khong-doi=1")
    page = portal.get(again.headers["location"]).text
    assert "giống hệt báo cáo lần thứ 1" in page and "không tạo phiên bản mới" in page
    assert "giống hệt" not in portal.get(first.headers["location"]).text
    assert revisions() == [1] and len(outbox("receipt")) == 1
    changed = portal.post(
        path, data=valid_form(token, value__floor_area="30"), follow_redirects=False
    )
    assert changed.headers["location"].endswith("/bien-nhan/2")
    assert revisions() == [1, 2] and len(outbox("receipt")) == 2
    # the same numbers written another way are the same report ("99.5" and "99,5")
    same = portal.post(
        path, data=valid_form(token, value__floor_area="30,0"), follow_redirects=False
    )
    assert same.headers["location"].endswith("/bien-nhan/2?khong-doi=1")
    assert revisions() == [1, 2]


def test_the_same_workbook_uploaded_twice_is_one_revision(portal):  # noqa: F811
    path = path_of()
    content = filled_form(portal, path)
    assert upload(portal, path, content).headers["location"].endswith("/bien-nhan/1")
    again = upload(portal, path, content)
    assert again.headers["location"].endswith("/bien-nhan/1?khong-doi=1")
    with session_scope() as session:
        assert session.scalar(select(func.count()).select_from(Submission)) == 1
    assert len(outbox("receipt")) == 1
