"""Issue 12: admin sessions end for real, logins do not tell who exists, nobody locks out
an administrator from elsewhere, and what a login form receives stays small."""

from __future__ import annotations

import dataclasses
import datetime as dt
import ipaddress
import re

import pytest
from sqlalchemy import select, text
from werkzeug.security import check_password_hash

from resolver import db
from resolver.accounts.models import AdminUser, AuditEntry
from resolver.settings import load_settings
from tests.support.accounts import PASSWORD, add_user
from tests.support.admin import AdminClient

pytestmark = pytest.mark.usefixtures("cheap_hashes")

EXPIRED_VI = "Phiên làm việc của bạn đã hết hạn"
EXPIRED_EN = "Your session has expired"


def _settings(app, **changes):  # type: ignore[no-untyped-def]
    app.config["LIENHOP"] = dataclasses.replace(app.config["LIENHOP"], **changes)
    return app.config["LIENHOP"]


def _from(ip: str) -> dict:
    return {"environ_base": {"REMOTE_ADDR": ip}}


def _account(app, name: str) -> AdminUser:  # type: ignore[no-untyped-def]
    with app.extensions["lienhop.sessions"]() as s:
        return s.scalar(select(AdminUser).where(AdminUser.username == name))


def _audit(app) -> list[AuditEntry]:  # type: ignore[no-untyped-def]
    with app.extensions["lienhop.sessions"]() as s:
        return list(s.scalars(select(AuditEntry).order_by(AuditEntry.id)))


def _without_token(html: str) -> str:
    return re.sub(r'name="csrf_token" value="[^"]+"', 'name="csrf_token" value=""', html)


# --- sessions ---------------------------------------------------------------------------------

def test_a_cookie_copied_before_logout_is_useless_after_it(admin_app, boss):
    stolen = boss.http.get_cookie("session").value
    thief = AdminClient(admin_app)
    thief.http.set_cookie("session", stolen)
    assert thief.get("/admin/repositories").status_code == 200  # the copy works until then
    elsewhere = AdminClient(admin_app)  # the same account in another browser
    assert elsewhere.login("boss").status_code == 302

    assert boss.post("/admin/logout", form_page="/admin/repositories").status_code == 302

    res = thief.get("/admin/repositories")
    assert res.status_code == 302 and "/admin/login" in res.headers["Location"]
    replay = AdminClient(admin_app)
    replay.http.set_cookie("session", stolen)
    assert replay.get("/admin/users").status_code == 302
    # logging out ends this session only, not the account's session in another browser
    assert elsewhere.get("/admin/repositories").status_code == 200


def test_an_idle_session_ends_with_a_message_in_the_users_language(admin_app, boss):
    idle = load_settings().session_idle_minutes
    with boss.http.session_transaction() as sess:
        sess["admin_seen"] -= idle * 60 + 5
    res = boss.get("/admin/repositories")
    assert res.status_code == 302 and "/admin/login" in res.headers["Location"]
    page = boss.get(res.headers["Location"]).get_data(as_text=True)
    assert EXPIRED_VI in page
    assert boss.get("/admin/repositories").status_code == 302  # and it stays ended

    english = AdminClient(admin_app)
    english.get("/admin/login?lang=en")  # the reader's choice, remembered in a cookie
    assert english.login("boss").status_code == 302
    with english.http.session_transaction() as sess:
        sess["admin_seen"] -= idle * 60 + 5
    res = english.get("/admin/jobs")
    assert EXPIRED_EN in english.get(res.headers["Location"]).get_data(as_text=True)


def test_a_session_ends_after_its_absolute_lifetime_even_when_in_use(admin_app, boss):
    max_hours = load_settings().session_max_hours
    with boss.http.session_transaction() as sess:
        sess["admin_login"] -= max_hours * 3600 + 5  # logged in long ago, seen just now
    res = boss.get("/admin/repositories")
    assert res.status_code == 302 and "/admin/login" in res.headers["Location"]
    assert EXPIRED_VI in boss.get(res.headers["Location"]).get_data(as_text=True)


def test_lifetimes_follow_the_settings(admin_app, boss):
    _settings(admin_app, session_idle_minutes=5, session_max_hours=1)
    with boss.http.session_transaction() as sess:
        sess["admin_seen"] -= 4 * 60
    assert boss.get("/admin/repositories").status_code == 200
    with boss.http.session_transaction() as sess:
        sess["admin_seen"] -= 6 * 60
    assert boss.get("/admin/repositories").status_code == 302


def test_last_seen_is_refreshed_but_not_rewritten_on_every_request(admin_app, boss):
    boss.get("/admin/repositories")  # the first page after login adds its CSRF secret
    res = boss.get("/admin/repositories")
    assert res.status_code == 200 and "Set-Cookie" not in res.headers  # seen just now
    with boss.http.session_transaction() as sess:
        sess["admin_seen"] -= 120
        before = sess["admin_seen"]
    res = boss.get("/admin/repositories")
    assert res.status_code == 200 and "Set-Cookie" in res.headers
    with boss.http.session_transaction() as sess:
        assert sess["admin_seen"] >= before + 119


def test_a_login_starts_a_new_session(admin_app, anon):
    with anon.http.session_transaction() as sess:
        sess["planted"] = "by someone else"  # session fixation: nothing survives the login
    assert anon.login("boss").status_code == 302
    with anon.http.session_transaction() as sess:
        assert "planted" not in sess
        first = sess["admin_sid"]
    anon.post("/admin/logout", form_page="/admin/repositories")
    with anon.http.session_transaction() as sess:
        assert "admin_uid" not in sess and "admin_sid" not in sess
    assert anon.login("boss").status_code == 302
    with anon.http.session_transaction() as sess:
        assert sess["admin_sid"] != first


# --- one answer for every refused login --------------------------------------------------------

def test_unknown_wrong_password_and_locked_accounts_get_the_same_answer(admin_app):
    n = load_settings().login_max_failures
    sessions = admin_app.extensions["lienhop.sessions"]
    client = AdminClient(admin_app)

    unknown = client.login("carol", PASSWORD, **_from("192.0.2.10"))
    add_user(sessions, "carol")
    wrong = client.login("carol", "not the password", **_from("192.0.2.10"))
    for _ in range(n):
        client.login("carol", "not the password", **_from("192.0.2.11"))
    pair_locked = client.login("carol", PASSWORD, **_from("192.0.2.11"))
    with db.transaction(sessions) as s:
        s.scalar(select(AdminUser).where(AdminUser.username == "carol")).locked_until = \
            dt.datetime(2999, 1, 1)
    account_locked = client.login("carol", PASSWORD, **_from("192.0.2.12"))

    answers = [unknown, wrong, pair_locked, account_locked]
    assert {r.status_code for r in answers} == {401}
    bodies = {_without_token(r.get_data(as_text=True)) for r in answers}
    assert len(bodies) == 1
    assert "Sai tên đăng nhập hoặc mật khẩu" in bodies.pop()


def test_every_login_checks_exactly_one_password_hash(admin_app):
    checks: list[str] = []

    def counting_check(pwhash: str, password: str) -> bool:
        checks.append(pwhash)
        return check_password_hash(pwhash, password)

    admin_app.extensions["lienhop.password_check"] = counting_check
    n = load_settings().login_max_failures
    client = AdminClient(admin_app)

    def hash_checks(*args, **kw) -> int:  # type: ignore[no-untyped-def]
        del checks[:]
        client.login(*args, **kw)
        return len(checks)

    assert hash_checks("boss", **_from("192.0.2.20")) == 1  # right
    assert hash_checks("boss", "wrong", **_from("192.0.2.20")) == 1  # wrong
    assert hash_checks("nobody", "wrong", **_from("192.0.2.20")) == 1  # unknown
    assert hash_checks("x" * 5000, "wrong", **_from("192.0.2.20")) == 1  # too long
    for _ in range(n):
        client.login("hue-admin", "wrong", **_from("192.0.2.21"))
    assert hash_checks("hue-admin", **_from("192.0.2.21")) == 1  # locked for this client
    for i in range(n * 4):
        client.login(f"guess{i}", "wrong", **_from("192.0.2.22"))
    assert hash_checks("tvu-admin", **_from("192.0.2.22")) == 1  # this client locked
    with db.transaction(admin_app.extensions["lienhop.sessions"]) as s:
        s.scalar(select(AdminUser).where(AdminUser.username == "tvu-admin")).active = False
    assert hash_checks("tvu-admin", **_from("192.0.2.23")) == 1  # inactive


# --- nobody locks an administrator out from elsewhere ------------------------------------------

def test_failures_from_one_address_do_not_stop_the_administrator_at_another(admin_app):
    n = load_settings().login_max_failures
    attacker = AdminClient(admin_app)
    for _ in range(n + 3):
        assert attacker.login("boss", "guess", **_from("192.0.2.66")).status_code == 401
    assert attacker.login("boss", **_from("192.0.2.66")).status_code == 401  # locked there
    assert AdminClient(admin_app).login("boss", **_from("198.51.100.7")).status_code == 302
    assert _account(admin_app, "boss").locked_until is None
    locks = [e for e in _audit(admin_app) if e.action == "login.lock"]
    assert [(e.username, e.ip, e.details["scope"]) for e in locks] == [
        ("boss", "192.0.2.66", "client and account")]


def test_behind_a_trusted_proxy_the_forwarded_client_is_throttled(admin_app):
    _settings(admin_app, trusted_proxies=(ipaddress.ip_network("10.0.0.1/32"),))
    n = load_settings().login_max_failures
    proxy = {"environ_base": {"REMOTE_ADDR": "10.0.0.1"}}
    attacker = AdminClient(admin_app)
    for _ in range(n):
        attacker.login("boss", "guess", headers={"X-Forwarded-For": "192.0.2.66"}, **proxy)
    assert attacker.login("boss", headers={"X-Forwarded-For": "192.0.2.66"},
                          **proxy).status_code == 401
    assert AdminClient(admin_app).login("boss", headers={"X-Forwarded-For": "198.51.100.7"},
                                        **proxy).status_code == 302


def test_a_distributed_attack_only_meets_a_high_account_ceiling(admin_app, boss):
    settings = _settings(admin_app, login_max_failures=1)  # ceiling: 20 from everywhere
    ceiling = settings.login_max_failures * 20
    for i in range(ceiling - 1):
        AdminClient(admin_app).login("hue-admin", "guess", **_from(f"192.0.2.{i + 1}"))
    assert _account(admin_app, "hue-admin").locked_until is None
    AdminClient(admin_app).login("hue-admin", "guess", **_from("192.0.2.200"))
    assert _account(admin_app, "hue-admin").locked_until is not None
    scopes = [e.details["scope"] for e in _audit(admin_app) if e.action == "login.lock"]
    assert scopes.count("account") == 1
    assert AdminClient(admin_app).login("hue-admin", **_from("198.51.100.9")).status_code == 401
    # a consortium administrator can lift it
    uid = _account(admin_app, "hue-admin").id
    boss.post(f"/admin/users/{uid}", {"role": "institution", "institution": "hue",
                                      "active": "on", "unlock": "on"})
    assert AdminClient(admin_app).login("hue-admin", **_from("198.51.100.9")).status_code == 302


def test_unlocking_an_account_also_lifts_the_lock_of_each_address(admin_app, boss):
    n = load_settings().login_max_failures
    client = AdminClient(admin_app)
    for _ in range(n):
        client.login("hue-admin", "guess", **_from("192.0.2.30"))
    assert client.login("hue-admin", **_from("192.0.2.30")).status_code == 401
    uid = _account(admin_app, "hue-admin").id
    boss.post(f"/admin/users/{uid}", {"role": "institution", "institution": "hue",
                                      "active": "on", "unlock": "on"})
    assert client.login("hue-admin", **_from("192.0.2.30")).status_code == 302


# --- what a form receives stays small ---------------------------------------------------------

def test_a_huge_username_is_a_failed_login_stored_and_echoed_cut(admin_app, anon):
    huge = "Đ" + "x" * 400_000  # under the request-size cap, far over any username
    res = anon.login(huge, "whatever")
    assert res.status_code == 401
    assert len(res.get_data()) < 50_000
    assert 'value="đxxxx' in res.get_data(as_text=True)  # what was typed is shown, cut
    entries = [e for e in _audit(admin_app) if e.action.startswith("login")]
    assert entries and all(len(e.username) <= 100 and len(e.object) <= 200 for e in entries)
    with admin_app.extensions["lienhop.sessions"]() as s:
        keys = s.execute(text("SELECT key FROM login_throttle")).scalars().all()
    assert keys and all(len(k) <= 100 for k in keys)


def test_the_account_form_does_not_echo_a_huge_username(admin_app, boss):
    res = boss.post("/admin/users/new", {"username": "y" * 300_000, "password": "long enough pw",
                                         "role": "consortium"})
    assert res.status_code == 422
    assert len(res.get_data()) < 50_000


# Only SQLite: there the institution's columns take any size, so the audit log receives the
# whole text; PostgreSQL enforces their widths (the registry form's business, not the log's).
@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_free_text_in_the_audit_details_is_capped(admin_app, boss):
    long_name = "Đại học Huế " + "x" * 200_000
    res = boss.post("/admin/institutions/hue", {"name_vi": long_name, "status": "member",
                                                "contact_name": "y" * 200_000},
                    form_page="/admin/institutions/hue")
    assert res.status_code < 500
    entries = [e for e in _audit(admin_app) if e.object == "institution:hue"]
    assert entries, "the change was not audited"
    for entry in entries:
        def texts(value):  # type: ignore[no-untyped-def]
            if isinstance(value, dict):
                for v in value.values():
                    yield from texts(v)
            elif isinstance(value, list):
                for v in value:
                    yield from texts(v)
            elif isinstance(value, str):
                yield value
        assert max(len(t) for t in texts(entry.details)) <= 500
