"""What a process keeps of a registry version, built once per content: the one store the
intake's rows (``models.registry_rows``) and the emails' and pages' facts (``registry_facts``)
are kept in.

A registry version and its programme are edited only by ``load_registry``, which gives each a
new ``content_hash`` when it changes them. Everything is kept under :func:`registry_content`
(the database, the version, both hashes), so an edited registry (in this process or another)
is read afresh by the first transaction that sees its new hash. What is kept is frozen:
nothing writes to it.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy import bindparam, inspect, select
from sqlalchemy.orm import Session

from models.database import per_transaction
from models.orm import Agency, Cycle, Programme, RegistryVersion

T = TypeVar("T")
# The database URL, the registry version id, the version's and its programme's content hashes.
RegistryContent = tuple[Any, int, str, str]
MAX_KEPT = 20_000  # entries kept per process (a national registry has 4,500 agencies a version)

_kept: dict[tuple[RegistryContent, Hashable], Any] = {}
_lock = threading.Lock()
_HASHES = (
    select(RegistryVersion.content_hash, Programme.content_hash)
    .join(Cycle, Cycle.registry_version_id == RegistryVersion.id)
    .join(Programme, Programme.id == Cycle.programme_id)
    .where(Cycle.id == bindparam("cycle"))
)


def registry_content(cycle: Cycle, *, session: Session) -> RegistryContent:
    """The key of what ``cycle``'s registry version says: from the version and programme
    already loaded with the cycle (the portal reads them with the request), else read once per
    transaction (an email asks twice: for its words and for its From:), not their documents."""
    loaded = cycle.__dict__  # what the ORM loaded (``inspect().unloaded`` lists every column)
    if "registry_version" in loaded and "programme" in loaded:
        version, programme = loaded["registry_version"], loaded["programme"]
        return content_key(session, version.id, version.content_hash, programme.content_hash)
    hashes = per_transaction(session, "registry_content")
    if cycle.id not in hashes:
        hashes[cycle.id] = tuple(session.execute(_HASHES, {"cycle": cycle.id}).one())
    return content_key(session, cycle.registry_version_id, *hashes[cycle.id])


def content_key(
    session: Session, version_id: int, version_hash: str, programme_hash: str
) -> RegistryContent:
    """The key of a registry version's content in ``session``'s database."""
    return session.get_bind().engine.url, version_id, version_hash, programme_hash


def kept(content: RegistryContent, part: Hashable, build: Callable[[], T]) -> T:
    """``part`` of the registry ``content`` (e.g. ``("reported", agency_id)``), built by
    ``build()`` the first time this process asks for it, then from memory."""
    key = (content, part)
    found = _kept.get(key)
    if found is None:
        found = build()
        with _lock:
            if len(_kept) >= MAX_KEPT:
                _kept.clear()
            _kept[key] = found
    return found


def standing_agency(cycle: Cycle) -> Agency:
    """The registry version's standing agency: one row, not every agency of the version (a
    portal request would otherwise load 4,500 agencies at national scale for one name)."""
    version = cycle.registry_version
    if "agencies" not in inspect(version).unloaded:  # already loaded (opening a cycle)
        return next(a for a in version.agencies if a.is_standing_agency)
    query = select(Agency).where(
        Agency.registry_version_id == version.id, Agency.is_standing_agency.is_(True)
    )
    return inspect(version).session.scalars(query).one()


@dataclass(frozen=True)
class RegistryFacts:
    """What the emails and pages of a cycle take from its registry version: its standing
    agency's name and a few fields of its document (the whole registry, parsed from JSON on
    every load)."""

    standing_agency: str
    ministry: str
    province: str
    subject_tag: str | None
    sender: dict[str, str]  # the programme's own From: (sender_name, sender_address), if any


def registry_facts(cycle: Cycle) -> RegistryFacts:
    """The cycle's registry facts, kept with the rest of its registry's content: a portal
    request or a delivery run reads the version's hash, not its document."""

    def build() -> RegistryFacts:
        document = cycle.registry_version.document
        return RegistryFacts(
            standing_agency=standing_agency(cycle).name,
            ministry=document["ministry"]["name"],
            province=document["province"],
            subject_tag=document.get("subject_tag"),
            sender={k: document[k] for k in ("sender_name", "sender_address") if document.get(k)},
        )

    session = inspect(cycle).session
    return kept(registry_content(cycle, session=session), "facts", build)
