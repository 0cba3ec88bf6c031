"""Harvest workers report themselves, so a job queued with no worker running says so

Revision ID: 0008
Revises: 0007
Create Date: 2027-01-12 09:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "harvest_worker",
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("started_at", sa.DateTime(), nullable=False),
        sa.Column("seen_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("name"),
    )
    op.create_index("ix_harvest_worker_seen_at", "harvest_worker", ["seen_at"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_harvest_worker_seen_at", table_name="harvest_worker")
    op.drop_table("harvest_worker")
