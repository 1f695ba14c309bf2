"""Runs the Alembic migrations in migrations/ against a database."""

from __future__ import annotations

import functools
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory

MIGRATIONS = Path(__file__).resolve().parents[2] / "migrations"


def alembic_config(dsn: str | None = None) -> Config:
    """An Alembic config pointing at migrations/, optionally at a given database."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    if dsn:
        config.attributes["url"] = "postgresql+psycopg://" + dsn.split("://", 1)[1]
    return config


def upgrade(dsn: str | None = None, revision: str = "head") -> None:
    """Migrates the database up to `revision`."""
    command.upgrade(alembic_config(dsn), revision)


@functools.cache
def head() -> str:
    """The newest revision in migrations/."""
    revision = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert revision is not None
    return revision
