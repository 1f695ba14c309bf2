"""Throw-away databases for the tests, the benchmarks and the chaos suite: created migrated, dropped after."""

from __future__ import annotations

import contextlib
import os
import uuid
from collections.abc import Iterator

import psycopg


def admin_url(dsn: str | None = None) -> str:
    """The maintenance database of the cluster that `dsn` (or the configured database) lives in."""
    if dsn is None:
        from dispatch.settings import Settings

        dsn = os.environ.get("CALLSIGHT_DATABASE_URL") or Settings().dsn
    return dsn.rsplit("/", 1)[0] + "/postgres"


@contextlib.contextmanager
def scratch_database(
    prefix: str, dsn: str | None = None, keep: bool = False, migrated: bool = True
) -> Iterator[str]:
    """A new database `prefix_<random>` beside `dsn`, migrated to head (unless not `migrated`); dropped
    afterwards unless `keep`."""
    from dispatch.storage.migrate import upgrade

    admin = admin_url(dsn)
    name = f"{prefix}_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        url = admin.rsplit("/", 1)[0] + "/" + name
        if migrated:
            upgrade(url)
        yield url
    finally:
        if not keep:
            with psycopg.connect(admin, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
