"""knowledge base: packages, titles, entitlements, resolver settings, clicks, delivery

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-21 19:29:33.090938
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "click_log",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("institution", sa.String(length=64), nullable=True),
        sa.Column("package", sa.String(length=64), nullable=True),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("doi", sa.String(length=300), nullable=True),
        sa.Column("issn", sa.String(length=20), nullable=True),
        sa.Column("isbn", sa.String(length=20), nullable=True),
        sa.Column("title", sa.String(length=300), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("click_log", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_click_log_at"), ["at"], unique=False)

    op.create_table(
        "delivery_request",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("institution", sa.String(length=64), nullable=True),
        sa.Column("citation", sa.JSON(), nullable=False),
        sa.Column("requester_name", sa.String(length=200), nullable=False),
        sa.Column("requester_email", sa.String(length=200), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("delivery_request", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_delivery_request_created_at"), ["created_at"], unique=False
        )

    op.create_table(
        "kb_package",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=300), nullable=False),
        sa.Column("platform", sa.String(length=100), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("article_template", sa.String(length=1000), nullable=False),
        sa.Column("title_template", sa.String(length=1000), nullable=False),
        sa.Column("imported_at", sa.DateTime(), nullable=True),
        sa.Column("source_file", sa.String(length=500), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("code"),
    )
    op.create_table(
        "open_platform",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("url_template", sa.String(length=1000), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("code"),
    )
    op.create_table(
        "kb_entitlement",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("package_id", sa.Integer(), nullable=False),
        sa.Column("institution_id", sa.Integer(), nullable=False),
        sa.Column("start", sa.Date(), nullable=True),
        sa.Column("end", sa.Date(), nullable=True),
        sa.ForeignKeyConstraint(["institution_id"], ["institution.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["package_id"], ["kb_package.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("kb_entitlement", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_kb_entitlement_institution_id"), ["institution_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_kb_entitlement_package_id"), ["package_id"], unique=False
        )

    op.create_table(
        "kb_title",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("package_id", sa.Integer(), nullable=False),
        sa.Column("row", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=1000), nullable=False),
        sa.Column("title_norm", sa.String(length=300), nullable=False),
        sa.Column("print_id", sa.String(length=20), nullable=True),
        sa.Column("online_id", sa.String(length=20), nullable=True),
        sa.Column("title_id", sa.String(length=300), nullable=True),
        sa.Column("title_url", sa.String(length=2000), nullable=True),
        sa.Column("date_first", sa.String(length=10), nullable=True),
        sa.Column("date_last", sa.String(length=10), nullable=True),
        sa.Column("embargo", sa.String(length=32), nullable=True),
        sa.Column("coverage_depth", sa.String(length=64), nullable=False),
        sa.Column("publication_type", sa.String(length=16), nullable=True),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(["package_id"], ["kb_package.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("kb_title", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_kb_title_online_id"), ["online_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_kb_title_package_id"), ["package_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_kb_title_print_id"), ["print_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_kb_title_title_norm"), ["title_norm"], unique=False)

    op.create_table(
        "resolver_settings",
        sa.Column("institution_id", sa.Integer(), nullable=False),
        sa.Column("proxy_prefix", sa.String(length=500), nullable=False),
        sa.Column("catalogue_template", sa.String(length=2000), nullable=False),
        sa.Column("catalogue_name", sa.String(length=200), nullable=False),
        sa.Column("redirect_default", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(["institution_id"], ["institution.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("institution_id"),
    )


def downgrade() -> None:
    op.drop_table("resolver_settings")
    with op.batch_alter_table("kb_title", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_kb_title_title_norm"))
        batch_op.drop_index(batch_op.f("ix_kb_title_print_id"))
        batch_op.drop_index(batch_op.f("ix_kb_title_package_id"))
        batch_op.drop_index(batch_op.f("ix_kb_title_online_id"))

    op.drop_table("kb_title")
    with op.batch_alter_table("kb_entitlement", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_kb_entitlement_package_id"))
        batch_op.drop_index(batch_op.f("ix_kb_entitlement_institution_id"))

    op.drop_table("kb_entitlement")
    op.drop_table("open_platform")
    op.drop_table("kb_package")
    with op.batch_alter_table("delivery_request", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_delivery_request_created_at"))

    op.drop_table("delivery_request")
    with op.batch_alter_table("click_log", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_click_log_at"))

    op.drop_table("click_log")
