"""Keep a camera's sector inline: its EWKB (~2 kB) would go to TOAST, nearly doubling the bulk write.

Revision ID: 0005
Revises: 0004
"""

from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("ALTER TABLE cameras SET (toast_tuple_target = 8160)")


def downgrade() -> None:
    op.execute("ALTER TABLE cameras RESET (toast_tuple_target)")
