"""People who log in during tests: their password, how to add one, and cheap hashing."""

from __future__ import annotations

from typing import Any

import pytest

from resolver import db
from resolver.accounts.auth import create_user
from resolver.registry.models import Institution

PASSWORD = "correct horse battery"


def add_user(sessions: Any, username: str, *, institution: str | None = None) -> None:
    with db.transaction(sessions) as s:
        inst_id = None
        if institution:
            inst_id = s.query(Institution.id).filter_by(code=institution).scalar()
        create_user(s, username, PASSWORD, role="institution" if institution else "consortium",
                    institution_id=inst_id)


@pytest.fixture
def cheap_hashes(monkeypatch):  # type: ignore[no-untyped-def]
    """Still scrypt, at a test-sized cost: production's cost makes every login ~0.1 s."""
    import functools

    from werkzeug.security import generate_password_hash

    monkeypatch.setattr("resolver.accounts.auth.generate_password_hash",
                        functools.partial(generate_password_hash, method="scrypt:1024:8:1"))
