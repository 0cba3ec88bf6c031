"""The ``lienhop`` command line: one group, one sub-group per area.

``lienhop run`` serves the app (Flask's own server, for trials; use gunicorn in production),
``lienhop db upgrade`` migrates the schema, ``lienhop registry import|export`` keeps the
consortium registry in a TOML file, ``lienhop demo load`` loads the demo consortium.
"""

from __future__ import annotations

import click
from flask import Flask
from flask.cli import FlaskGroup

from resolver.cli import admin, db, demo, harvest, kb, oai, registry, usage


def _create_app() -> Flask:
    from resolver import create_app

    return create_app()


@click.group(
    cls=FlaskGroup,
    create_app=_create_app,
    add_version_option=False,
    load_dotenv=False,
    set_debug_flag=False,
    help="lienhop: discovery service and link resolver of the Vietnam Library Consortium.\n\n"
    "Settings come from LIENHOP_* environment variables (LIENHOP_HOME, LIENHOP_DATABASE_URL, "
    "LIENHOP_INDEX_DIR, LIENHOP_SECRET_KEY, LIENHOP_ENV, ...); see README.md.",
)
def main() -> None:
    pass


# Each module defines its commands; this is the one place that lists them.
for command in (db.db_group, registry.registry_group, harvest.harvest_cmd, harvest.index_group,
                demo.demo_group, kb.kb_group, admin.admin_group, admin.worker_cmd,
                usage.usage_group, oai.oai_group):
    main.add_command(command)
