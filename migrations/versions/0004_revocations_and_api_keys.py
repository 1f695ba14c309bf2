"""Revoked console tokens, and API keys of the public open-data service.

Revision ID: 0004
Revises: 0003
"""

from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("""
        CREATE TABLE revoked_tokens (
            token_id text PRIMARY KEY,
            revoked_at timestamptz NOT NULL DEFAULT now()
        )""")
    op.execute("""
        CREATE TABLE api_keys (
            key_id text PRIMARY KEY,
            secret_hash text NOT NULL,
            name text NOT NULL,
            created_at timestamptz NOT NULL DEFAULT now(),
            revoked boolean NOT NULL DEFAULT false,
            requests bigint NOT NULL DEFAULT 0
        )""")


def downgrade() -> None:
    op.execute("DROP TABLE IF EXISTS api_keys")
    op.execute("DROP TABLE IF EXISTS revoked_tokens")
