"""``r42 check``'s look at the programmes: each folder's files valid, the registry version in
force today and the ones to come, its agencies' addresses (usable, not shared, allowed), and
the files on disk against what ``r42 load-registry`` stored."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterator
from zoneinfo import ZoneInfo

from cli.check_rows import FAIL, OK, WARN, Row
from config.registry import RegistryError
from config.registry_files import load_programme, problem_lines, programme_codes
from config.settings import Settings


def _address_rows(code: str, version, settings: Settings) -> Iterator[Row]:  # noqa: ANN001
    from mail.allowed_domains import refused
    from reporting.messages import InvalidAddress, check_address

    invalid, users = [], Counter()
    addresses = [(a.code, role, str(getattr(a, role))) for a in version.agencies
                 for role in ("email", "head_email")]  # fmt: skip
    for agency, role, address in addresses:
        users[address.lower()] += 1
        try:
            check_address(address)
        except InvalidAddress as exc:
            invalid.append(f"{agency}.{role}: {exc}")
    if invalid:
        yield Row(FAIL, "registry", f"{code}: unusable addresses:\n{problem_lines(invalid)}")
    shared = sorted(a for a, n in users.items() if n > 1)
    if shared:
        yield Row(WARN, "registry", f"{code}: addresses used more than once: {', '.join(shared)}")
    allowed = settings.mail.allowed_domains
    outside = refused((a for _, role, a in addresses if role == "email"), allowed)
    if outside:
        yield Row(
            WARN,
            "registry",
            f"{code}: {len(outside)} agencies outside R42_MAIL__ALLOWED_DOMAINS="
            f"{','.join(allowed)} will not be asked (e.g. {outside[0]}); empty it to mail them",
        )


def _stored_rows(registry, settings: Settings) -> Iterator[Row]:  # noqa: ANN001
    """The files on disk against what ``r42 load-registry`` stored, in a rolled-back session."""
    from sqlalchemy import select
    from sqlalchemy.orm import Session

    from models.database import make_engine
    from models.orm import Programme
    from models.registry_store import load_registry

    code = registry.programme.code
    engine = make_engine(settings.database.url)  # not get_engine: it refuses unsafe settings
    try:
        with Session(engine) as session:
            stored = session.scalar(select(Programme).where(Programme.code == code))
            loaded = set() if stored is None else {v.effective_from for v in stored.versions}
            summary = load_registry(registry, session=session)
            session.rollback()
    finally:
        engine.dispose()
    status = FAIL if code == settings.cycle.programme else WARN
    if stored is None:
        command = f"r42 load-registry --programme {code}"
        yield Row(status, "registry", f"{code}: not loaded: run `{command}`")
        return
    on_disk = {v.effective_from for v in registry.versions}
    for day in sorted(loaded - on_disk):
        yield Row(
            WARN,
            "registry",
            f"{code}: registry/{day}.yaml was loaded but its file is gone (cycles opened with it "
            "keep it); restore the file if it was deleted by mistake",
        )
    if summary.changed:
        changed = ", ".join(summary.created + summary.updated)
        yield Row(
            WARN,
            "registry",
            f"{code}: files differ from the database ({changed}): run "
            f"`r42 load-registry --programme {code}`",
        )


def check_registry(settings: Settings, today: dt.date | None = None) -> list[Row]:
    """Each programme's files valid, the version in force today, its addresses, and the files
    equal to what is loaded."""
    rows: list[Row] = []
    root = settings.cycle.programmes_dir
    codes = programme_codes(root)
    if settings.cycle.programme not in codes:
        rows.append(
            Row(
                FAIL,
                "registry",
                f"R42_CYCLE__PROGRAMME={settings.cycle.programme}: no such programme in "
                f"{root} (found: {', '.join(codes) or 'none'})",
            )
        )
    for code in codes:
        try:
            registry = load_programme(code, root=root)
        except RegistryError as exc:
            rows.append(Row(FAIL, "registry", f"{code}: {exc}"))
            continue
        day = today or dt.datetime.now(ZoneInfo(registry.programme.timezone)).date()
        try:
            version = registry.version_on(day)
        except RegistryError as exc:
            rows.append(Row(FAIL, "registry", str(exc)))
            continue
        rows.append(
            Row(
                OK,
                "registry",
                f"{code}: registry of {version.effective_from:%d/%m/%Y} in force "
                f"({len(version.agencies)} agencies)",
            )
        )
        for future in (v for v in registry.versions if v.effective_from > day):
            rows.append(
                Row(
                    WARN,
                    "registry",
                    f"{code}: registry/{future.effective_from}.yaml takes effect on "
                    f"{future.effective_from:%d/%m/%Y}, not today: a cycle opened before then "
                    "uses the version in force",
                )
            )
        rows += _address_rows(code, version, settings)
        try:
            rows += _stored_rows(registry, settings)
        except Exception as exc:  # the database row says why it cannot be read
            rows.append(Row(WARN, "registry", f"{code}: not compared with the database: {exc}"))
    return rows
