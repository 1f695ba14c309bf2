"""The system of record: SQLAlchemy Core tables with GeoAlchemy2 types (Alembic migrates them)."""

from __future__ import annotations

from geoalchemy2 import Geometry
from sqlalchemy import (
    ARRAY,
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    Table,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB, UUID


def build_metadata(metric_srid: int) -> MetaData:
    """All tables, with metric geometry in the configured projected CRS."""
    metadata = MetaData()
    _cameras(metadata, metric_srid)
    _calls(metadata, metric_srid)
    _detections(metadata)
    _events(metadata)
    _audit(metadata)
    _access(metadata)
    return metadata


def _cameras(metadata: MetaData, srid: int) -> Table:
    return Table(
        "cameras",
        metadata,
        Column("camera_id", Text, primary_key=True),
        Column("name", Text, nullable=False, server_default=""),
        Column("lat", Float, nullable=False),
        Column("lon", Float, nullable=False),
        Column("height_m", Float, nullable=False),
        Column("heading_deg", Float, nullable=False),
        Column("fov_deg", Float, nullable=False),
        Column("range_m", Float, nullable=False),
        Column("kind", Text, nullable=False),
        Column("pan_min_deg", Float),
        Column("pan_max_deg", Float),
        Column("quality", Text, nullable=False),
        Column("connected", Boolean, nullable=False),
        Column("status", Text, nullable=False),
        Column("stream_rtsp", Text),
        Column("stream_path", Text),
        Column("area", Text, nullable=False, server_default=""),
        Column("owner", Text, nullable=False, server_default=""),
        Column("tags", JSONB, nullable=False, server_default=text("'{}'::jsonb")),
        Column("public", Boolean, nullable=False, server_default=text("false")),
        Column("updated_at", DateTime(timezone=True), nullable=False, server_default=text("now()")),
        Column("geom", Geometry("POINT", srid=4326, spatial_index=True), nullable=False),
        Column("point_m", Geometry("POINT", srid=srid, spatial_index=True), nullable=False),
        Column("sector_m", Geometry("POLYGON", srid=srid, spatial_index=True), nullable=False),
        CheckConstraint("kind IN ('fixed', 'ptz', 'dome')", name="camera_kind"),
        CheckConstraint("quality IN ('hd', 'analog')", name="camera_quality"),
        CheckConstraint("status IN ('online', 'offline')", name="camera_status"),
        CheckConstraint("fov_deg > 0 AND fov_deg <= 360", name="camera_fov"),
        CheckConstraint("heading_deg >= 0 AND heading_deg <= 360", name="camera_heading"),
        postgresql_with={"toast_tuple_target": 8160},
    )


def _calls(metadata: MetaData, srid: int) -> None:
    Table(
        "calls",
        metadata,
        Column("incident_id", UUID(as_uuid=True), primary_key=True),
        Column("call_id", Text, nullable=False, unique=True),
        Column("hotline", Text, nullable=False),
        Column("status", Text, nullable=False, server_default="open"),
        Column("received_at", DateTime(timezone=True), nullable=False),
        Column("opened_at", DateTime(timezone=True), nullable=False, server_default=text("now()")),
        Column("updated_at", DateTime(timezone=True), nullable=False, server_default=text("now()")),
        Column("closed_at", DateTime(timezone=True)),
        Column("close_reason", Text),
        Column("caller_hash", Text),
        Column("caller_last3", Text),
        Column("area", Text),
        Column("location", JSONB),
        Column("cameras", JSONB, nullable=False, server_default=text("'[]'::jsonb")),
        Column("region_m", Geometry("GEOMETRY", srid=srid, spatial_index=True)),
        CheckConstraint("hotline IN ('113', '114', '115')", name="call_hotline"),
        CheckConstraint("status IN ('open', 'closed')", name="call_status"),
        Index("calls_open", "incident_id", postgresql_where=text("status = 'open'")),
    )
    Table(
        "call_locations",
        metadata,
        Column("location_id", BigInteger, primary_key=True, autoincrement=True),
        Column(
            "incident_id",
            UUID(as_uuid=True),
            ForeignKey("calls.incident_id", ondelete="CASCADE"),
            nullable=False,
        ),
        Column("seq", Integer),
        Column("content_hash", Text, nullable=False),
        Column("received_at", DateTime(timezone=True), nullable=False, server_default=text("now()")),
        Column("reported", JSONB, nullable=False),
        Column("region", JSONB, nullable=False),
        UniqueConstraint("incident_id", "content_hash", name="call_location_once"),
    )


def _detections(metadata: MetaData) -> None:
    Table(
        "detections",
        metadata,
        Column("detection_id", Text, primary_key=True),
        Column("camera_id", Text, nullable=False),
        Column("detected_at", DateTime(timezone=True), nullable=False),
        Column("kind", Text, nullable=False),
        Column("label", Text),
        Column("confidence", Float, nullable=False),
        Column("box", ARRAY(Float)),
        Column("snapshot_url", Text),
        Column("attributes", JSONB, nullable=False, server_default=text("'{}'::jsonb")),
        Column("received_at", DateTime(timezone=True), nullable=False, server_default=text("now()")),
        Index("detections_camera_time", "camera_id", "detected_at"),
    )


def _events(metadata: MetaData) -> None:
    Table(
        "events",
        metadata,
        Column("event_id", BigInteger, primary_key=True, autoincrement=True),
        Column("created_at", DateTime(timezone=True), nullable=False, server_default=text("now()")),
        Column("type", Text, nullable=False),
        Column("incident_id", UUID(as_uuid=True)),
        Column("hotline", Text),
        Column("area", Text),
        Column("payload", JSONB, nullable=False),
        Index("events_incident", "incident_id"),
    )


def _audit(metadata: MetaData) -> None:
    Table(
        "audit",
        metadata,
        Column("audit_id", BigInteger, primary_key=True, autoincrement=True),
        Column("at", DateTime(timezone=True), nullable=False, server_default=text("now()")),
        Column("actor", Text, nullable=False),
        Column("agency", Text),
        Column("action", Text, nullable=False),
        Column("subject", JSONB, nullable=False),
        Column("reason", Text),
        Column("prev_hash", Text),
        Column("hash", Text),
    )


def _access(metadata: MetaData) -> None:
    Table(
        "revoked_tokens",
        metadata,
        Column("token_id", Text, primary_key=True),
        Column("revoked_at", DateTime(timezone=True), nullable=False, server_default=text("now()")),
    )
    Table(
        "api_keys",
        metadata,
        Column("key_id", Text, primary_key=True),
        Column("secret_hash", Text, nullable=False),
        Column("name", Text, nullable=False),
        Column("created_at", DateTime(timezone=True), nullable=False, server_default=text("now()")),
        Column("revoked", Boolean, nullable=False, server_default=text("false")),
        Column("requests", BigInteger, nullable=False, server_default=text("0")),
    )
