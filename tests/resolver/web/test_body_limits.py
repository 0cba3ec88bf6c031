"""Request bodies are capped: LIENHOP_MAX_REQUEST_MB everywhere, LIENHOP_MAX_UPLOAD_MB on the
upload views. Over the cap: a 413 page in the reader's language (JSON on the APIs), and the
body is not read — neither through the test client nor through a real server on 127.0.0.1,
whose memory must not grow with the body.
"""

from __future__ import annotations

import functools
import io
import re
import socket
import threading
import time
import tracemalloc
from collections.abc import Iterator

import pytest
from werkzeug.security import generate_password_hash
from werkzeug.serving import make_server

from resolver import db
from resolver.accounts.auth import create_user
from tests.support.net import serving

MB = 1024 * 1024
PASSWORD = "a long enough test password"


class LazyBody(io.RawIOBase):
    """A body of ``size`` bytes that exists only as it is read, counting what was read."""

    def __init__(self, size: int, fill: bytes = b"a") -> None:
        self.size, self.pos, self.fill, self.read_bytes = size, 0, fill, 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self.pos

    def seek(self, offset: int, whence: int = 0) -> int:
        self.pos = {0: offset, 1: self.pos + offset, 2: self.size + offset}[whence]
        return self.pos

    def readinto(self, buffer) -> int:  # type: ignore[no-untyped-def]
        n = min(len(buffer), self.size - self.pos)
        buffer[:n] = self.fill * n
        self.pos += n
        self.read_bytes += n
        return n


def post_big(client, url: str, size: int, *, chunked: bool = False, **kw):  # type: ignore[no-untyped-def]
    body = LazyBody(size)
    headers = {"Content-Type": "application/x-www-form-urlencoded", **kw.pop("headers", {})}
    overrides = {}
    if chunked:  # no Content-Length: the server says where the body ends (wsgi.input_terminated)
        headers["Transfer-Encoding"] = "chunked"
        overrides["wsgi.input_terminated"] = True
    res = client.post(url, input_stream=body, headers=headers, environ_overrides=overrides, **kw)
    return res, body


@pytest.mark.parametrize("url", ["/admin/login", "/resolve/delivery", "/resolve",
                                 "/search", "/no/such/page"])
def test_a_declared_body_over_the_limit_is_refused_unread(client, url):
    res, body = post_big(client, url, 32 * MB)
    assert res.status_code == 413
    assert body.read_bytes == 0
    html = res.get_data(as_text=True)
    assert "Dữ liệu quá lớn" in html and "tối đa 1 MB" in html
    assert '<html lang="vi">' in html


def test_the_413_page_speaks_english_on_request(client):
    res, _body = post_big(client, "/admin/login?lang=en", 2 * MB)
    assert res.status_code == 413
    html = res.get_data(as_text=True)
    assert "Too much data" in html and "at most 1 MB" in html


def test_a_chunked_body_is_read_only_up_to_the_limit(client):
    res, body = post_big(client, "/admin/login", 16 * MB, chunked=True)
    assert res.status_code == 413
    assert body.read_bytes <= 1 * MB + 64 * 1024, body.read_bytes


@pytest.mark.parametrize("url", ["/api/search", "/resolve/api"])
def test_the_apis_answer_413_in_json(client, url):
    res, body = post_big(client, url, 8 * MB)
    assert res.status_code == 413 and body.read_bytes == 0
    assert res.is_json and "1 MB" in res.get_json()["error"]
    assert res.get_json()["max_bytes"] == 1 * MB


def test_bodies_under_the_limit_still_work(client):
    res = client.post("/oai", data={"verb": "Identify", "x": "a" * 900_000})
    assert res.status_code == 200 and "badArgument" in res.get_data(as_text=True)
    res, body = post_big(client, "/oai?verb=Identify", 900_000, chunked=True)
    assert res.status_code == 200 and body.read_bytes == 900_000


def test_the_limit_follows_the_setting(lienhop_env, monkeypatch):
    from resolver import create_app
    from resolver.settings import load_settings

    monkeypatch.setenv("LIENHOP_MAX_REQUEST_MB", "0.25")
    client = create_app(load_settings()).test_client()
    assert post_big(client, "/oai", 300_000)[0].status_code == 413
    assert post_big(client, "/oai", 300_000, chunked=True)[0].status_code == 413
    assert client.post("/oai", data={"verb": "Identify", "x": "x" * 200_000}).status_code == 200


def test_a_form_field_over_the_form_memory_cap_is_refused(client):
    # multipart: a non-file field over MAX_FORM_MEMORY_SIZE, although the body is under 1 MB
    res = client.post("/admin/login", data={"username": "u" * 600_000, "password": "p"},
                      content_type="multipart/form-data")
    assert res.status_code == 413


# --- the upload views take more ------------------------------------------------------------

@pytest.fixture
def admin(app, monkeypatch):  # type: ignore[no-untyped-def]
    monkeypatch.setattr("resolver.accounts.auth.generate_password_hash",
                        functools.partial(generate_password_hash, method="scrypt:1024:8:1"))
    with db.transaction(app.extensions["lienhop.sessions"]) as s:
        create_user(s, "boss", PASSWORD, role="consortium", institution_id=None)
    client = app.test_client()
    token = _token(client.get("/admin/login").get_data(as_text=True))
    res = client.post("/admin/login", data={"username": "boss", "password": PASSWORD,
                                            "csrf_token": token})
    assert res.status_code in (302, 303), res.status_code
    return client


def _token(html: str) -> str:
    m = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert m
    return m.group(1)


def _upload(client, url: str, size: int):  # type: ignore[no-untyped-def]
    token = _token(client.get(url).get_data(as_text=True))
    data = {"csrf_token": token, "code": "big", "institution": "", "package": "",
            "file": (io.BytesIO(b"x" * size), "big.tsv")}
    return client.post(url, data=data, content_type="multipart/form-data")


@pytest.mark.parametrize("url", ["/admin/kb/upload", "/admin/usage/counter"])
def test_upload_views_take_files_over_the_general_limit(admin, url):
    res = _upload(admin, url, 3 * MB)
    assert res.status_code != 413  # the view itself judges the file (here: not KBART/COUNTER)
    assert res.status_code < 500


def test_other_admin_forms_keep_the_general_limit(admin):
    assert _upload(admin, "/admin/password", 3 * MB).status_code == 413


def test_upload_views_have_their_own_limit(lienhop_env, monkeypatch):
    from resolver import create_app
    from resolver.settings import load_settings

    monkeypatch.setenv("LIENHOP_MAX_UPLOAD_MB", "2")
    app = create_app(load_settings())
    res, body = post_big(app.test_client(), "/admin/kb/upload", 3 * MB)
    assert res.status_code == 413 and body.read_bytes == 0
    assert "tối đa 2 MB" in res.get_data(as_text=True)


# --- a real server --------------------------------------------------------------------------

@pytest.fixture
def served(app) -> Iterator[int]:  # type: ignore[no-untyped-def]
    with serving(make_server("127.0.0.1", 0, app, threaded=True)) as port:
        yield port


def _read_response(sock: socket.socket) -> bytes:
    data = b""
    deadline = time.monotonic() + 10
    while b"\r\n\r\n" not in data or not data.rstrip().endswith(b"</html>"):
        if time.monotonic() > deadline:
            break
        try:
            chunk = sock.recv(65536)
        except (ConnectionResetError, TimeoutError):
            break
        if not chunk:
            break
        data += chunk
    return data


def test_real_server_answers_413_without_waiting_for_a_500_mb_body(served):
    with socket.create_connection(("127.0.0.1", served), timeout=10) as sock:
        sock.sendall(b"POST /admin/login HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                     b"Content-Type: application/x-www-form-urlencoded\r\n"
                     b"Content-Length: 524288000\r\n\r\n" + b"a" * 1024)
        start = time.monotonic()
        answer = _read_response(sock)
    assert answer.startswith(b"HTTP/1.1 413"), answer[:200]
    assert "Dữ liệu quá lớn".encode() in answer
    assert time.monotonic() - start < 5


def test_real_server_memory_does_not_grow_with_a_streamed_body(served):
    body_size = 64 * MB
    answered = threading.Event()
    tracemalloc.start()
    try:
        with socket.create_connection(("127.0.0.1", served), timeout=10) as sock:
            sock.sendall(b"POST /resolve/delivery HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                         b"Content-Type: application/x-www-form-urlencoded\r\n"
                         b"Transfer-Encoding: chunked\r\n\r\n")
            piece = b"a" * 65536
            frame = b"%x\r\n" % len(piece) + piece + b"\r\n"

            def send() -> None:
                # Streams until the server answers: a server that buffers bodies only
                # answers once it has all 64 MB.
                try:
                    for _ in range(body_size // len(piece)):
                        if answered.is_set():
                            return
                        sock.sendall(frame)
                    sock.sendall(b"0\r\n\r\n")
                except OSError:
                    pass  # the server answered and closed: it had no use for the rest

            sender = threading.Thread(target=send, daemon=True)
            sender.start()
            first = sock.recv(1)
            answered.set()
            answer = first + _read_response(sock)
            sender.join(timeout=20)
        _current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert answer.startswith(b"HTTP/1.1 413"), answer[:200]
    # The app keeps about the 1 MB limit; the rest of the bound is Werkzeug's development
    # server, which drains what is still in flight, 10 MB a read, so the client sees the 413.
    assert peak < 24 * MB, f"peak {peak / MB:.1f} MB"
