"""link check results

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-29 09:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "link_check",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("package", sa.String(length=64), nullable=False),
        sa.Column("title", sa.String(length=1000), nullable=False),
        sa.Column("url", sa.String(length=2000), nullable=False),
        sa.Column("status", sa.Integer(), nullable=True),
        sa.Column("checked_at", sa.DateTime(), nullable=False),
        sa.Column("error", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_link_check_package", "link_check", ["package"], unique=False)
    op.create_index("ix_link_check_checked_at", "link_check", ["checked_at"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_link_check_checked_at", table_name="link_check")
    op.drop_index("ix_link_check_package", table_name="link_check")
    op.drop_table("link_check")
