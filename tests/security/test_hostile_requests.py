"""Hostile requests against every route of the app: none may answer 5xx.

The classes of issue 12 (garbage parameters and path segments, bodies over the limit,
tampered cookies, foreign Host headers, invalid percent-encoding, control characters),
sent to every rule of the URL map, anonymously and as a consortium administrator. A route
added later is covered without touching this file.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from typing import Any

import pytest
from werkzeug.routing import Rule

from resolver import create_app
from resolver.settings import load_settings
from tests.support.accounts import PASSWORD, add_user
from tests.support.admin import FakeQueue, load_registry
from tests.support.pages import csrf_token
from tests.support.sample import build_index

pytestmark = pytest.mark.usefixtures("cheap_hashes")

#: values for a path segment: each a classic of its kind
SEGMENTS = ["0", "-1", "99999999999999999999999", "..%2F..%2Fetc%2Fpasswd", "%00", "%ff%fe",
            "a" * 3000, "\u202egpj.exe", "'\"<svg onload=alert(1)>", "oai:x:1/../2"]
#: query strings, sent raw (some are not valid percent-encoding on purpose)
QUERIES = [
    "q=x&year=abc&page=-1&size=1000000000&sort=%27",
    "q=%ff%fe%00&year=0&page=99999999999999999999&lang=xx",
    "q=" + "a" * 4000 + "&year=..&format=%3Cscript%3E&id=1&id=2",
    "year=-&year=20-digit-99999999999999999999&inst=%0d%0aSet-Cookie:x=1&redirect=1",
    "rft_id=info:doi/10.1234/%ff&rft.date=9999-99&url_ver=Z39.88-2004&url_ctx_fmt=garbage",
    "verb=ListRecords&metadataPrefix=oai_dc&resumptionToken=%ff&from=abc",
    "q=doi:" + "9" * 200 + "&facet=" + "x" * 500 + "&month=9999-12&count=1e30",
]
FORMS = [
    {"q": "x", "year": "abc", "kind": "garbage", "confirm": "maybe", "page": "-1"},
    {"username": "a" * 5000, "password": "\x00" * 10, "email": "<x>", "count": "1e30",
     "month": "9999-12", "amount": "12,5.000", "ip_ranges": "0.0.0.0/0 ::/0"},
]


@pytest.fixture
def hostile_app(lienhop_env, tmp_path, monkeypatch):  # type: ignore[no-untyped-def]
    monkeypatch.setenv("LIENHOP_DATABASE_URL", f"sqlite:///{tmp_path / 'db.sqlite3'}")
    app = create_app(load_settings())
    sessions = app.extensions["lienhop.sessions"]
    load_registry(sessions)
    add_user(sessions, "boss")
    add_user(sessions, "hue-admin", institution="hue")
    app.extensions["lienhop.queue"] = FakeQueue()
    build_index(app.config["LIENHOP"].index_dir)
    return app


def _fill(rule: Rule, value: str) -> str:
    path = rule.rule
    for name, conv in rule._converters.items():  # noqa: SLF001 - the rule's own placeholders
        token = f"<{name}>"
        for spec in (f"<{type(conv).__name__.lower().replace('converter', '')}:{name}>",
                     f"<int:{name}>", f"<path:{name}>", f"<string:{name}>"):
            if spec in path:
                token = spec
                break
        path = path.replace(token, value, 1)
    return path


def _rules(app: Any, method: str) -> Iterator[Rule]:
    for rule in app.url_map.iter_rules():
        if method in (rule.methods or ()) and rule.endpoint != "static":
            yield rule


def _login(client: Any, username: str) -> None:
    page = client.get("/admin/login").get_data(as_text=True)
    res = client.post("/admin/login", data={"username": username, "password": PASSWORD,
                                           "csrf_token": csrf_token(page)})
    assert res.status_code == 302, "the test user could not log in"


def _token(client: Any) -> str:
    for url in ("/admin/password", "/admin/login"):
        html = client.get(url).get_data(as_text=True)
        if 'name="csrf_token"' in html:
            return csrf_token(html)
    return ""


def _assert_no_5xx(results: list[tuple[str, str, int]]) -> None:
    bad = [r for r in results if r[2] >= 500]
    assert not bad, f"{len(bad)} answers of 5xx, e.g. {bad[:5]}"


@pytest.mark.parametrize("who", ["anonymous", "boss", "hue-admin"])
def test_every_get_route_survives_garbage(hostile_app, who):
    client = hostile_app.test_client()
    if who != "anonymous":
        _login(client, who)
    results = []
    for rule in _rules(hostile_app, "GET"):
        paths = [_fill(rule, s) for s in SEGMENTS] if rule.arguments else [rule.rule]
        for path, query in itertools.product(paths[:4] if rule.arguments else paths, QUERIES):
            if rule.arguments and query is not QUERIES[0] and path != paths[0]:
                continue  # every segment once, every query once: bounded
            res = client.get(f"{path}?{query}")
            results.append(("GET", f"{path[:80]}?{query[:40]}", res.status_code))
        for path in paths:
            res = client.get(path)
            results.append(("GET", path[:120], res.status_code))
    assert len(results) > 50  # the url map was really walked
    _assert_no_5xx(results)


@pytest.mark.parametrize("who", ["anonymous", "boss"])
def test_every_post_route_survives_garbage_forms(hostile_app, who):
    client = hostile_app.test_client()
    if who != "anonymous":
        _login(client, who)
    results = []
    for rule in _rules(hostile_app, "POST"):
        if rule.endpoint in ("admin.logout",):
            continue  # would end the session the rest of the walk needs
        path = _fill(rule, SEGMENTS[0]) if rule.arguments else rule.rule
        for form in FORMS:
            for with_token in (False, True):
                data = dict(form)
                if with_token:
                    data["csrf_token"] = _token(client)
                res = client.post(path, data=data)
                results.append(("POST", path, res.status_code))
        if who != "anonymous":  # garbage files to every route that might take one
            res = client.post(path, data={"csrf_token": _token(client),
                                          "file": (_garbage_file(), "x.tsv")},
                              content_type="multipart/form-data")
            results.append(("POST+file", path, res.status_code))
    assert len(results) > 20
    _assert_no_5xx(results)


def _garbage_file() -> Any:
    import io

    # UTF-16 with an odd length and a lone surrogate, then binary junk
    return io.BytesIO(b"\xff\xfe" + "publication_title\t".encode("utf-16-le") + b"\x00\xd8\x41"
                      + bytes(range(256)))


HEADERS = [
    {"Host": "evil.example"},
    {"X-Forwarded-For": "1.2.3.4, ::1, garbage, " + "9" * 300},
    {"Accept-Language": "xx;q=abc, " + "vi" * 500},
    {"Cookie": "session=" + "A" * 3000 + "; lang=%ff"},
    {"Range": "bytes=99999999999-0"},
    {"If-Modified-Since": "not a date"},
    {"Content-Type": "application/x-www-form-urlencoded; charset=utf-16"},
]


@pytest.mark.parametrize("headers", HEADERS, ids=[next(iter(h)) for h in HEADERS])
def test_hostile_headers_on_the_main_pages(hostile_app, headers):
    client = hostile_app.test_client()
    results = []
    for path in ("/", "/search?q=thu+vien", "/api/search?q=lu", "/resolve?rft.atitle=x",
                 "/oai?verb=Identify", "/admin/login", "/healthz"):
        res = client.get(path, headers=headers)
        results.append(("GET", path, res.status_code))
    res = client.post("/admin/login", data={"username": "x", "password": "y"}, headers=headers)
    results.append(("POST", "/admin/login", res.status_code))
    _assert_no_5xx(results)
