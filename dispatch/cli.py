"""The `callsight` command. Heavy modules are imported inside commands so that it starts fast."""

from __future__ import annotations

import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from dispatch.audit.cli import audit

if TYPE_CHECKING:
    from dispatch.settings import Settings

AGENCIES = ("police", "fire", "medical", "supervisor", "admin")


def _settings() -> Settings:
    from dispatch.settings import Settings

    return Settings()


def _in_transaction(step: Callable[[Any], Awaitable[None]]) -> None:
    """Runs one storage step in its own transaction (for commands that write one thing)."""
    import asyncio

    from dispatch.storage.db import create_pool, transaction

    async def run() -> None:
        pool = await create_pool(_settings().dsn, 1, 1)
        try:
            async with transaction(pool) as conn:
                await step(conn)
        finally:
            await pool.close()

    asyncio.run(run())


@click.group()
def main() -> None:
    """Callsight: the cameras around an emergency caller, on the dispatcher's screen."""


main.add_command(audit)


@main.command()
def serve() -> None:
    """Run the service (CALLSIGHT_HOST:CALLSIGHT_PORT) until SIGINT or SIGTERM."""
    import logging

    from aiohttp import web

    from dispatch.app import create_app
    from dispatch.eventloop import new_event_loop
    from dispatch.hardening import tls_context
    from dispatch.logs import configure

    settings = _settings()
    configure(settings.log_format, settings.log_level)
    loop = new_event_loop(settings.event_loop)
    logging.getLogger(__name__).info("event loop: %s", type(loop).__module__.split(".")[0])
    web.run_app(
        create_app(settings),
        loop=loop,
        ssl_context=tls_context(settings),
        host=settings.host,
        port=settings.port,
        shutdown_timeout=8,
        print=lambda text: click.echo(text, err=True),
    )


@main.command()
def migrate() -> None:
    """Migrate the database to the newest schema."""
    from dispatch.storage.migrate import upgrade

    upgrade(_settings().dsn)
    click.echo("database migrated", err=True)


@main.command("import-cameras")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--all-or-nothing", is_flag=True, help="Store nothing when any row is rejected.")
def import_cameras(file: Path, all_or_nothing: bool) -> None:
    """Import cameras from a GeoJSON (our fields or OSM tags) or CSV file."""
    from dispatch.cameras.loader import import_file

    sys.exit(import_file(_settings(), file, all_or_nothing))


@main.command("demo-city")
@click.option("--cameras", "count", default=37_000, show_default=True, help="How many cameras.")
@click.option("--seed", default=7, show_default=True, help="Random seed (same seed, same city).")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), help="Write the GeoJSON here.")
@click.option("--load/--no-load", default=True, show_default=True, help="Import it into the database.")
def demo_city(count: int, seed: int, out: Path | None, load: bool) -> None:
    """Generate the deterministic demo Ho Chi Minh City camera set."""
    from dispatch.cameras.loader import load_demo_city

    load_demo_city(_settings(), count, seed, out, load)


@main.group(invoke_without_command=True)
@click.option("--agency", type=click.Choice(AGENCIES), help="Role the token names.")
@click.option("--areas", default="", help="Comma-separated areas the console covers (all when empty).")
@click.option("--ttl", default="8h", show_default=True, help="Lifetime: 90s, 15m, 8h, 7d.")
@click.option("--count", default=1, show_default=True, help="How many tokens, one a line.")
@click.option("--name", default=None, help="Console name (default: agency and a short id).")
@click.pass_context
def token(ctx: click.Context, agency: str | None, areas: str, ttl: str, count: int, name: str | None) -> None:
    """Print signed console tokens on standard output (their ids on standard error); or `token revoke ID`."""
    if ctx.invoked_subcommand is not None:
        return
    if agency is None:
        raise click.UsageError("give --agency (or a subcommand: revoke)")
    from dispatch.auth.tokens import issue, parse_ttl, verify

    try:
        seconds = parse_ttl(ttl)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--ttl") from None
    key = _settings().token_key
    area_list = [a.strip() for a in areas.split(",") if a.strip()]
    signed = [issue(key, agency, seconds, area_list, name) for _ in range(count)]  # type: ignore[arg-type]
    # Print tokens only once their issue is in the audit log: no token exists without its row.
    _in_transaction(lambda conn: _audit_issued(conn, key, signed))
    for value in signed:
        click.echo(value)
        click.echo(f"token id {verify(key, value).token_id}", err=True)


async def _audit_issued(conn: Any, key: bytes, signed: list[str]) -> None:
    import getpass

    from dispatch.audit.writer import append_now
    from dispatch.auth.tokens import verify

    for value in signed:
        holder = verify(key, value)
        subject = {"token_id": holder.token_id, "name": holder.name, "areas": sorted(holder.areas)}
        await append_now(conn, f"cli:{getpass.getuser()}", holder.role, "token.issued", subject, None)


@token.command("revoke")
@click.argument("token_id")
def revoke(token_id: str) -> None:
    """Revoke a console token by id: refused everywhere, live consoles disconnected within a second."""
    from dispatch.storage.access import revoke as store_revoke

    _in_transaction(lambda conn: store_revoke(conn, token_id))
    click.echo(f"revoked {token_id}", err=True)


@main.command("open-data-key")
@click.argument("name")
def open_data_key(name: str) -> None:
    """Issue an API key for the open-data API; prints ID.SECRET once (only its hash is stored)."""
    import secrets

    from dispatch.http.open_data import secret_hash
    from dispatch.storage.access import add_key

    key_id, secret = secrets.token_hex(6), secrets.token_urlsafe(24)
    _in_transaction(lambda conn: add_key(conn, key_id, secret_hash(secret), name))
    click.echo(f"{key_id}.{secret}")
