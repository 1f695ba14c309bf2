"""The `callsight` command. Heavy modules are imported inside commands so that it starts fast."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:
    from dispatch.settings import Settings

AGENCIES = ("police", "fire", "medical", "supervisor", "admin")


def _settings() -> Settings:
    from dispatch.settings import Settings

    return Settings()


@click.group()
def main() -> None:
    """Callsight: the cameras around an emergency caller, on the dispatcher's screen."""


@main.command()
def serve() -> None:
    """Run the service (CALLSIGHT_HOST:CALLSIGHT_PORT) until SIGINT or SIGTERM."""
    from aiohttp import web

    from dispatch.app import create_app
    from dispatch.hardening import tls_context
    from dispatch.logs import configure

    settings = _settings()
    configure(settings.log_format, settings.log_level)
    web.run_app(
        create_app(settings),
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


@main.command()
@click.option("--agency", type=click.Choice(AGENCIES), required=True, help="Role the token names.")
@click.option("--areas", default="", help="Comma-separated areas the console covers (all when empty).")
@click.option("--ttl", default="8h", show_default=True, help="Lifetime: 90s, 15m, 8h, 7d.")
@click.option("--count", default=1, show_default=True, help="How many tokens, one a line.")
@click.option("--name", default=None, help="Console name (default: agency and a short id).")
def token(agency: str, areas: str, ttl: str, count: int, name: str | None) -> None:
    """Print signed console tokens on standard output."""
    from dispatch.auth.tokens import issue, parse_ttl

    try:
        seconds = parse_ttl(ttl)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--ttl") from None
    key = _settings().token_key
    area_list = [a.strip() for a in areas.split(",") if a.strip()]
    for _ in range(count):
        click.echo(issue(key, agency, seconds, area_list, name))  # type: ignore[arg-type]
