"""Every configuration value, read once from CALLSIGHT_* variables or the TOML file in CALLSIGHT_CONFIG."""

from __future__ import annotations

import os
import secrets
from functools import cached_property
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

PROJECT_ROOT = Path(__file__).resolve().parents[1]


class Settings(BaseSettings):
    """Callsight's settings; each field is documented in the README (a test checks it)."""

    model_config = SettingsConfigDict(env_prefix="CALLSIGHT_", extra="forbid", frozen=True)

    database_url: str = Field(
        default="", description="PostgreSQL + PostGIS to use; empty means the project-local cluster."
    )
    host: str = Field(default="127.0.0.1", description="Address the service listens on.")
    port: int = Field(default=8080, ge=0, le=65535, description="Port the service listens on.")
    tls_cert: Path | None = Field(
        default=None, description="PEM certificate chain: serve HTTPS/WSS when set with tls_key."
    )
    tls_key: Path | None = Field(default=None, description="PEM private key of tls_cert.")
    data_dir: Path = Field(
        default=PROJECT_ROOT / ".data", description="Local folder for generated secrets and the dev cluster."
    )
    webhook_secrets: SecretStr = Field(
        default=SecretStr(""), description="Signed senders as name=secret,name2=secret2."
    )
    token_secret: SecretStr = Field(
        default=SecretStr(""),
        description="Key that signs console and feed tokens; generated in data_dir when empty.",
    )
    caller_hash_secret: SecretStr = Field(
        default=SecretStr(""), description="Key of the caller-number hash; generated in data_dir when empty."
    )
    caller_hash_previous: SecretStr = Field(
        default=SecretStr(""),
        description="Earlier caller-hash keys, comma-separated: lookups still find their calls.",
    )
    rate_limit_per_s: float = Field(
        default=200.0, gt=0, description="Requests a second per client address on /v1."
    )
    media_gateway: str = Field(
        default="http://127.0.0.1:8090/{path}",
        description="Feed URL template with {path} (and {token}); HLS when it has .m3u8.",
    )
    tile_url: str = Field(
        default="", description="Tile URL template ({z}/{x}/{y}) of the city's tile server; empty: demo map."
    )
    feed_token_ttl_s: int = Field(default=1800, gt=0, description="Lifetime of a feed token, seconds.")
    metric_crs: str = Field(default="EPSG:32648", description="Projected CRS for metric work.")
    match_confidence: float = Field(
        default=0.95, gt=0, lt=1, description="Confidence every caller region is normalised to."
    )
    min_uncertainty_m: float = Field(
        default=10.0, ge=0, description="Radius given to a point with no uncertainty, metres."
    )
    max_cameras: int = Field(default=50, ge=1, description="Most cameras listed on one incident.")
    nearby_k: int = Field(default=10, ge=0, description="Nearest cameras added to every match.")
    nearby_within_m: float = Field(
        default=500.0, gt=0, description="Radius within which nearby cameras are searched, metres."
    )
    ws_compress: bool = Field(
        default=False, description="Compress console WebSocket frames (permessage-deflate)."
    )
    heartbeat_s: float = Field(
        default=15.0, gt=0, description="Seconds of silence before a console gets a heartbeat."
    )
    console_buffer_bytes: int = Field(
        default=8 * 1024 * 1024,
        ge=1024,
        description="Unsent bytes a console may have before it is cut off (4008) as not reading.",
    )
    console_memory_bytes: int = Field(
        default=2 * 1024 * 1024 * 1024,
        ge=1024,
        description="Unsent bytes all consoles together may have; beyond it, those furthest behind are cut "
        "off (4008) and may resume.",
    )
    max_consoles: int = Field(
        default=2000, ge=1, description="Console connections served at once; more are refused with 503."
    )
    resume_window_s: int = Field(
        default=3600, gt=0, description="How far back a console can resume, seconds."
    )
    detection_lookback_s: int = Field(
        default=600, gt=0, description="Detections shown with an incident, seconds back."
    )
    detection_limit: int = Field(
        default=50, ge=0, description="Most recent detections carried with an incident."
    )
    detection_retention_s: int = Field(
        default=30 * 86400,
        gt=0,
        description="Detections older than this are deleted (kept while an incident needs them).",
    )
    call_retention_s: int = Field(
        default=90 * 86400,
        gt=0,
        description="Closed calls, their fixes and events are deleted after this, seconds.",
    )
    policy_file: Path | None = Field(
        default=None,
        description="TOML access policy (detection kinds and fields per agency); default the bundled one.",
    )
    mqtt_url: SecretStr = Field(
        default=SecretStr(""),
        description="MQTT broker of Frigate's events, mqtt://[user:password@]host[:port]; empty: bridge off.",
    )
    frigate_topic: str = Field(
        default="frigate/events", description="Topic of Frigate's tracked-object events."
    )
    frigate_cameras: str = Field(
        default="", description="Frigate camera names to camera ids: name=CAMERA-ID[@WIDTHxHEIGHT],..."
    )
    frigate_frame: str = Field(
        default="1920x1080", description="Frame size of Frigate cameras mapped without one."
    )
    open_data: bool = Field(
        default=False, description="Serve the public open-data API under /open/v1 (API keys)."
    )
    open_data_rate: int = Field(
        default=60, ge=1, description="Open-data requests per minute allowed per API key."
    )
    body_limit: int = Field(
        default=64 * 1024, gt=0, description="Largest request body, bytes (calls, fixes, detections)."
    )
    batch_body_limit: int = Field(
        default=1024 * 1024, gt=0, description="Largest detection batch body, bytes."
    )
    import_body_limit: int = Field(
        default=10 * 1024 * 1024, gt=0, description="Largest camera import body, bytes."
    )
    signature_window_s: int = Field(
        default=300, gt=0, description="Accepted clock difference of signed requests, seconds."
    )
    max_inflight: int = Field(
        default=200,
        ge=1,
        description="Webhook requests handled at once; beyond it senders get 503 + Retry-After.",
    )
    db_pool_min: int = Field(default=2, ge=1, description="Database connections kept open.")
    db_pool_max: int = Field(default=10, ge=1, description="Most database connections.")
    event_loop: Literal["uvloop", "asyncio"] = Field(
        default="uvloop", description="Event loop of `callsight serve`: uvloop (libuv), or asyncio's own."
    )
    log_format: Literal["text", "json"] = Field(
        default="text", description="text, or json for one JSON object a line."
    )
    log_level: str = Field(default="INFO", description="Python logging level.")
    config: Path | None = Field(
        default=None, description="TOML file with any of these settings (lower-case names)."
    )

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        toml_file = os.environ.get("CALLSIGHT_CONFIG")
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
        if toml_file:
            sources.append(TomlConfigSettingsSource(settings_cls, toml_file=toml_file))
        return tuple(sources)

    @cached_property
    def dsn(self) -> str:
        """The database URL, falling back to the project-local cluster started by scripts/pg."""
        if self.database_url:
            return self.database_url
        port_file = self.data_dir / "pg.port"
        if not port_file.exists():
            raise RuntimeError("no CALLSIGHT_DATABASE_URL and no local cluster: run scripts/pg start")
        return f"postgresql://postgres@127.0.0.1:{port_file.read_text().strip()}/callsight"

    @cached_property
    def senders(self) -> dict[str, bytes]:
        """Signed senders by name, each with its HMAC key."""
        pairs = (
            item.split("=", 1) for item in self.webhook_secrets.get_secret_value().split(",") if "=" in item
        )
        return {name.strip(): secret.strip().encode() for name, secret in pairs}

    @cached_property
    def token_key(self) -> bytes:
        """The console and feed token key."""
        return self._secret(self.token_secret, "token_secret")

    @cached_property
    def caller_key(self) -> bytes:
        """The caller-number hash key."""
        return self._secret(self.caller_hash_secret, "caller_hash_secret")

    def _secret(self, value: SecretStr, name: str) -> bytes:
        if value.get_secret_value():
            return value.get_secret_value().encode()
        path = self.data_dir / name
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as out:
                out.write(secrets.token_hex(32))
        return path.read_text().strip().encode()

    @cached_property
    def caller_keys(self) -> list[bytes]:
        """The current caller-hash key first, then the earlier ones (for lookups across a rotation)."""
        previous = self.caller_hash_previous.get_secret_value().split(",")
        return [self.caller_key, *(key.strip().encode() for key in previous if key.strip())]

    @property
    def metric_srid(self) -> int:
        """EPSG number of the metric CRS."""
        return int(self.metric_crs.split(":")[-1])
