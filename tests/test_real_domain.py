"""Go-live on a real domain: the registry takes any valid address; R42_MAIL__ALLOWED_DOMAINS
keeps a demo or a test away from real mailboxes; long error lists are cut; YAML keys written
twice are refused with the file and line."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select

from cli import main as cli
from config.registry import RegistryError
from config.registry_files import load_programme
from mail.allowed_domains import RecipientNotAllowed, check_recipients, domain_allowed
from models.cycles import open_cycle
from models.database import session_scope
from models.orm import OutgoingMessage
from models.registry_store import load_registry
from reporting.requests import queue_requests
from tests.real_registry import CODE, COMMUNES, DEPARTMENTS, DOMAIN, write_real_registry

NOW = dt.datetime(2026, 11, 2, 8, tzinfo=dt.timezone(dt.timedelta(hours=7)))
AGENCIES = DEPARTMENTS + COMMUNES


@pytest.mark.parametrize(
    "address, allowed, expected",
    [
        ("a@vinhlong.example", [], True),
        ("a@soyte.vinhlong.gov.vn", [], True),
        ("a@vinhlong.example", [".example"], True),
        ("a@VINHLONG.EXAMPLE", [".example"], True),
        ("a@example", [".example"], False),  # '.example' allows subdomains only
        ("a@vinhlong.gov.vn", [".example"], False),
        ("a@vinhlong.gov.vn", ["vinhlong.gov.vn"], True),
        ("a@soyte.vinhlong.gov.vn", ["vinhlong.gov.vn"], True),
        ("a@notvinhlong.gov.vn", ["vinhlong.gov.vn"], False),
        ("a@vinhlong.gov.vn.evil.com", ["vinhlong.gov.vn"], False),
        ("a@moha.gov.vn", [".example", "gov.vn"], True),
    ],
)
def test_domain_allowed(address, allowed, expected):
    assert domain_allowed(address, allowed) is expected


def test_the_setting_reads_a_comma_separated_list_and_refuses_a_non_domain(configure):
    settings = configure(R42_MAIL__ALLOWED_DOMAINS=" .example, VinhLong.gov.vn ")
    assert settings.mail.allowed_domains == [".example", "vinhlong.gov.vn"]
    with pytest.raises(RecipientNotAllowed, match=r"a@moha\.gov\.vn outside R42_MAIL__ALLOWED"):
        check_recipients(["b@soyte.vinhlong.gov.vn", "a@moha.gov.vn"])
    refused = "R42_MAIL__ALLOWED_DOMAINS=vanthu@vinhlong.gov.vn: 'vanthu@vinhlong.gov.vn' is not"
    with pytest.raises(ValueError, match=refused):
        configure(R42_MAIL__ALLOWED_DOMAINS="vanthu@vinhlong.gov.vn")


def test_a_registry_of_137_agencies_on_a_real_domain_loads(tmp_path):
    write_real_registry(tmp_path)
    registry = load_programme(CODE, root=tmp_path)
    (version,) = registry.versions
    assert len(version.agencies) == AGENCIES
    assert {str(a.email).rpartition("@")[2] for a in version.agencies} == {DOMAIN}


def _open_real_cycle(tmp_path, configure, database_url, allowed: str):
    write_real_registry(tmp_path / "programmes")
    configure(
        R42_DATABASE__URL=database_url,
        R42_CYCLE__PROGRAMMES_DIR=tmp_path / "programmes",
        R42_MAIL__ALLOWED_DOMAINS=allowed,
    )
    from models.database import upgrade_database

    upgrade_database()
    with session_scope() as session:
        load_registry(load_programme(CODE), session=session)
    from config.settings import get_settings

    with session_scope() as session:
        cycle, _ = open_cycle(CODE, 2026, NOW.date(), session=session)
        rows = queue_requests(cycle, session=session, settings=get_settings(), now=NOW)
    with session_scope() as session:
        queued = session.scalar(select(func.count()).select_from(OutgoingMessage))
    return rows, queued


def test_a_cycle_on_the_real_domain_asks_every_agency(tmp_path, configure, database_url):
    rows, queued = _open_real_cycle(tmp_path, configure, database_url, "")
    assert len(rows) == AGENCIES and all(row.queued and not row.problem for row in rows)
    assert queued == AGENCIES


def test_allowed_domains_example_queues_nothing_to_the_real_domain_and_says_so(
    tmp_path, configure, database_url
):
    rows, queued = _open_real_cycle(tmp_path, configure, database_url, ".example")
    assert queued == 0
    assert len(rows) == AGENCIES and not any(row.queued for row in rows)
    assert rows[0].problem == (
        f"not queued: vanthu.so01@{DOMAIN} outside R42_MAIL__ALLOWED_DOMAINS=.example"
    )
    assert all("R42_MAIL__ALLOWED_DOMAINS" in row.problem for row in rows)


def test_the_open_cycle_command_reports_every_refused_agency(tmp_path, configure, capsys):
    """As ops run it: r42 load-registry then r42 open-cycle, on SQLite, outbox transport."""
    write_real_registry(tmp_path / "programmes")
    configure(
        R42_DATABASE__URL=f"sqlite:///{tmp_path / 'r42.sqlite3'}",
        R42_CYCLE__PROGRAMMES_DIR=tmp_path / "programmes",
        R42_MAIL__ALLOWED_DOMAINS=".example,moha.gov.vn",
    )
    assert cli.main(["load-registry", "--programme", CODE]) == 0
    with session_scope() as session:
        cycle, _ = open_cycle(CODE, 2026, NOW.date(), session=session)
        rows = queue_requests(cycle, session=session, settings=cli.get_settings(), now=NOW)
    assert sum(row.queued for row in rows) == 0
    outbox = tmp_path / "outbox"
    assert not outbox.exists() or not any(outbox.iterdir())


# --- error lists and repeated keys ----------------------------------------------------------


def test_248_bad_addresses_are_listed_20_then_and_n_more(tmp_path):
    def break_addresses(version):
        for agency in version["agencies"][:124]:
            agency["email"] = agency["email"].replace("@", " at ")
            agency["head_email"] = agency["head_email"].replace("@", " at ")

    write_real_registry(tmp_path, break_addresses)
    with pytest.raises(RegistryError) as info:
        load_programme(CODE, root=tmp_path)
    lines = str(info.value).splitlines()
    assert "2025-07-01.yaml: 248 problems:" in lines[0]
    assert len(lines) == 22 and lines[-1] == "  ... and 228 more"
    assert lines[1].startswith("  - agencies[0] (so-01).email: value is not a valid email")
    assert lines[2].startswith("  - agencies[0] (so-01).head_email:")


def test_a_key_written_twice_is_refused_with_file_and_line(tmp_path):
    folder = write_real_registry(tmp_path)
    path = folder / "programme.yaml"
    text = path.read_text(encoding="utf-8")
    assert "baseline_year: 2024\n" in text
    twice = text.replace("baseline_year: 2024\n", "baseline_year: 2024\nbaseline_year: 2020\n")
    path.write_text(twice)
    line = path.read_text().splitlines().index("baseline_year: 2020") + 1
    with pytest.raises(RegistryError) as info:
        load_programme(CODE, root=tmp_path)
    assert str(info.value) == (
        f"{path}, line {line}: not valid YAML: "
        f"key 'baseline_year' written twice (lines {line - 1} and {line})"
    )


def test_a_nested_key_written_twice_in_a_registry_version_is_refused(tmp_path):
    folder = write_real_registry(tmp_path)
    path = folder / "registry" / "2025-07-01.yaml"
    text = path.read_text(encoding="utf-8")
    text = text.replace("  kind: department\n", "  kind: department\n  kind: local\n", 1)
    path.write_text(text, encoding="utf-8")
    with pytest.raises(RegistryError, match=r"2025-07-01\.yaml, line \d+: .*key 'kind' written"):
        load_programme(CODE, root=tmp_path)


def test_an_observations_file_with_a_year_written_twice_is_refused_with_its_line(tmp_path):
    from reporting.observation_import import ObservationFileError, import_observations

    path = tmp_path / "history.yaml"
    path.write_text(
        "programme: vinh-long-r42\nyears:\n"
        "  2024:\n    merit_care: 99\n"
        "  2024:\n    merit_care: 98\n"
    )
    with pytest.raises(ObservationFileError) as info:
        import_observations(path, session=None)
    assert str(info.value) == (
        f"{path}, line 5: not valid YAML: key 2024 written twice (lines 3 and 5)"
    )
