"""Every error a person can meet is a page of the site, in their language: every rule of the
URL map is asked for with ids that do not exist, with a method it does not take, without a
form's token and with a body over the limit. The machine interfaces keep machine answers:
JSON under /api and /resolve/api, OAI-PMH XML at /oai. A 500 still renders when the
templates or the database are what failed.
"""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from sqlalchemy.exc import OperationalError

from resolver import create_app
from resolver.settings import load_settings
from tests.support.accounts import add_user
from tests.support.admin import AdminClient
from tests.support.sample import add_institutions, build_index

pytestmark = pytest.mark.usefixtures("cheap_hashes")

#: what Werkzeug writes when nobody wrote a page: "<title>404 Not Found</title>" …
WERKZEUG_DEFAULT = re.compile(
    r"<title>\d{3} [^<]*</title>|The requested URL was not found on the server"
    r"|<html lang=en>\s*<title>")
METHODS = ("GET", "POST", "PUT", "DELETE", "PATCH")


_ARGUMENT = re.compile(r"<(?:(\w+)(?:\([^)]*\))?:)?\w+>")


def bad_url(rule: Any, value_for_int: int) -> str:
    """The rule's path with an id that names nothing in every variable part."""
    return _ARGUMENT.sub(lambda m: str(value_for_int) if m.group(1) == "int" else "no-such-thing",
                         rule.rule)


def machine_kind(path: str) -> str | None:
    if path == "/api" or path.startswith(("/api/", "/resolve/api")):
        return "json"
    if path == "/oai" or path.startswith("/oai/"):
        return "oai"
    return None


def assert_answer(url: str, method: str, resp: Any, lang: str = "vi") -> None:
    """An error answer written by lienhop: a page of the site, or the machine format."""
    if resp.status_code < 400:
        return
    body = resp.get_data(as_text=True)
    where = f"{method} {url} -> {resp.status_code}"
    assert not WERKZEUG_DEFAULT.search(body), f"{where}: Werkzeug's bare page\n{body[:300]}"
    kind = machine_kind(url)
    if kind == "json":
        assert resp.mimetype == "application/json", where
        assert "error" in json.loads(body), where
    elif kind == "oai":
        assert resp.mimetype == "text/xml", where
        assert "<OAI-PMH" in body and "<error code=" in body, where
    else:
        assert resp.mimetype == "text/html", where
        assert f'<html lang="{lang}">' in body, where
        assert '<header class="site"' in body, f"{where}: no site header"
        assert "lienhop.css" in body, f"{where}: not in the site's look"


@pytest.fixture
def boss_site(app):  # type: ignore[no-untyped-def]
    """The sample site (with an index) and a consortium administrator logged in."""
    build_index(app.config["LIENHOP"].index_dir)
    add_institutions(app)
    add_user(app.extensions["lienhop.sessions"], "boss")
    client = AdminClient(app)
    assert client.login("boss").status_code == 302
    return app, client


def rules(app) -> list[Any]:  # type: ignore[no-untyped-def]
    # logging out would end the walk's session
    return [r for r in app.url_map.iter_rules() if r.endpoint != "admin.logout"]


@pytest.mark.parametrize("value_for_int", [2_000_000_000, 2**40])
def test_no_rule_answers_with_werkzeugs_bare_page(boss_site, value_for_int):
    app, client = boss_site
    asked = 0
    for rule in rules(app):
        url = bad_url(rule, value_for_int)
        for method in METHODS:
            if method == "POST" and method in rule.methods:
                resp = client.post(url, {})
            elif method == "POST":
                resp = client.http.post(url, data={})
            else:
                resp = client.http.open(url, method=method)
            assert_answer(url, method, resp)
            asked += 1
    assert asked > 300


def test_every_kind_of_error_has_its_page(boss_site):
    app, client = boss_site
    seen = {}
    cases = [
        ("GET", "/record/no-such-record"),             # abort(404) in a view
        ("GET", "/no/such/page"),                      # no rule at all
        ("GET", "/admin/jobs/999999"),                 # 404 under /admin
        ("GET", "/admin/nothing-here"),                # routing 404 under /admin
        ("PUT", "/search"),                            # 405
        ("POST", "/admin/password"),                   # 400: no CSRF token
        ("GET", "/go/" + "x" * 9000),                  # abort(400) under the resolver
        ("GET", "/sitemap-99.xml"),
        ("GET", "/static/no-such-file.css"),
    ]
    for method, url in cases:
        resp = client.http.open(url, method=method)
        assert_answer(url, method, resp)
        seen[resp.status_code] = resp.get_data(as_text=True)
    assert {400, 404, 405} <= set(seen)
    assert "Không tìm thấy" in seen[404]
    no_token = client.http.post("/admin/password", data={"password": "x"})
    assert no_token.status_code == 400
    assert "Biểu mẫu đã hết hạn" in no_token.get_data(as_text=True)


def test_a_page_refused_to_an_account_is_a_page_of_the_site(boss_site):
    app, _boss = boss_site
    add_user(app.extensions["lienhop.sessions"], "hue-admin", institution="hue")
    client = AdminClient(app)
    assert client.login("hue-admin").status_code == 302
    resp = client.get("/admin/users")  # the consortium's staff only
    assert resp.status_code == 403
    assert_answer("/admin/users", "GET", resp)
    assert "Không được phép" in resp.get_data(as_text=True)


def test_error_pages_follow_the_language_chosen(boss_site):
    _app, client = boss_site
    client.http.get("/?lang=en")
    for url in ("/record/no-such-record", "/no/such/page", "/admin/jobs/999999"):
        resp = client.http.get(url)
        assert resp.status_code == 404
        assert_answer(url, "GET", resp, lang="en")
        assert "Page not found" in resp.get_data(as_text=True)
    resp = client.http.put("/search")
    assert resp.status_code == 405
    assert_answer("/search", "PUT", resp, lang="en")


def test_machine_interfaces_keep_machine_answers(boss_site):
    _app, client = boss_site
    for method, url, status in (("GET", "/api/nothing", 404), ("PUT", "/api/search", 405),
                                ("GET", "/api/records/no-such-record", 404),
                                ("DELETE", "/resolve/api", 405),
                                ("PUT", "/oai", 405), ("GET", "/oai/extra", 404)):
        resp = client.http.open(url, method=method)
        assert resp.status_code == status, (method, url)
        assert_answer(url, method, resp)


def test_a_body_over_the_limit_gets_a_page(lienhop_env, monkeypatch):
    monkeypatch.setenv("LIENHOP_MAX_REQUEST_MB", "0.01")
    app = create_app(load_settings())
    client = app.test_client()
    big = {"q": "x" * 50_000}
    for url in ("/resolve", "/admin/login", "/search", "/oai", "/resolve/api", "/nowhere"):
        resp = client.post(url, data=big)
        assert resp.status_code in (413, 405), url
        assert_answer(url, "POST", resp)


# --- 500: the page renders whatever broke ------------------------------------------------


@pytest.fixture
def fragile(lienhop_env):  # type: ignore[no-untyped-def]
    """An app whose views can fail the ways a server fails, answering as in production."""
    app = create_app(load_settings())
    app.config["PROPAGATE_EXCEPTIONS"] = False

    @app.get("/boom/database")
    def database_down() -> str:
        raise OperationalError("SELECT 1", {}, Exception("could not connect to server"))

    @app.get("/boom/code")
    def bug() -> str:
        return str(1 // 0)

    @app.get("/api/boom")
    def api_bug() -> str:
        raise RuntimeError("bug")

    return app


@pytest.mark.parametrize("lang", ["vi", "en"])
@pytest.mark.parametrize("url", ["/boom/database", "/boom/code"])
def test_a_server_error_is_a_page_of_the_site(fragile, url, lang):
    resp = fragile.test_client().get(f"{url}?lang={lang}")
    assert resp.status_code == 500
    assert_answer(url, "GET", resp, lang=lang)
    body = resp.get_data(as_text=True)
    assert ("Đã có lỗi" if lang == "vi" else "Something went wrong") in body
    assert "could not connect" not in body and "ZeroDivision" not in body


@pytest.mark.parametrize("lang", ["vi", "en"])
def test_a_server_error_renders_when_the_templates_fail(fragile, monkeypatch, lang):
    def broken(*_a: Any, **_k: Any) -> Any:
        raise RuntimeError("template machinery down")

    monkeypatch.setattr(fragile.jinja_env, "get_template", broken)
    monkeypatch.setattr(fragile.jinja_env, "get_or_select_template", broken)
    client = fragile.test_client()
    client.set_cookie("lang", lang)
    for url in ("/boom/code", "/record/no-such-record"):
        resp = client.get(url)
        assert resp.status_code in (404, 500)
        assert_answer(url, "GET", resp, lang=lang)
        body = resp.get_data(as_text=True)
        assert "template machinery" not in body
    assert ("Đã có lỗi" if lang == "vi" else "Something went wrong") in \
        client.get("/boom/code").get_data(as_text=True)


def test_a_server_error_under_the_api_is_json(fragile):
    resp = fragile.test_client().get("/api/boom")
    assert resp.status_code == 500
    assert_answer("/api/boom", "GET", resp)
