"""OAI-PMH data provider: exposed items and their set membership

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01 09:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "oai_item",
        sa.Column("record_id", sa.String(length=200), nullable=False),
        sa.Column("datestamp", sa.DateTime(), nullable=False),
        sa.Column("deleted", sa.Boolean(), nullable=False),
        sa.Column("record", sa.JSON(), nullable=False),
        sa.Column("content_hash", sa.String(length=64), nullable=False),
        sa.Column("source_prefix", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("record_id"),
    )
    op.create_index(
        "ix_oai_item_datestamp_id", "oai_item", ["datestamp", "record_id"], unique=False
    )
    op.create_table(
        "oai_item_set",
        sa.Column("record_id", sa.String(length=200), nullable=False),
        sa.Column("spec", sa.String(length=200), nullable=False),
        sa.ForeignKeyConstraint(["record_id"], ["oai_item.record_id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("record_id", "spec"),
    )
    op.create_index("ix_oai_item_set_spec_id", "oai_item_set", ["spec", "record_id"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_oai_item_set_spec_id", table_name="oai_item_set")
    op.drop_table("oai_item_set")
    op.drop_index("ix_oai_item_datestamp_id", table_name="oai_item")
    op.drop_table("oai_item")
