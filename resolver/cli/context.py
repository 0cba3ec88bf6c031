"""What every ``lienhop`` command shares: the settings and a migrated engine, made on first use."""

from __future__ import annotations

import click
from sqlalchemy import Engine

from resolver import db
from resolver.logs import configure_logging
from resolver.settings import ConfigError, Settings, load_settings


class Context:
    """What commands share: settings and a migrated engine, made on first use."""

    def __init__(self) -> None:
        self._settings: Settings | None = None
        self._engine: Engine | None = None

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
    def engine(self) -> Engine:
        if self._engine is None:
            self._engine = db.make_engine(self.settings.database_url)
            db.upgrade(self._engine)
        return self._engine

    def sessions(self):  # type: ignore[no-untyped-def]
        return db.session_factory(self.engine)


pass_ctx = click.make_pass_decorator(Context, ensure=True)
