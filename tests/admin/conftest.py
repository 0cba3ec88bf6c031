"""Admin fixtures: an app over a two-institution registry, logged-in clients, Redis.

Web tests run on SQLite and PostgreSQL (``db_url``). ``redis_url`` starts Debian's
redis-server on a free port for the session, or skips loudly when it is not installed.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
import warnings
from collections.abc import Iterator
from typing import Any

import pytest

from resolver import db
from resolver.accounts.auth import create_user
from resolver.registry.models import Institution
from resolver.registry.sync import apply_registry
from resolver.registry.toml_file import parse_registry
from resolver.settings import load_settings
from tests.conftest import _free_port, wait_for_port

PASSWORD = "correct horse battery"
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


def csrf_token(html: str) -> str:
    m = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert m, "no CSRF token in the page"
    return m.group(1)


def load_registry(sessions: Any, hue_url: str = "http://127.0.0.1:9/oai") -> None:
    with db.transaction(sessions) as s:
        apply_registry(s, parse_registry(REGISTRY.format(hue_url=hue_url)))


def add_user(sessions: Any, username: str, *, institution: str | None = None) -> None:
    with db.transaction(sessions) as s:
        inst_id = None
        if institution:
            inst_id = s.query(Institution.id).filter_by(code=institution).scalar()
        create_user(s, username, PASSWORD, role="institution" if institution else "consortium",
                    institution_id=inst_id)


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


@pytest.fixture(autouse=True)
def cheap_hashes(monkeypatch):  # type: ignore[no-untyped-def]
    """Still scrypt, at a test-sized cost: production's cost makes every login ~0.1 s."""
    import functools

    from werkzeug.security import generate_password_hash

    monkeypatch.setattr("resolver.accounts.auth.generate_password_hash",
                        functools.partial(generate_password_hash, method="scrypt:1024:8:1"))


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
def anon(admin_app) -> AdminClient:  # type: ignore[no-untyped-def]
    return AdminClient(admin_app)


@pytest.fixture(scope="session")
def redis_url() -> Iterator[str]:
    """redis://127.0.0.1:PORT/0 of a throw-away Debian redis-server."""
    binary = shutil.which("redis-server")
    if binary is None:
        reason = ("REDIS TESTS SKIPPED: redis-server is not installed (run `make test`, which "
                  "installs Debian's redis-server package)")
        warnings.warn(reason, stacklevel=1)
        pytest.skip(reason)
    port = _free_port()
    workdir = tempfile.mkdtemp(prefix="lienhop-redis-")
    proc = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
         "--dir", workdir, "--daemonize", "no"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_for_port(port, timeout=20)
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        shutil.rmtree(workdir, ignore_errors=True)


def worker_env(extra: dict[str, str]) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LIENHOP_")}
    env.update(extra)
    return env
