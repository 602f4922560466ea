"""What the emails and pages take from a cycle's registry version (``registry_facts``): read
from the version's document once per version and content, and new as soon as the version is
edited in place (its content hash changes)."""

from __future__ import annotations

import datetime as dt

from config.registry_files import load_programme
from config.settings import get_settings
from models.cycles import open_cycle
from models.database import session_scope
from models.registry_cache import registry_facts
from models.registry_store import load_registry
from reporting.messages import common_context, programme_mail
from tests.factories import PROGRAMME


def context_2026() -> dict[str, object]:
    with session_scope() as session:
        cycle, _ = open_cycle(PROGRAMME, 2026, dt.date(2026, 11, 2), session=session)
        context = common_context(cycle, get_settings())
        mail = programme_mail(cycle, get_settings())
        return {**context, "from": (mail.sender_name, mail.sender_address)}


def test_the_facts_are_the_documents_and_follow_an_edit_in_place(db):
    registry = load_programme(PROGRAMME)
    with session_scope() as session:
        cycle, _ = open_cycle(PROGRAMME, 2026, dt.date(2026, 11, 2), session=session)
        document, version_id = cycle.registry_version.document, cycle.registry_version_id
        in_force = cycle.registry_version.effective_from
        standing = next(a for a in cycle.registry_version.agencies if a.is_standing_agency)
        assert registry_facts(cycle).ministry == document["ministry"]["name"]
        assert registry_facts(cycle).standing_agency == standing.name
        assert registry_facts(cycle).province == document["province"]
    before = context_2026()
    assert before["ministry"] == document["ministry"]["name"]
    assert before["standing_agency"] == standing.name

    index, version = next(
        (i, v) for i, v in enumerate(registry.versions) if v.effective_from == in_force
    )
    renamed = {"name": f"{standing.name} (mới)"}
    agencies = [
        a.model_copy(update=renamed) if a.code == version.standing_agency else a
        for a in version.agencies
    ]
    edited = version.model_copy(
        update={
            "ministry": version.ministry.model_copy(update={"name": "Bộ Y tế"}),
            "province": "Cần Thơ",
            "subject_tag": "NQ42-sửa",
            "sender_name": "Văn phòng Chương trình",
            "agencies": agencies,
        }
    )
    versions = [*registry.versions[:index], edited, *registry.versions[index + 1 :]]
    with session_scope() as session:
        summary = load_registry(registry.model_copy(update={"versions": versions}), session=session)
        assert f"registry {version.effective_from}" in summary.updated
    after = context_2026()
    assert (after["ministry"], after["province"], after["subject_tag"]) == (
        "Bộ Y tế",
        "Cần Thơ",
        "NQ42-sửa",
    )
    assert after["standing_agency"] == standing.name + " (mới)"
    assert after["sender_name"] == "Văn phòng Chương trình"
    assert after["from"] == ("Văn phòng Chương trình", get_settings().mail.sender_address)
    with session_scope() as session:  # the same version row, edited
        cycle, _ = open_cycle(PROGRAMME, 2026, dt.date(2026, 11, 2), session=session)
        assert cycle.registry_version_id == version_id
