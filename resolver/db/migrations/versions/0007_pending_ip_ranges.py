"""Campus IP ranges waiting for a consortium administrator's approval

Ranges already in ``ip_range`` stay in force (they count as approved): only ranges entered by
an institution administrator after this upgrade wait here.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-08 09:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "pending_ip_range",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("institution_id", sa.Integer(), nullable=False),
        sa.Column("cidr", sa.String(length=64), nullable=False),
        sa.Column("requested_by", sa.String(length=100), nullable=False),
        sa.Column("requested_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["institution_id"], ["institution.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("cidr"),
    )
    op.create_index(
        "ix_pending_ip_range_institution_id", "pending_ip_range", ["institution_id"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index("ix_pending_ip_range_institution_id", table_name="pending_ip_range")
    op.drop_table("pending_ip_range")
