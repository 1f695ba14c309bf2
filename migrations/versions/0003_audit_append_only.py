"""Audit rows are append-only: a trigger refuses UPDATE and DELETE, and a service role without those rights.

The trigger holds even for the table's owner. A superuser (or the owner) can still disable it, or TRUNCATE the
table, which row triggers do not see; the hash chain (`callsight audit verify`) detects a row then altered,
deleted or moved, and the head hash it prints lets inspectors notice a rewritten or truncated chain.

Deployments run the service as a login role that is a member of `callsight_service` (created here when the
migrating role may create roles): it may read and write every table but may not UPDATE, DELETE or TRUNCATE
`audit`.

Revision ID: 0003
Revises: 0002
"""

from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

SERVICE_ROLE = "callsight_service"

REFUSE = """
    CREATE OR REPLACE FUNCTION audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        RAISE EXCEPTION 'audit rows are append-only: % refused', TG_OP
            USING ERRCODE = 'insufficient_privilege',
                  HINT = 'the audit log is a hash chain; corrections are new rows';
    END
    $$"""

# Roles are cluster-wide (created once, tolerated when present); grants are per database. Tables made by later
# migrations get the same grants through default privileges.
SERVICE = f"""
    DO $$
    DECLARE
        t regclass;
    BEGIN
        IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{SERVICE_ROLE}') THEN
            IF NOT (SELECT rolsuper OR rolcreaterole FROM pg_roles WHERE rolname = current_user) THEN
                RAISE NOTICE 'cannot create role {SERVICE_ROLE}: the audit trigger alone guards the log';
                RETURN;
            END IF;
            CREATE ROLE {SERVICE_ROLE} NOLOGIN;
        END IF;
        EXECUTE format('GRANT USAGE ON SCHEMA %I TO {SERVICE_ROLE}', current_schema());
        EXECUTE format('GRANT SELECT ON ALL TABLES IN SCHEMA %I TO {SERVICE_ROLE}', current_schema());
        -- Writes on our own tables only, not on those of extensions (PostGIS's spatial_ref_sys).
        FOR t IN SELECT c.oid::regclass FROM pg_class c
                 WHERE c.relnamespace = current_schema()::regnamespace AND c.relkind IN ('r', 'p')
                   AND NOT EXISTS (SELECT FROM pg_depend d WHERE d.objid = c.oid AND d.deptype = 'e')
        LOOP
            EXECUTE format('GRANT INSERT, UPDATE, DELETE ON %s TO {SERVICE_ROLE}', t);
        END LOOP;
        EXECUTE format('GRANT USAGE ON ALL SEQUENCES IN SCHEMA %I TO {SERVICE_ROLE}', current_schema());
        REVOKE UPDATE, DELETE, TRUNCATE ON audit FROM {SERVICE_ROLE};
        EXECUTE format('ALTER DEFAULT PRIVILEGES IN SCHEMA %I GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES '
                       'TO {SERVICE_ROLE}', current_schema());
        EXECUTE format('ALTER DEFAULT PRIVILEGES IN SCHEMA %I GRANT USAGE ON SEQUENCES TO {SERVICE_ROLE}',
                       current_schema());
    END
    $$"""

UNGRANT = f"""
    DO $$
    BEGIN
        IF EXISTS (SELECT FROM pg_roles WHERE rolname = '{SERVICE_ROLE}') THEN
            EXECUTE format('ALTER DEFAULT PRIVILEGES IN SCHEMA %I REVOKE ALL ON TABLES FROM {SERVICE_ROLE}',
                           current_schema());
            EXECUTE format('ALTER DEFAULT PRIVILEGES IN SCHEMA %I REVOKE ALL ON SEQUENCES '
                           'FROM {SERVICE_ROLE}', current_schema());
            EXECUTE format('REVOKE ALL ON ALL TABLES IN SCHEMA %I FROM {SERVICE_ROLE}', current_schema());
            EXECUTE format('REVOKE ALL ON ALL SEQUENCES IN SCHEMA %I FROM {SERVICE_ROLE}', current_schema());
            EXECUTE format('REVOKE ALL ON SCHEMA %I FROM {SERVICE_ROLE}', current_schema());
        END IF;
    END
    $$"""


def upgrade() -> None:
    op.execute(REFUSE)
    op.execute("""
        CREATE TRIGGER audit_append_only BEFORE UPDATE OR DELETE ON audit
        FOR EACH ROW EXECUTE FUNCTION audit_append_only()""")
    op.execute(SERVICE)


def downgrade() -> None:
    # The role itself stays: other databases of the cluster may still grant to it.
    op.execute(UNGRANT)
    op.execute("DROP TRIGGER IF EXISTS audit_append_only ON audit")
    op.execute("DROP FUNCTION IF EXISTS audit_append_only()")
