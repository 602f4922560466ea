"""A request with its cycle, programme, registry version and agency, as every portal page and
post opens it (``portal.access.open_request``): one row, the five ORM objects built from it.

SQLAlchemy's joined loading of the five objects set up a loader per property of each on every
call (0.22 ms of CPU of a post's ~4 in-process; a seventh of the portal's CPU under py-spy).
Here the request, its cycle and its agency are built from their columns in the row, as read now
(a cycle's status and a link's version change while a cycle runs); the programme and the
registry version, which change only with their content hash (``models.registry_store``), from
the columns the process keeps of that content (``models.registry_cache``), without their JSON
documents (read on first use). The objects are the session's own, as if loaded: their
relationships and anything not read load as usual.
"""

from __future__ import annotations

from typing import Any, TypeVar

from sqlalchemy import JSON, bindparam, inspect, select
from sqlalchemy.orm import Session, make_transient_to_detached
from sqlalchemy.orm.attributes import set_committed_value

from models.orm import Agency, Cycle, Programme, RegistryVersion, Request
from models.registry_cache import content_key, kept

Model = TypeVar("Model", Request, Cycle, Agency, Programme, RegistryVersion)


def columns_of(model: type[Any]) -> tuple[str, ...]:
    """The model's column attributes a row carries: every one but its JSON documents (mutable
    values, never shared between sessions, and the costliest to read)."""
    return tuple(
        attr.key
        for attr in inspect(model).column_attrs
        if not isinstance(attr.columns[0].type, JSON)
    )


COLUMNS = {
    model: columns_of(model) for model in (Request, Cycle, Agency, Programme, RegistryVersion)
}
REQUEST_ROW = (  # built once: a statement costs more to build than to run from the cache
    select(
        *(getattr(model, key) for model in (Request, Cycle, Agency) for key in COLUMNS[model]),
        RegistryVersion.content_hash,
        Programme.content_hash,
    )
    .join(Cycle, Cycle.id == Request.cycle_id)
    .join(Agency, Agency.id == Request.agency_id)
    .join(Programme, Programme.id == Cycle.programme_id)
    .join(RegistryVersion, RegistryVersion.id == Cycle.registry_version_id)
    .where(Request.id == bindparam("request_id"))
)
KEPT_ROW = {
    model: select(*(getattr(model, key) for key in COLUMNS[model])).where(
        model.id == bindparam("id")
    )
    for model in (Programme, RegistryVersion)
}


def load_request(request_id: int, *, session: Session) -> Request | None:
    """The request with its cycle, the cycle's programme and registry version, and its agency,
    in one query; None if there is no such request. A request the session already holds is
    returned as it is (as ``Session.get`` does)."""
    held = session.identity_map.get(inspect(Request).identity_key_from_primary_key((request_id,)))
    if held is not None:
        return held  # type: ignore[no-any-return]
    # Core, on the session's connection: the ORM's execution path cost a third of the read,
    # and the session holds nothing unflushed this row could miss (held objects are used)
    row = session.connection().execute(REQUEST_ROW, {"request_id": request_id}).one_or_none()
    if row is None:
        return None
    parts, start = {}, 0
    for model in (Request, Cycle, Agency):
        keys = COLUMNS[model]
        parts[model] = dict(zip(keys, row[start : start + len(keys)], strict=True))
        start += len(keys)
    cycle_columns = parts[Cycle]
    content = content_key(
        session, cycle_columns["registry_version_id"], row[start], row[start + 1]
    )
    request = as_loaded(session, Request, parts[Request])
    cycle = as_loaded(session, Cycle, cycle_columns)
    set_committed_value(request, "cycle", cycle)
    set_committed_value(request, "agency", as_loaded(session, Agency, parts[Agency]))
    for model, name, key in (
        (Programme, "programme", cycle_columns["programme_id"]),
        (RegistryVersion, "registry_version", cycle_columns["registry_version_id"]),
    ):
        columns = kept(
            content, (model.__tablename__, "columns"), lambda m=model, k=key: _read(session, m, k)
        )
        set_committed_value(cycle, name, as_loaded(session, model, columns))
    return request


def _read(session: Session, model: type[Model], key: int) -> dict[str, Any]:
    """The model's row ``key`` as the process keeps it (``COLUMNS``)."""
    row = session.execute(KEPT_ROW[model], {"id": key}).one()
    return dict(zip(COLUMNS[model], row, strict=True))


def as_loaded(session: Session, model: type[Any], columns: dict[str, Any]) -> Any:
    """The session's object of ``model`` with these column values, as if loaded (the one it
    holds already, if any); what is not given is read on first use. A fifth of the cost of
    the ORM's constructor (attribute events) or its loader."""
    mapper = inspect(model)
    held = session.identity_map.get(mapper.identity_key_from_primary_key((columns["id"],)))
    if held is not None:
        return held
    instance = mapper.class_manager.new_instance()
    instance.__dict__.update(columns)
    make_transient_to_detached(instance)  # committed as given; the rest expired, loaded on use
    session.add(instance)
    return instance
