"""What every ``lienhop`` command shares: the settings and the opened database, made on first
use (a command that never touches the database never opens it)."""

from __future__ import annotations

import click
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from resolver import db
from resolver.logs import configure_logging
from resolver.settings import ConfigError, Settings, load_settings


class Context:
    """What commands share: settings and a migrated database, made on first use."""

    def __init__(self) -> None:
        self._settings: Settings | None = None
        self._database: db.Database | None = None

    @property
    def settings(self) -> Settings:
        if self._settings is None:
            try:
                self._settings = load_settings()
            except ConfigError as exc:
                raise click.ClickException(str(exc)) from exc
            configure_logging(self._settings.log_level)
        return self._settings

    @property
    def database(self) -> db.Database:
        """The instance's database, its schema at head (:func:`resolver.db.open_database`)."""
        if self._database is None:
            self._database = db.open_database(self.settings)
        return self._database

    @property
    def engine(self) -> Engine:
        return self.database.engine

    def sessions(self) -> sessionmaker[Session]:
        return self.database.sessions


pass_ctx = click.make_pass_decorator(Context, ensure=True)
