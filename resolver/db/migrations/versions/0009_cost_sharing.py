"""Cost sharing: exchange rates per year, institution sizes, adopted cost shares

Revision ID: 0009
Revises: 0008
Create Date: 2027-02-01 09:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "exchange_rate",
        sa.Column("year", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("vnd_per_usd", sa.Numeric(precision=14, scale=4), nullable=False),
        sa.Column("recorded_by", sa.String(length=100), nullable=False),
        sa.Column("recorded_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("year"),
    )
    op.create_table(
        "institution_size",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("institution_id", sa.Integer(), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("students", sa.Integer(), nullable=True),
        sa.Column("fte", sa.Integer(), nullable=True),
        sa.Column("recorded_by", sa.String(length=100), nullable=False),
        sa.Column("recorded_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["institution_id"], ["institution.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("institution_id", "year", name="uq_institution_size"),
    )
    op.create_index("ix_institution_size_institution_id", "institution_size",
                    ["institution_id"], unique=False)
    op.create_table(
        "cost_share",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("package", sa.String(length=64), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("total", sa.BigInteger(), nullable=False),
        sa.Column("policy", sa.JSON(), nullable=False),
        sa.Column("allocation", sa.JSON(), nullable=False),
        sa.Column("adopted_by", sa.String(length=100), nullable=False),
        sa.Column("adopted_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_cost_share_key", "cost_share", ["package", "year"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_cost_share_key", table_name="cost_share")
    op.drop_table("cost_share")
    op.drop_index("ix_institution_size_institution_id", table_name="institution_size")
    op.drop_table("institution_size")
    op.drop_table("exchange_rate")
