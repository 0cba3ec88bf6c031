"""Knowledge-base fixtures: the admin app and its logged-in clients (tests/support/admin.py),
the resolver's consortium with a knowledge base (tests/support/kb_site.py), and a local HTTP
server for the link check (never the internet)."""

from __future__ import annotations

import http.server
import threading
import time
from collections.abc import Iterator

import pytest

from tests.support.admin import (  # noqa: F401 - fixtures
    admin_app,
    boss,
    hue_admin,
    sessions,
    tvu_admin,
)
from tests.support.kb_site import kb_app, kb_client, kb_env  # noqa: F401 - fixtures


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
