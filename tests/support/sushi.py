"""A tiny COUNTER_SUSHI5 server on 127.0.0.1 (no internet) and the report it serves."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

from resolver.usage.sushi import SushiConfig
from tests.support.usage import FIXTURES

KEY = "s3cr3t-api-key"
REPORT = (FIXTURES / "tr_j1_sciencedirect_hue_2024.json").read_bytes()


class Sushi:
    """A scripted server: each GET pops the next (status, body, headers) off ``script``."""

    def __init__(self) -> None:
        self.script: list[tuple[int, object, dict[str, str]]] = []
        self.seen: list[tuple[str, dict[str, list[str]]]] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802
                parts = urlsplit(self.path)
                outer.seen.append((parts.path, parse_qs(parts.query)))
                status, body, headers = outer.script.pop(0)
                data = body if isinstance(body, bytes) else json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                for k, v in headers.items():
                    self.send_header(k, v)
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args) -> None:  # type: ignore[no-untyped-def]
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/counter/r5"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def config(self) -> SushiConfig:
        return SushiConfig(self.url, "ECR-00012345", "req-77", KEY)
