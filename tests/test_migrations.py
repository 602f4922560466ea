"""Alembic: one head, and the migrated schema is exactly the models, on both backends."""

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, inspect

from models.database import alembic_config, upgrade_database
from models.orm import Base


def test_migrations_have_a_single_head():
    assert len(ScriptDirectory.from_config(alembic_config("sqlite://")).get_heads()) == 1


def test_migrated_schema_matches_the_models_and_downgrades(database_url, configure):
    configure(R42_DATABASE__URL=database_url)
    upgrade_database(database_url)
    engine = create_engine(database_url)
    with engine.connect() as connection:
        assert compare_metadata(MigrationContext.configure(connection), Base.metadata) == []
    command.downgrade(alembic_config(database_url), "base")
    assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
    upgrade_database(database_url)
    assert set(Base.metadata.tables) <= set(inspect(engine).get_table_names())
    engine.dispose()


def test_messages_stored_before_0005_get_one_row_per_recipient(db):
    """An outbox of the previous release: each message's addresses become recipients with the
    message's standing (sent stays sent; pending waits for every address)."""
    import datetime as dt

    from sqlalchemy import text

    from models.cycles import open_cycle
    from models.database import get_engine, session_scope
    from tests.factories import PROGRAMME

    with session_scope() as session:
        cycle, _ = open_cycle(PROGRAMME, 2026, dt.date(2026, 11, 2), session=session)
        cycle_id = cycle.id
    command.downgrade(alembic_config(db), "0004")
    insert = text(
        "INSERT INTO outgoing_message (cycle_id, kind, recipient_key, rung, to_addrs, cc_addrs,"
        " subject, message_id, raw, status, attempts, last_reply, queued_at)"
        " VALUES (:cycle, 'reminder', :key, 1, :to, :cc, 's', :mid, :raw, :status, 1, :reply,"
        " :queued)"
    )
    rows = [
        ("so-y-te", '["a@soyte.example"]', '["gd@soyte.example"]', "sent", "250 ok"),
        ("so-tc", '["a@sotc.example"]', '["gd@sotc.example"]', "pending", "451 later"),
    ]
    with get_engine(db).begin() as connection:
        for key, to, cc, status, reply in rows:
            connection.execute(
                insert,
                dict(cycle=cycle_id, key=key, to=to, cc=cc, mid=f"<{key}@x.example>",
                     raw=b"x", status=status, reply=reply, queued=dt.datetime(2026, 12, 5)),
            )
    upgrade_database(db)
    with get_engine(db).connect() as connection:
        found = connection.execute(
            text(
                "SELECT m.recipient_key, r.address, r.status FROM outgoing_recipient r"
                " JOIN outgoing_message m ON m.id = r.message_id ORDER BY r.id"
            )
        ).all()
    assert [tuple(row) for row in found] == [
        ("so-y-te", "a@soyte.example", "sent"),
        ("so-y-te", "gd@soyte.example", "sent"),
        ("so-tc", "a@sotc.example", "pending"),
        ("so-tc", "gd@sotc.example", "pending"),
    ]
