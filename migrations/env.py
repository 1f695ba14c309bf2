"""Alembic environment: runs migrations against the configured database, synchronously through psycopg."""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine, pool

from dispatch.settings import Settings
from dispatch.storage.schema import build_metadata

settings = Settings()
target_metadata = build_metadata(settings.metric_srid)


def sync_url(dsn: str) -> str:
    """The same database through psycopg, which Alembic's synchronous engine needs."""
    return "postgresql+psycopg://" + dsn.split("://", 1)[1]


def include_object(obj: object, name: str | None, type_: str, reflected: bool, compare_to: object) -> bool:
    # PostGIS and Alembic's own tables are not ours to compare.
    return not (type_ == "table" and name in {"spatial_ref_sys", "alembic_version"})


def run_migrations_online() -> None:
    url = context.config.attributes.get("url") or sync_url(settings.dsn)
    engine = create_engine(url, poolclass=pool.NullPool)
    with engine.connect() as connection:
        context.configure(
            connection=connection, target_metadata=target_metadata, include_object=include_object
        )
        with context.begin_transaction():
            context.run_migrations()


run_migrations_online()
