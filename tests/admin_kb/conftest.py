"""Fixtures for the knowledge-base, usage and delivery admin pages: part A's logged-in
clients (consortium ``boss``, ``hue-admin``, ``tvu-admin``) over the two-institution registry,
and a local HTTP server for the link check (never the internet)."""

from __future__ import annotations

import http.server
import threading
import time
from collections.abc import Iterator

import pytest

from tests.admin.conftest import (  # noqa: F401 - fixtures re-exported for this directory
    AdminClient,
    admin_app,
    anon,
    boss,
    cheap_hashes,
    hue_admin,
)


@pytest.fixture
def tvu_admin(admin_app) -> AdminClient:  # type: ignore[no-untyped-def]  # noqa: F811
    c = AdminClient(admin_app)
    assert c.login("tvu-admin").status_code == 302
    return c


@pytest.fixture
def sessions(admin_app):  # type: ignore[no-untyped-def]  # noqa: F811
    return admin_app.extensions["lienhop.sessions"]


class _Handler(http.server.BaseHTTPRequestHandler):
    """/ok/* answers 200, /gone/* 404, /nohead/* 405 to HEAD but 200 to GET, /slow/* stalls."""

    seen: list[tuple[str, str]] = []

    def _answer(self, body: bool) -> None:
        self.seen.append((self.command, self.path))
        if self.path.startswith("/slow/"):
            time.sleep(2.0)
        if self.path.startswith("/nohead/") and self.command == "HEAD":
            status = 405
        elif self.path.startswith(("/ok/", "/nohead/", "/slow/")):
            status = 200
        else:
            status = 404
        self.send_response(status)
        self.send_header("Content-Length", "2")
        self.end_headers()
        if body:
            self.wfile.write(b"ok")

    def do_HEAD(self) -> None:  # noqa: N802
        self._answer(False)

    def do_GET(self) -> None:  # noqa: N802
        self._answer(True)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def link_server() -> Iterator[tuple[str, list[tuple[str, str]]]]:
    """(base URL, requests seen) of a local server on 127.0.0.1."""
    _Handler.seen = []
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", _Handler.seen
    finally:
        server.shutdown()
        server.server_close()
