"""The programme registry: shipped files, broken copies, deadlines, loading, effective dates."""

from __future__ import annotations

import datetime as dt
import shutil
from collections import Counter

import pytest
import yaml
from sqlalchemy import select

from config.registry import RegistryError
from config.registry_files import PROGRAMMES_DIR, load_programme
from models.cycles import deadline_for, ensure_requests, is_late, open_cycle, rung_due
from models.database import session_scope
from models.orm import Agency, RegistryVersion
from models.registry_store import get_programme, load_registry
from tests.factories import PROGRAMME

V24 = "registry/2024-11-21.yaml"
V25 = "registry/2025-07-01.yaml"
ICT = dt.timezone(dt.timedelta(hours=7))


@pytest.fixture(scope="module")
def shipped():
    return load_programme(PROGRAMME)


def rewrite(path, edit) -> None:
    """Apply ``edit`` to the data of the YAML file at ``path``; a str replaces its text instead."""
    if isinstance(edit, str):
        path.write_text(edit, encoding="utf-8")
        return
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    edit(data)
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")


def copy_programme(tmp_path, file: str | None = None, edit=None):
    """Copy the shipped programme folder into ``tmp_path``, with ``edit`` applied to ``file``."""
    shutil.copytree(PROGRAMMES_DIR / PROGRAMME, tmp_path / PROGRAMME)
    if file is not None:
        rewrite(tmp_path / PROGRAMME / file, edit)
    return tmp_path


# --- The shipped programme ---------------------------------------------------------------------


def test_shipped_programme_has_34_targets_8_groups_and_2_versions(shipped):
    assert [t.number for t in shipped.programme.targets] == list(range(1, 35))
    assert len({t.code for t in shipped.programme.targets}) == 34
    assert [g.number for g in shipped.programme.task_groups] == list(range(1, 9))
    assert [v.effective_from for v in shipped.versions] == [
        dt.date(2024, 11, 21),
        dt.date(2025, 7, 1),
    ]


@pytest.mark.parametrize("index", [0, 1], ids=["2024-11-21", "2025-07-01"])
def test_every_target_is_reported_by_exactly_one_agency(shipped, index):
    reporters = Counter(code for a in shipped.versions[index].agencies for code in a.indicators)
    assert reporters == Counter(t.code for t in shipped.programme.targets)


def test_every_shipped_address_is_on_the_reserved_example_domain(shipped):
    """The shipped example data never names a real mailbox (the schema would accept one)."""
    addresses = [str(v.ministry.email) for v in shipped.versions]
    addresses += [
        str(e) for v in shipped.versions for a in v.agencies for e in (a.email, a.head_email)
    ]
    assert len(addresses) > 40
    assert [a for a in addresses if not a.lower().endswith(".example")] == []


def test_version_on_picks_the_version_in_force(shipped):
    assert shipped.version_on(dt.date(2025, 6, 30)).effective_from == dt.date(2024, 11, 21)
    assert shipped.version_on(dt.date(2025, 7, 1)).effective_from == dt.date(2025, 7, 1)
    assert shipped.version_on(dt.date(2024, 11, 21)).standing_agency == "so-ldtbxh"
    with pytest.raises(RegistryError, match="2024-01-01"):
        shipped.version_on(dt.date(2024, 1, 1))


# --- Broken copies -------------------------------------------------------------------------------


def test_an_unedited_round_tripped_copy_still_loads(tmp_path):
    """The control for the cases below: yaml.safe_load/safe_dump alone breaks nothing."""
    root = copy_programme(tmp_path)
    for file in ("programme.yaml", V24, V25):
        rewrite(root / PROGRAMME / file, lambda data: None)
    assert load_programme(PROGRAMME, root=root) == load_programme(PROGRAMME)


def _at(data, path):
    for key in path:
        data = data[key]
    return data


def _set(*path, **fields):
    return lambda data: _at(data, path).update(fields)


def _add(*path, item):
    return lambda data: _at(data, path).append(item)


def _drop(*path, item):
    """Remove ``item`` from the list, or the key ``item`` from the mapping, at ``path``."""

    def edit(data):
        node = _at(data, path)
        node.remove(item) if isinstance(node, list) else node.pop(item)

    return edit


def case(name, file, edit, *fragments):
    return pytest.param(file, edit, fragments, id=name)


P, A, IND, LEADS, GOV = "programme.yaml", "agencies", "indicators", "task_group_leads", ".gov.vn"
EFF = dt.date(2025, 7, 2)
BROKEN = [  # file, edit, and what the message must name besides the file's path
    case("rule", P, _set("targets", 1, rule="bogus"), "targets[1] (unemployment).rule"),
    case("achieved-on-percent", P, _set("targets", 0, rule="achieved"), "(merit_care)", "achieved"),
    case("missing-field", P, _drop(item="deadline"), "deadline:", "required"),
    case("out-of-range", P, _set("deadline", day=32), "deadline.day:"),
    case("extra-field", P, _set(colour="đỏ"), "colour:"),
    case("code-not-folder", P, _set(code="other"), "code:", "'other'"),
    case("invalid-yaml", P, "targets: [\n  - code: : :\n", "YAML"),
    case("target-number", P, _set("targets", 1, number=1), "targets.number", "duplicate 1"),
    case("timezone", P, _set(timezone="Mars/Olympus"), "timezone:", "Mars/Olympus"),
    case("no-such-day", P, _set("deadline", day=31, month=11), "deadline:", "31/11"),
    case("opening-day", P, _set("opening", day=31, month=11), "opening:", "31/11"),
    case("opening-late", P, _set("opening", day=25), "opening: 25/11", "D-14", "(20/11/2024)"),
    case("consolidation-0", P, _set(consolidation_days_after_deadline=0), "consolidation_days"),
    case(
        "consolidation-after-next-opening",
        P,
        lambda d: d.update(opening={"day": 15, "month": 1}, consolidation_days_after_deadline=60),
        "consolidation_days_after_deadline: 60 days",
        "next opening",
    ),
    case(
        "period",
        V25,
        _set(A, 1, active_from=EFF, active_until=dt.date(2025, 7, 1)),
        "(so-y-te):",
        "active_until",
    ),
    case("email-invalid", V25, _set(A, 2, email="vanthu.sogddt.example"), "[2] (so-gddt).email:"),
    case("head-email", V24, _set(A, 3, head_email="gd@soyte"), "(so-y-te).head_email:"),
    case("not-ascii", V25, _set(A, 2, email="văn.thư@sogddt" + GOV), "(so-gddt).email:", "ASCII"),
    case("ministry-email", V25, _set("ministry", email="vt at moha" + GOV), "ministry.email:"),
    case("agency-extra-field", V25, _set(A, 1, phone="0270"), "agencies[1] (so-y-te).phone:"),
    case("bad-indicator", V25, _add(A, 0, IND, item="x"), "agencies[0] (so-noi-vu).indicators"),
    case("bad-group", V24, _add(A, 1, "task_groups", item="x"), "[1] (so-tttt).task_groups"),
    case("two-reporters", V24, _add(A, 2, IND, item="merit_care"), IND, "so-ldtbxh", "so-gddt"),
    case("no-reporter", V25, _drop(A, 0, IND, item="merit_care"), IND, "'merit_care'"),
    case("effective-from", V25, _set(effective_from=EFF), "effective_from", "2025-07-01.yaml"),
    case("standing-agency", V25, _set(standing_agency="so-ldtbxh"), "standing_agency:"),
    case("missing-lead", V24, _drop(LEADS, item="merit"), "task_group_leads:", "merit"),
    case("unknown-lead", V25, _set(LEADS, communication="so-tttt"), "leads.communication:"),
]


@pytest.mark.parametrize("file, edit, fragments", BROKEN)
def test_a_broken_file_is_refused_naming_file_and_field(tmp_path, file, edit, fragments):
    root = copy_programme(tmp_path, file, edit)
    with pytest.raises(RegistryError) as info:
        load_programme(PROGRAMME, root=root)
    message = str(info.value)
    assert str(root / PROGRAMME / file) in message
    for fragment in fragments:
        assert fragment in message


def test_addresses_on_a_real_domain_are_accepted(tmp_path):
    """The schema takes any valid address; R42_MAIL__ALLOWED_DOMAINS guards the transport."""

    def real(data):
        data["agencies"][0].update(email="vanthu@sonv.vinhlong.gov.vn", head_email="gd@sonv.vn")
        data["ministry"]["email"] = "vanthu@moha.gov.vn"

    root = copy_programme(tmp_path, V25, real)
    version = load_programme(PROGRAMME, root=root).versions[1]
    assert version.agencies[0].email == "vanthu@sonv.vinhlong.gov.vn"
    assert version.ministry.email == "vanthu@moha.gov.vn"


# --- Stored programme: deadlines, loading, effective dates, rungs -------------------------------


def test_deadline_moves_off_weekends_to_the_previous_working_day(db):
    assert [dt.date(y, 12, 5).strftime("%a") for y in (2025, 2026, 2027)] == ["Fri", "Sat", "Sun"]
    with session_scope() as session:
        programme = get_programme(PROGRAMME, session=session)
        deadlines = {year: deadline_for(programme, year) for year in (2025, 2026, 2027)}
    assert [str(deadlines[y]) for y in (2025, 2026, 2027)] == [
        "2025-12-04",  # "trước ngày 05/12": 05/12 itself does not count (deadline_inclusive)
        "2026-12-04",
        "2027-12-03",  # 04/12/2027 is a Saturday
    ]


def test_an_inclusive_deadline_keeps_its_own_day(tmp_path):
    root = copy_programme(tmp_path, "programme.yaml", lambda d: d.update(deadline_inclusive=True))
    assert load_programme(PROGRAMME, root=root).programme.deadline_inclusive is True
    assert load_programme(PROGRAMME).programme.deadline_inclusive is False


def test_loading_is_idempotent_and_a_changed_copy_updates_its_version(db, tmp_path, shipped):
    with session_scope() as session:
        again = load_registry(load_programme(PROGRAMME), session=session)
    assert not again.changed
    assert (again.created, again.updated) == ([], [])
    assert sorted(again.unchanged) == ["programme", "registry 2024-11-21", "registry 2025-07-01"]

    renamed = "Sở Y tế tỉnh Vĩnh Long"
    root = copy_programme(tmp_path, V25, lambda d: d["agencies"][1].update(name=renamed))
    with session_scope() as session:
        summary = load_registry(load_programme(PROGRAMME, root=root), session=session)
    assert summary.changed
    assert (summary.created, summary.updated) == ([], ["registry 2025-07-01"])
    query = select(RegistryVersion.effective_from, Agency.code, Agency.name)
    with session_scope() as session:
        rows = session.execute(query.join(Agency.registry_version)).all()
    names = {(day, code): name for day, code, name in rows}
    assert names[(dt.date(2025, 7, 1), "so-y-te")] == renamed
    assert names[(dt.date(2024, 11, 21), "so-y-te")] == "Sở Y tế"
    assert len(names) == len(rows) == sum(len(v.agencies) for v in shipped.versions)


def test_a_cycle_keeps_the_registry_in_force_on_its_opening_day(db, shipped):
    with session_scope() as session:
        cycle_2025, created = open_cycle(PROGRAMME, 2025, dt.date(2025, 3, 1), session=session)
        assert created and cycle_2025.registry_version.effective_from == dt.date(2024, 11, 21)
        asked_2025 = [r.agency.code for r in ensure_requests(cycle_2025, session=session)]
        cycle_2026, created = open_cycle(PROGRAMME, 2026, dt.date(2026, 11, 2), session=session)
        assert created and cycle_2026.registry_version.effective_from == dt.date(2025, 7, 1)
        asked_2026 = [r.agency.code for r in ensure_requests(cycle_2026, session=session)]
        first_id = cycle_2026.id
    assert asked_2025 == [a.code for a in shipped.versions[0].agencies]
    assert {"so-ldtbxh", "ubnd-binh-tan", "ubnd-tra-on"} <= set(asked_2025)
    assert asked_2026 == [a.code for a in shipped.versions[1].agencies]
    assert not {"so-ldtbxh", "ubnd-binh-tan", "ubnd-tra-on"} & set(asked_2026)

    with session_scope() as session:
        cycle, created = open_cycle(PROGRAMME, 2026, dt.date(2026, 11, 20), session=session)
        assert (cycle.id, created, cycle.opened_on) == (first_id, False, dt.date(2026, 11, 2))
        assert len(ensure_requests(cycle, session=session)) == len(asked_2026)
    with session_scope() as session, pytest.raises(ValueError, match="after the 2027 deadline"):
        open_cycle(PROGRAMME, 2027, dt.date(2027, 12, 4), session=session)


def test_an_agency_is_asked_only_from_its_active_from_day(db, shipped):
    (late,) = [a for a in shipped.versions[1].agencies if a.active_from]
    assert late.active_from == dt.date(2025, 8, 15)
    with session_scope() as session:
        midterm, _ = open_cycle(
            PROGRAMME,
            2025,
            late.active_from - dt.timedelta(days=14),
            session=session,
            kind="midterm",
        )
        before = {r.agency.code for r in ensure_requests(midterm, session=session)}
        final, _ = open_cycle(PROGRAMME, 2025, dt.date(2025, 9, 1), session=session, kind="final")
        after = {r.agency.code for r in ensure_requests(final, session=session)}
        assert midterm.id != final.id
    assert after - before == {late.code}
    assert after == {a.code for a in shipped.versions[1].agencies}


def _d(month, day):
    return dt.date(2026, month, day)


def _t(day, hour, minute, tz):
    return dt.datetime(2026, 12, day, hour, minute, tzinfo=tz)


RUNGS = {_d(11, 19): None, _d(11, 20): -14, _d(11, 26): -14, _d(11, 27): -7}
RUNGS |= {_d(12, 3): -1, _d(12, 4): -1, _d(12, 5): 1, _d(12, 20): 7}
LATE = {_t(4, 23, 30, ICT): False, _t(5, 0, 10, ICT): True}  # 17:30 UTC is 00:30 next day in ICT
LATE |= {_t(4, 16, 59, dt.UTC): False, _t(4, 17, 30, dt.UTC): True}


def test_reminder_rungs_and_lateness_around_the_2026_deadline(db):
    with session_scope() as session:
        cycle, _ = open_cycle(PROGRAMME, 2026, dt.date(2026, 11, 2), session=session)
        assert cycle.deadline == dt.date(2026, 12, 4)
        assert cycle.programme.reminder_ladder == [-14, -7, -3, -1, 1, 3, 7]
        rungs = {day: rung_due(cycle, day) for day in RUNGS}
        late = {moment: is_late(cycle, moment) for moment in LATE}
    assert rungs == RUNGS
    assert late == LATE
