"""Alembic environment: runs on the engine lienhop hands over (see resolver.db.migrate).

When :func:`resolver.db.migrate.upgrade` passes a connection, the migrations run in that
connection's transaction, the one holding the upgrade lock; otherwise (a downgrade in a
test, say) in a transaction of their own.
"""

from alembic import context
from sqlalchemy import Connection

import resolver.models  # noqa: F401 - registers every table, for autogenerate's comparison
from resolver.db.base import Base

config = context.config


def run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        # SQLite cannot ALTER most things; batch mode rebuilds tables instead.
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


given = config.attributes.get("connection")
if given is not None:
    run(given)
else:
    with config.attributes["engine"].begin() as connection:
        run(connection)
