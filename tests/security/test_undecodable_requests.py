"""Bytes that are not UTF-8 in the query string, the form body or a cookie: a 400 in the
reader's form (a page in their language, JSON under /api, an OAI-PMH badArgument at /oai) or
ignored — never a 500. The OpenURL resolver reads them itself (old catalogues send Latin-1).

The test client's ``environ_overrides`` hand the app the bytes as a WSGI server does (PEP 3333:
``QUERY_STRING`` is the request line's bytes as Latin-1); the socket tests send them over a
real connection to ``wsgiref``, a server that passes them through (Werkzeug's development
server re-encodes them and gunicorn refuses them before the app, so neither would show it).
"""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, make_server

import pytest

from resolver import create_app
from resolver.settings import load_settings
from tests.support.accounts import PASSWORD, add_user
from tests.support.admin import load_registry
from tests.support.net import serving
from tests.support.pages import csrf_token
from tests.support.sample import build_index

pytestmark = pytest.mark.usefixtures("cheap_hashes")

#: (path, raw query string): raw bytes, and escapes Werkzeug cannot decode either
UNDECODABLE = [
    ("/", b"q=\xff"),
    ("/search", b"q=\xc3\x28"),
    ("/search", b"lang=\xff"),
    ("/search", b"q=%C3&x=\xe9"),
    ("/api/search", b"q=\xc3\x28"),
    ("/oai", b"verb=Identify&x=\xff\xfe"),
    ("/oai", b"verb=\xff"),
    ("/admin/login", b"\xff"),
    ("/record/no-such-record", b"a=\xff"),
    ("/no-such-page", b"\xc3"),
]
#: already decoded by Werkzeug (a bad escape stays as written): the pages answer as usual
ESCAPED = [("/search", b"q=%C3"), ("/resolve", b"%FF=1"), ("/oai", b"verb=Identify&x=%ff%fe"),
           ("/api/search", b"q=%C3"), ("/search", b"q=%ff&lang=%ff")]

VI_TITLE = "Không đọc được địa chỉ này"
EN_TITLE = "This address cannot be read"


@pytest.fixture
def site(lienhop_env, tmp_path, monkeypatch):  # type: ignore[no-untyped-def]
    monkeypatch.setenv("LIENHOP_DATABASE_URL", f"sqlite:///{tmp_path / 'db.sqlite3'}")
    app = create_app(load_settings())
    load_registry(app.extensions["lienhop.sessions"])
    add_user(app.extensions["lienhop.sessions"], "boss")
    build_index(app.config["LIENHOP"].index_dir)
    return app


def _get(client: Any, path: str, query: bytes, **kw: Any) -> Any:
    return client.get(path, environ_overrides={"QUERY_STRING": query.decode("latin-1")}, **kw)


def assert_refused_in_readers_form(path: str, status: int, content_type: str, body: bytes,
                                   *, lang: str = "vi") -> None:
    where = f"{path}: {status} {body[:200]!r}"
    assert status == 400, where
    text = body.decode("utf-8")
    if path.startswith("/api/"):
        assert content_type.startswith("application/json"), where
        assert "UTF-8" in json.loads(text)["error"], where
    elif path == "/oai":
        assert content_type.startswith("text/xml"), where
        assert '<error code="badArgument">' in text and "UTF-8" in text, where
    else:
        assert content_type.startswith("text/html"), where
        assert (VI_TITLE if lang == "vi" else EN_TITLE) in text, where
        assert f'<html lang="{lang}">' in text, where


@pytest.mark.parametrize(("path", "query"), UNDECODABLE)
def test_a_query_string_that_is_not_utf8_is_a_400_in_the_readers_form(site, path, query):
    res = _get(site.test_client(), path, query)
    assert_refused_in_readers_form(path, res.status_code, res.content_type, res.get_data())


def test_the_refusal_is_in_the_language_the_reader_chose(site):
    client = site.test_client()
    client.set_cookie("lang", "en")
    res = _get(client, "/search", b"q=\xff")
    assert_refused_in_readers_form("/search", res.status_code, res.content_type,
                                   res.get_data(), lang="en")


def test_an_administrator_meets_the_same_page(site):
    client = site.test_client()
    page = client.get("/admin/login").get_data(as_text=True)
    client.post("/admin/login", data={"username": "boss", "password": PASSWORD,
                                      "csrf_token": csrf_token(page)})
    for path in ("/admin/", "/admin/jobs", "/admin/kb"):
        res = _get(client, path, b"q=\xff")
        assert res.status_code == 400, path
        assert VI_TITLE in res.get_data(as_text=True), path


@pytest.mark.parametrize(("path", "query"), ESCAPED)
def test_escapes_werkzeug_reads_still_answer_as_before(site, path, query):
    res = _get(site.test_client(), path, query)
    assert res.status_code in (200, 400)
    assert VI_TITLE not in res.get_data(as_text=True)


def test_the_resolver_reads_latin1_bytes_of_old_catalogues(site):
    client = site.test_client()
    res = _get(client, "/resolve", b"rft.atitle=D\xe9pendances&rft.issn=0025-6196&lang=en")
    assert res.status_code == 200
    html = res.get_data(as_text=True)
    assert "Dépendances" in html
    assert '<html lang="en">' in html  # ?lang= still read beside the Latin-1 bytes
    api = _get(client, "/resolve/api", b"rft.atitle=D\xe9pendances&rft.issn=0025-6196&inst=\xff")
    assert api.status_code == 200
    assert api.get_json()["citation"]["atitle"] == "Dépendances"


FORM_BODIES = [b"q=\xff\xfe", b"username=\xc3\x28&password=%ff", b"\xff=\xff&csrf_token=\xc3"]


def test_form_bodies_that_are_not_utf8_are_never_a_500(site):
    client = site.test_client()
    page = client.get("/admin/login").get_data(as_text=True)
    client.post("/admin/login", data={"username": "boss", "password": PASSWORD,
                                      "csrf_token": csrf_token(page)})
    token = csrf_token(client.get("/admin/password").get_data(as_text=True)).encode()
    bad = []
    for rule in site.url_map.iter_rules():
        if "POST" not in (rule.methods or ()) or rule.arguments or rule.endpoint == "admin.logout":
            continue
        for body in [*FORM_BODIES, b"csrf_token=" + token + b"&name=\xff&confirm=\xc3"]:
            res = client.post(rule.rule, data=body,
                              content_type="application/x-www-form-urlencoded")
            if res.status_code >= 500:
                bad.append((rule.rule, body, res.status_code))
    assert not bad


@pytest.mark.parametrize("cookie", [b"lang=\xff", b"session=\xff\xfe", b"lang=%ff; x=\xc3\x28"])
def test_cookies_that_are_not_utf8_are_ignored(site, cookie):
    client = site.test_client()
    for path in ("/", "/search?q=x", "/api/search?q=x", "/oai?verb=Identify", "/admin/login"):
        res = client.get(path, headers={"Cookie": cookie.decode("latin-1")})
        assert res.status_code == 200, path
    assert '<html lang="vi">' in client.get(
        "/", headers={"Cookie": cookie.decode("latin-1")}).get_data(as_text=True)


# --- over a real socket ---------------------------------------------------------------------

class _Quiet(WSGIRequestHandler):
    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def served(site) -> Iterator[int]:  # type: ignore[no-untyped-def]
    with serving(make_server("127.0.0.1", 0, site, handler_class=_Quiet)) as port:
        yield port


def _raw_get(port: int, target: bytes) -> tuple[int, str, bytes]:
    with socket.create_connection(("127.0.0.1", port), timeout=30) as conn:
        conn.sendall(b"GET " + target + b" HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n")
        data = b""
        while chunk := conn.recv(65536):
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = dict(line.split(": ", 1) for line in lines[1:] if ": " in line)
    return int(lines[0].split()[1]), headers.get("Content-Type", ""), body


@pytest.mark.parametrize(("path", "query"), UNDECODABLE[:7])
def test_raw_bytes_over_a_socket_get_the_400(served, path, query):
    status, content_type, body = _raw_get(served, path.encode() + b"?" + query)
    assert_refused_in_readers_form(path, status, content_type, body)


def test_raw_latin1_openurl_over_a_socket_resolves(served):
    status, _, body = _raw_get(served, b"/resolve?rft.atitle=D\xe9pendances&rft.issn=0025-6196")
    assert status == 200
    assert "Dépendances" in body.decode("utf-8")


@pytest.mark.parametrize("path", [b"/\xff", b"/api/\xff", b"/oai/\xff\xfe", b"/record/\xc3\x28"])
def test_raw_bytes_in_the_path_are_a_404_in_the_readers_form(served, path):
    status, content_type, _ = _raw_get(served, path)
    assert status == 404
    assert content_type.startswith("application/json" if path.startswith(b"/api")
                                   else "text/xml" if path.startswith(b"/oai") else "text/html")
