"""Migrations build, from an empty database, exactly the schema the code declares."""

from __future__ import annotations

import json
from collections.abc import Iterator

import psycopg
import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from scratch_db import scratch_database
from sqlalchemy import create_engine

from dispatch.storage import migrate
from dispatch.storage.schema import build_metadata


@pytest.fixture
def empty_database() -> Iterator[str]:
    with scratch_database("callsight_migrate", migrated=False) as url:
        yield url


def _ignore(obj: object, name: str | None, type_: str, reflected: bool, compare_to: object) -> bool:
    return not (type_ == "table" and name in {"spatial_ref_sys", "alembic_version"})


def test_up_from_empty_matches_the_declared_schema(empty_database: str) -> None:
    migrate.upgrade(empty_database)
    engine = create_engine("postgresql+psycopg://" + empty_database.split("://", 1)[1])
    with engine.connect() as conn:
        version = conn.exec_driver_sql("SELECT version_num FROM alembic_version").scalar()
        context = MigrationContext.configure(conn, opts={"include_object": _ignore, "compare_type": False})
        diff = compare_metadata(context, build_metadata(32648))
    engine.dispose()
    assert version == migrate.head()
    tables_or_columns = [
        d for d in diff if d[0] in {"add_table", "remove_table", "add_column", "remove_column"}
    ]
    assert tables_or_columns == []


def test_migrating_twice_changes_nothing(empty_database: str) -> None:
    migrate.upgrade(empty_database)
    migrate.upgrade(empty_database)
    with psycopg.connect(empty_database) as conn:
        assert conn.execute("SELECT count(*) FROM cameras").fetchone() == (0,)


def test_large_json_is_stored_with_lz4(empty_database: str) -> None:
    migrate.upgrade(empty_database)
    payload = json.dumps({"cameras": [{"camera_id": f"C{n}", "n": n} for n in range(400)]})
    with psycopg.connect(empty_database) as conn:
        conn.execute(
            "INSERT INTO events (type, incident_id, hotline, area, payload) "
            "VALUES ('incident.opened', gen_random_uuid(), '113', NULL, %s::jsonb)",
            (payload,),
        )
        stored = conn.execute("SELECT pg_column_compression(payload) FROM events").fetchone()
        declared = conn.execute(
            "SELECT attrelid::regclass::text, attname, attcompression FROM pg_attribute "
            "WHERE attname IN ('payload', 'cameras', 'subject') AND attcompression <> '' ORDER BY 1"
        ).fetchall()
    assert stored == ("lz4",)
    assert declared == [("audit", "subject", "l"), ("calls", "cameras", "l"), ("events", "payload", "l")]
