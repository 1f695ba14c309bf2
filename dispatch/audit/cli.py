"""`callsight audit`: verify the audit log's hash chain and export it for inspectors (light imports only)."""

from __future__ import annotations

import sys
from collections.abc import Awaitable, Callable
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

import click

if TYPE_CHECKING:
    import asyncpg

T = TypeVar("T")


class Unreachable(click.ClickException):
    """The database could not be read: exit status 2, apart from the 1 of a broken chain."""

    exit_code = 2


def _rfc3339(ctx: click.Context, param: click.Parameter, value: str | None) -> datetime | None:
    if value is None:
        return None
    try:
        at = datetime.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"{value!r} is not an RFC 3339 time") from None
    if at.tzinfo is None:
        raise click.BadParameter(f"{value!r} has no offset; add Z or +07:00")
    return at


def _on_database(work: Callable[[asyncpg.Connection], Awaitable[T]]) -> T:
    import asyncio

    import asyncpg

    from dispatch.settings import Settings

    async def run() -> T:
        conn = await asyncpg.connect(Settings().dsn, timeout=10)
        try:
            return await work(conn)
        finally:
            await conn.close()

    try:
        return asyncio.run(run())
    except (OSError, RuntimeError, asyncpg.PostgresError) as exc:
        raise Unreachable(f"cannot read the audit log: {exc}") from None


@click.group()
def audit() -> None:
    """The audit log of every disclosure: verify its hash chain, export it."""


@audit.command()
def verify() -> None:
    """Walk the chain: print OK with the row count, or the first broken row and exit with status 1."""
    from dispatch.audit.chain import Walker
    from dispatch.audit.export import verify_chain

    walker = Walker()
    found = _on_database(lambda conn: verify_chain(conn, walker))
    if found is not None:
        click.echo(f"BROKEN at {found}")
        sys.exit(1)
    # The head hash lets an inspector notice later that the chain was rewritten from some row onwards.
    head = f", head {walker.last.audit_id} {walker.last.hash}" if walker.last else ""
    click.echo(f"OK {walker.count} rows{head}")


@audit.command("export")
@click.option("--since", callback=_rfc3339, help="First time included (RFC 3339, e.g. 2026-11-26T00:00:00Z).")
@click.option("--until", callback=_rfc3339, help="First time excluded (RFC 3339).")
@click.option(
    "--out", type=click.Path(dir_okay=False, path_type=Path), help="File to write (default stdout)."
)
def export_rows(since: datetime | None, until: datetime | None, out: Path | None) -> None:
    """Write the rows recorded in [since, until) as JSON lines, in chain order."""
    from dispatch.audit.export import export

    if out is None:
        count = _on_database(lambda conn: export(conn, since, until, sys.stdout))
    else:
        with out.open("w", encoding="utf-8", newline="\n") as stream:
            count = _on_database(lambda conn: export(conn, since, until, stream))
    click.echo(f"exported {count} audit rows", err=True)
