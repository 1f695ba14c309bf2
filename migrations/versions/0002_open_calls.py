"""Find open incidents by camera quickly when a detection arrives.

Revision ID: 0002
Revises: 0001
"""

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("CREATE INDEX calls_open ON calls (incident_id) WHERE status = 'open'")


def downgrade() -> None:
    op.execute("DROP INDEX IF EXISTS calls_open")
