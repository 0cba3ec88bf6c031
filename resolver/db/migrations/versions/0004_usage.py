"""usage and cost: resolve log, monthly roll-up, COUNTER imports, package costs, SUSHI

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-22 09:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "resolve_log",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("institution", sa.String(length=64), nullable=True),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column("package", sa.String(length=64), nullable=True),
        sa.Column("packages", sa.String(length=500), nullable=False),
        sa.Column("doi", sa.String(length=300), nullable=True),
        sa.Column("issn", sa.String(length=20), nullable=True),
        sa.Column("isbn", sa.String(length=20), nullable=True),
        sa.Column("title", sa.String(length=300), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_resolve_log_at", "resolve_log", ["at"], unique=False)

    op.create_table(
        "usage_month",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("month", sa.Date(), nullable=False),
        sa.Column("institution", sa.String(length=64), nullable=False),
        sa.Column("package", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint(
            "source", "month", "institution", "package", "kind", name="uq_usage_month_key"
        ),
    )
    op.create_table(
        "usage_rollup_state",
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("through", sa.Date(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("source"),
    )

    op.create_table(
        "counter_import",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("imported_at", sa.DateTime(), nullable=False),
        sa.Column("source", sa.String(length=500), nullable=False),
        sa.Column("report_id", sa.String(length=16), nullable=False),
        sa.Column("release", sa.String(length=8), nullable=False),
        sa.Column("created", sa.String(length=40), nullable=False),
        sa.Column("created_by", sa.String(length=200), nullable=False),
        sa.Column("customer_id", sa.String(length=200), nullable=False),
        sa.Column("institution_name", sa.String(length=300), nullable=False),
        sa.Column("institution", sa.String(length=64), nullable=False),
        sa.Column("package", sa.String(length=64), nullable=False),
        sa.Column("begin", sa.Date(), nullable=False),
        sa.Column("end", sa.Date(), nullable=False),
        sa.Column("rows", sa.Integer(), nullable=False),
        sa.Column("exceptions", sa.JSON(), nullable=False),
        sa.Column("header", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_counter_import_imported_at", "counter_import", ["imported_at"])
    op.create_index("ix_counter_import_institution", "counter_import", ["institution"])
    op.create_index("ix_counter_import_package", "counter_import", ["package"])

    op.create_table(
        "counter_usage",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("import_id", sa.Integer(), nullable=False),
        sa.Column("institution", sa.String(length=64), nullable=False),
        sa.Column("package", sa.String(length=64), nullable=False),
        sa.Column("report_id", sa.String(length=16), nullable=False),
        sa.Column("metric", sa.String(length=40), nullable=False),
        sa.Column("title", sa.String(length=1000), nullable=False),
        sa.Column("platform", sa.String(length=200), nullable=False),
        sa.Column("publisher", sa.String(length=300), nullable=False),
        sa.Column("issn", sa.String(length=20), nullable=True),
        sa.Column("eissn", sa.String(length=20), nullable=True),
        sa.Column("isbn", sa.String(length=20), nullable=True),
        sa.Column("doi", sa.String(length=300), nullable=True),
        sa.Column("data_type", sa.String(length=40), nullable=True),
        sa.Column("access_type", sa.String(length=40), nullable=True),
        sa.Column("yop", sa.String(length=8), nullable=True),
        sa.Column("month", sa.Date(), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["import_id"], ["counter_import.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_counter_usage_import_id", "counter_usage", ["import_id"])
    op.create_index(
        "ix_counter_usage_replace",
        "counter_usage",
        ["institution", "package", "report_id", "month"],
    )

    op.create_table(
        "counter_month",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("institution", sa.String(length=64), nullable=False),
        sa.Column("package", sa.String(length=64), nullable=False),
        sa.Column("report_id", sa.String(length=16), nullable=False),
        sa.Column("metric", sa.String(length=40), nullable=False),
        sa.Column("month", sa.Date(), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint(
            "report_id", "metric", "month", "package", "institution", name="uq_counter_month_key"
        ),
    )

    op.create_table(
        "package_cost",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("package", sa.String(length=64), nullable=False),
        sa.Column("institution", sa.String(length=64), nullable=True),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("amount", sa.Numeric(precision=16, scale=2), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_package_cost_key", "package_cost", ["package", "year", "institution"])

    op.create_table(
        "sushi_credential",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("package", sa.String(length=64), nullable=False),
        sa.Column("institution", sa.String(length=64), nullable=False),
        sa.Column("base_url", sa.String(length=1000), nullable=False),
        sa.Column("customer_id", sa.String(length=200), nullable=False),
        sa.Column("requestor_id", sa.String(length=200), nullable=False),
        sa.Column("api_key", sa.String(length=500), nullable=False),
        sa.Column("platform", sa.String(length=200), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("package", "institution", name="uq_sushi_credential"),
    )


def downgrade() -> None:
    op.drop_table("sushi_credential")
    op.drop_index("ix_package_cost_key", table_name="package_cost")
    op.drop_table("package_cost")
    op.drop_table("counter_month")
    op.drop_index("ix_counter_usage_replace", table_name="counter_usage")
    op.drop_index("ix_counter_usage_import_id", table_name="counter_usage")
    op.drop_table("counter_usage")
    op.drop_index("ix_counter_import_package", table_name="counter_import")
    op.drop_index("ix_counter_import_institution", table_name="counter_import")
    op.drop_index("ix_counter_import_imported_at", table_name="counter_import")
    op.drop_table("counter_import")
    op.drop_table("usage_rollup_state")
    op.drop_table("usage_month")
    op.drop_index("ix_resolve_log_at", table_name="resolve_log")
    op.drop_table("resolve_log")
