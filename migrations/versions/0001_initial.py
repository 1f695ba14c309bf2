"""Cameras, calls and their locations, detections, the event outbox and the audit log.

Revision ID: 0001
Revises:
"""

from alembic import context, op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def _srid() -> int:
    from dispatch.settings import Settings

    return int(context.config.attributes.get("metric_srid") or Settings().metric_srid)


def upgrade() -> None:
    srid = _srid()
    op.execute("CREATE EXTENSION IF NOT EXISTS postgis")
    op.execute(f"""
        CREATE TABLE cameras (
            camera_id text PRIMARY KEY,
            name text NOT NULL DEFAULT '',
            lat double precision NOT NULL,
            lon double precision NOT NULL,
            height_m double precision NOT NULL,
            heading_deg double precision NOT NULL,
            fov_deg double precision NOT NULL,
            range_m double precision NOT NULL,
            kind text NOT NULL,
            pan_min_deg double precision,
            pan_max_deg double precision,
            quality text NOT NULL,
            connected boolean NOT NULL,
            status text NOT NULL,
            stream_rtsp text,
            stream_path text,
            area text NOT NULL DEFAULT '',
            owner text NOT NULL DEFAULT '',
            tags jsonb NOT NULL DEFAULT '{{}}'::jsonb,
            public boolean NOT NULL DEFAULT false,
            updated_at timestamptz NOT NULL DEFAULT now(),
            geom geometry(POINT, 4326) NOT NULL,
            point_m geometry(POINT, {srid}) NOT NULL,
            sector_m geometry(POLYGON, {srid}) NOT NULL,
            CONSTRAINT camera_kind CHECK (kind IN ('fixed', 'ptz', 'dome')),
            CONSTRAINT camera_quality CHECK (quality IN ('hd', 'analog')),
            CONSTRAINT camera_status CHECK (status IN ('online', 'offline')),
            CONSTRAINT camera_fov CHECK (fov_deg > 0 AND fov_deg <= 360),
            CONSTRAINT camera_heading CHECK (heading_deg >= 0 AND heading_deg <= 360)
        )""")
    for column in ("geom", "point_m", "sector_m"):
        op.execute(f"CREATE INDEX idx_cameras_{column} ON cameras USING gist ({column})")
    op.execute(f"""
        CREATE TABLE calls (
            incident_id uuid PRIMARY KEY,
            call_id text NOT NULL UNIQUE,
            hotline text NOT NULL,
            status text NOT NULL DEFAULT 'open',
            received_at timestamptz NOT NULL,
            opened_at timestamptz NOT NULL DEFAULT now(),
            updated_at timestamptz NOT NULL DEFAULT now(),
            closed_at timestamptz,
            close_reason text,
            caller_hash text,
            caller_last3 text,
            area text,
            location jsonb,
            cameras jsonb NOT NULL DEFAULT '[]'::jsonb,
            region_m geometry(GEOMETRY, {srid}),
            CONSTRAINT call_hotline CHECK (hotline IN ('113', '114', '115')),
            CONSTRAINT call_status CHECK (status IN ('open', 'closed'))
        )""")
    op.execute("CREATE INDEX idx_calls_region_m ON calls USING gist (region_m)")
    op.execute("""
        CREATE TABLE call_locations (
            location_id bigserial PRIMARY KEY,
            incident_id uuid NOT NULL REFERENCES calls (incident_id) ON DELETE CASCADE,
            seq integer,
            content_hash text NOT NULL,
            received_at timestamptz NOT NULL DEFAULT now(),
            reported jsonb NOT NULL,
            region jsonb NOT NULL,
            CONSTRAINT call_location_once UNIQUE (incident_id, content_hash)
        )""")
    op.execute("""
        CREATE TABLE detections (
            detection_id text PRIMARY KEY,
            camera_id text NOT NULL,
            detected_at timestamptz NOT NULL,
            kind text NOT NULL,
            label text,
            confidence double precision NOT NULL,
            box double precision[],
            snapshot_url text,
            attributes jsonb NOT NULL DEFAULT '{}'::jsonb,
            received_at timestamptz NOT NULL DEFAULT now()
        )""")
    op.execute("CREATE INDEX detections_camera_time ON detections (camera_id, detected_at)")
    op.execute("""
        CREATE TABLE events (
            event_id bigserial PRIMARY KEY,
            created_at timestamptz NOT NULL DEFAULT now(),
            type text NOT NULL,
            incident_id uuid,
            hotline text,
            area text,
            payload jsonb NOT NULL
        )""")
    op.execute("CREATE INDEX events_incident ON events (incident_id)")
    op.execute("""
        CREATE TABLE audit (
            audit_id bigserial PRIMARY KEY,
            at timestamptz NOT NULL DEFAULT now(),
            actor text NOT NULL,
            agency text,
            action text NOT NULL,
            subject jsonb NOT NULL,
            reason text,
            prev_hash text,
            hash text
        )""")


def downgrade() -> None:
    for table in ("audit", "events", "detections", "call_locations", "calls", "cameras"):
        op.execute(f"DROP TABLE IF EXISTS {table}")
