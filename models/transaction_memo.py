"""What a session keeps for as long as its current transaction: values read once per
transaction (a registry version's hashes, an agency's earlier values), never trusted after a
commit or a rollback, when another writer may have changed them."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session


def per_transaction(session: Session, name: str) -> dict[Any, Any]:
    """A memo of ``name`` that lives as long as the session's current transaction."""
    transaction = session.get_transaction()
    kept = session.info.get(name)
    if kept is None or kept[0] is not transaction:
        kept = session.info[name] = (transaction, {})
    return kept[1]
