"""The admin app over a two-institution registry, and clients logged in through the form.

Its fixtures (``admin_app``, ``boss``, ``hue_admin``, ``tvu_admin``, ``anon``, ``sessions``)
are pulled into the conftest of each folder whose tests use them. Web tests run on SQLite and
PostgreSQL (``db_url``).
"""

from __future__ import annotations

from typing import Any

import pytest

from resolver import db
from resolver.registry.sync import apply_registry
from resolver.registry.toml_file import parse_registry
from resolver.settings import load_settings
from tests.support.accounts import PASSWORD, add_user
from tests.support.pages import csrf_token

REGISTRY = """
[[institution]]
code = "hue"
name_vi = "Đại học Huế"
status = "member"
since = 2004-10-01
ip_ranges = ["203.0.113.0/24"]

[[institution.repository]]
code = "hue-dspace"
oai_url = "{hue_url}"
schedule = "manual"

[[institution]]
code = "tvu"
name_vi = "Đại học Trà Vinh"
status = "observer"
since = 2020-01-01
ip_ranges = ["198.51.100.0/24"]

[[institution.repository]]
code = "tvu-ojs"
oai_url = "http://127.0.0.1:9/oai"
schedule = "manual"
"""


def load_registry(sessions: Any, hue_url: str = "http://127.0.0.1:9/oai") -> None:
    with db.transaction(sessions) as s:
        apply_registry(s, parse_registry(REGISTRY.format(hue_url=hue_url)))


class FakeQueue:
    """Stands in for huey in web tests: records what would have been sent."""

    def __init__(self) -> None:
        self.sent: list[int] = []
        self.revoked: list[str] = []

    def send(self, job_id: int) -> str:
        self.sent.append(job_id)
        return f"task-{job_id}"

    def revoke(self, task_id: str) -> None:
        self.revoked.append(task_id)


class AdminClient:
    """A test client that logs in through the form and sends CSRF tokens like a browser."""

    def __init__(self, app: Any):
        self.app = app
        self.http = app.test_client()

    def get(self, url: str, **kw: Any) -> Any:
        return self.http.get(url, **kw)

    def post(self, url: str, data: dict[str, Any] | None = None, *, form_page: str | None = None,
             **kw: Any) -> Any:
        """POST with the token of ``form_page`` (default: the login page, any page has one)."""
        base = kw.get("base_url")
        page = self.http.get(form_page or "/admin/login", base_url=base)
        if page.status_code == 302:  # logged in already: any admin form has a token
            page = self.http.get("/admin/password", base_url=base)
        html = page.get_data(as_text=True)
        if base and base.startswith("https:"):  # Flask-WTF checks the Referer over HTTPS
            kw.setdefault("headers", {}).setdefault("Referer", base + "/admin/login")
        return self.http.post(url, data={**(data or {}), "csrf_token": csrf_token(html)}, **kw)

    def login(self, username: str, password: str = PASSWORD, **kw: Any) -> Any:
        return self.post("/admin/login", {"username": username, "password": password}, **kw)


@pytest.fixture
def admin_app(lienhop_env, db_url, monkeypatch):  # type: ignore[no-untyped-def]
    from resolver import create_app

    monkeypatch.setenv("LIENHOP_DATABASE_URL", db_url)
    app = create_app(load_settings())
    sessions = app.extensions["lienhop.sessions"]
    load_registry(sessions)
    add_user(sessions, "boss")
    add_user(sessions, "hue-admin", institution="hue")
    add_user(sessions, "tvu-admin", institution="tvu")
    app.extensions["lienhop.queue"] = FakeQueue()
    return app


@pytest.fixture
def boss(admin_app) -> AdminClient:  # type: ignore[no-untyped-def]
    c = AdminClient(admin_app)
    assert c.login("boss").status_code == 302
    return c


@pytest.fixture
def hue_admin(admin_app) -> AdminClient:  # type: ignore[no-untyped-def]
    c = AdminClient(admin_app)
    assert c.login("hue-admin").status_code == 302
    return c


@pytest.fixture
def tvu_admin(admin_app) -> AdminClient:  # type: ignore[no-untyped-def]
    c = AdminClient(admin_app)
    assert c.login("tvu-admin").status_code == 302
    return c


@pytest.fixture
def anon(admin_app) -> AdminClient:  # type: ignore[no-untyped-def]
    return AdminClient(admin_app)


@pytest.fixture
def sessions(admin_app):  # type: ignore[no-untyped-def]
    """The admin app's session factory (tests/resolver/usage has its own ``sessions``)."""
    return admin_app.extensions["lienhop.sessions"]
