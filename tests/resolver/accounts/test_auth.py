"""Logging in: hashed passwords, locks, CSRF, cookies, roles, the audit trail."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select, text
from sqlalchemy.orm import selectinload

from resolver import db
from resolver.accounts.auth import may_manage
from resolver.accounts.models import AdminUser, AuditEntry
from resolver.settings import load_settings
from tests.support.accounts import PASSWORD, add_user
from tests.support.admin import AdminClient

pytestmark = pytest.mark.usefixtures("cheap_hashes")


def users(app):  # type: ignore[no-untyped-def]
    with app.extensions["lienhop.sessions"]() as s:
        return {u.username: u for u in s.scalars(
            select(AdminUser).options(selectinload(AdminUser.institution)))}


def audit_actions(app):  # type: ignore[no-untyped-def]
    with app.extensions["lienhop.sessions"]() as s:
        return [(e.action, e.username, e.object) for e in s.scalars(
            select(AuditEntry).order_by(AuditEntry.id))]


def test_admin_pages_need_a_login(anon):
    for url in ("/admin/", "/admin/repositories", "/admin/jobs", "/admin/institutions",
                "/admin/users", "/admin/audit", "/admin/jobs/1/status.json"):
        res = anon.get(url)
        assert res.status_code == 302 and "/admin/login" in res.headers["Location"], url


def test_right_password_logs_in_and_the_password_is_only_stored_hashed(admin_app, anon):
    res = anon.login("boss")
    assert res.status_code == 302 and res.headers["Location"].endswith("/admin/repositories")
    assert anon.get("/admin/repositories").status_code == 200
    engine = admin_app.extensions["lienhop.engine"]
    with engine.connect() as conn:
        dump = " ".join(str(v) for row in conn.execute(text("SELECT * FROM admin_user"))
                        for v in row)
    assert PASSWORD not in dump
    assert users(admin_app)["boss"].password_hash.startswith("scrypt:")
    assert users(admin_app)["boss"].last_login is not None


def test_wrong_password_is_refused_and_audited(admin_app, anon):
    res = anon.login("boss", "not the password")
    assert res.status_code == 401
    assert "Wrong username or password" in res.get_data(as_text=True) or \
        "Sai tên đăng nhập hoặc mật khẩu" in res.get_data(as_text=True)
    assert anon.get("/admin/repositories").status_code == 302
    assert ("login.failed", "boss", "user:boss") in audit_actions(admin_app)
    # an unknown user gets the very same answer
    assert anon.login("nobody", "whatever").status_code == 401


def test_n_failures_lock_that_client_out_of_that_account_even_for_the_right_password(
        admin_app, anon):
    n = load_settings().login_max_failures
    for _ in range(n - 1):
        assert anon.login("boss", "wrong").status_code == 401
    assert anon.login("boss").status_code == 302  # not locked yet; the success forgives
    anon.post("/admin/logout", form_page="/admin/repositories")
    for _ in range(n):
        assert anon.login("boss", "wrong").status_code == 401  # the Nth failure locks
    res = anon.login("boss")  # the right password, too late: the same answer as a wrong one
    assert res.status_code == 401
    assert anon.get("/admin/repositories").status_code == 302
    assert ("login.lock", "boss", "user:boss") in audit_actions(admin_app)
    # other accounts are not affected
    assert AdminClient(admin_app).login("hue-admin").status_code == 302
    # once the lock has expired the right password works again
    with db.transaction(admin_app.extensions["lienhop.sessions"]) as s:
        s.execute(text("UPDATE login_throttle SET locked_until = :t"),
                  {"t": dt.datetime(2000, 1, 1)})
    assert anon.login("boss").status_code == 302


def test_one_client_ip_is_locked_after_many_failures_across_accounts(admin_app):
    n = load_settings().login_max_failures * 4
    attacker = AdminClient(admin_app)
    for i in range(n):
        attacker.login(f"guess{i}", "wrong", environ_base={"REMOTE_ADDR": "192.0.2.66"})
    res = attacker.login("boss", environ_base={"REMOTE_ADDR": "192.0.2.66"})
    assert res.status_code == 401
    # someone else, elsewhere, logs in fine
    assert AdminClient(admin_app).login(
        "boss", environ_base={"REMOTE_ADDR": "192.0.2.7"}).status_code == 302


def test_forwarded_for_is_only_believed_from_a_trusted_proxy(admin_app, monkeypatch):
    # without trusted proxies a client cannot dodge its IP lock with a made-up header
    n = load_settings().login_max_failures * 4
    c = AdminClient(admin_app)
    for i in range(n):
        c.login(f"g{i}", "wrong", environ_base={"REMOTE_ADDR": "192.0.2.66"},
                headers={"X-Forwarded-For": f"10.0.0.{i}"})
    assert c.login("boss", environ_base={"REMOTE_ADDR": "192.0.2.66"},
                   headers={"X-Forwarded-For": "10.9.9.9"}).status_code == 401


def test_post_without_csrf_token_is_refused_and_changes_nothing(admin_app, boss):
    res = boss.http.post("/admin/institutions/hue/ranges", data={"cidr": "192.0.2.0/24"})
    assert res.status_code == 400
    with admin_app.extensions["lienhop.sessions"]() as s:
        assert s.execute(text("SELECT count(*) FROM ip_range WHERE cidr = '192.0.2.0/24'")
                         ).scalar() == 0
    # the login form itself is protected too
    assert boss.http.post("/admin/login", data={"username": "boss", "password": PASSWORD}
                          ).status_code == 400


def test_session_cookie_is_httponly_samesite_and_secure_in_production(admin_app, anon,
                                                                     monkeypatch, db_url):
    res = anon.login("boss")
    cookie = res.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    from resolver import create_app

    monkeypatch.setenv("LIENHOP_ENV", "production")
    prod = create_app(load_settings())
    prod.extensions["lienhop.queue"] = admin_app.extensions["lienhop.queue"]
    res = AdminClient(prod).login("boss", base_url="https://lienhop.example")
    assert res.status_code == 302
    assert "Secure" in res.headers["Set-Cookie"]


def test_logout_ends_the_session(boss):
    assert boss.post("/admin/logout", form_page="/admin/repositories").status_code == 302
    assert boss.get("/admin/repositories").status_code == 302


def test_changing_a_password_ends_other_sessions(admin_app, boss):
    other = AdminClient(admin_app)
    assert other.login("boss").status_code == 302
    res = boss.post("/admin/password", {"current": PASSWORD, "new": "a new long password",
                                        "confirm": "a new long password"})
    assert res.status_code == 302
    assert boss.get("/admin/repositories").status_code == 200  # this session goes on
    assert other.get("/admin/repositories").status_code == 302  # the other one ended
    assert AdminClient(admin_app).login("boss", "a new long password").status_code == 302


def test_deactivated_account_is_logged_out_and_cannot_log_in(admin_app, boss):
    victim = AdminClient(admin_app)
    assert victim.login("tvu-admin").status_code == 302
    uid = users(admin_app)["tvu-admin"].id
    # "Active" unticked, confirmed (tests/resolver/views/test_confirmations.py asks first)
    res = boss.post(f"/admin/users/{uid}", {"role": "institution", "institution": "tvu",
                                           "confirm": "yes"})
    assert res.status_code == 302
    assert users(admin_app)["tvu-admin"].active is False
    assert victim.get("/admin/repositories").status_code == 302
    assert AdminClient(admin_app).login("tvu-admin").status_code == 401


def test_login_never_redirects_off_site(anon):
    for target in ("https://evil.example/", "//evil.example/x", "/\\evil.example"):
        res = anon.post("/admin/login", {"username": "boss", "password": PASSWORD,
                                         "next": target})
        assert res.headers["Location"].endswith("/admin/repositories"), target
        anon.post("/admin/logout", form_page="/admin/repositories")
    res = anon.post("/admin/login", {"username": "boss", "password": PASSWORD,
                                     "next": "/admin/jobs"})
    assert res.headers["Location"].endswith("/admin/jobs")


# --- roles ----------------------------------------------------------------------------------

def test_may_manage_is_the_role_boundary():
    boss = AdminUser(role="consortium", active=True)
    hue = AdminUser(role="institution", institution_id=1, active=True)
    orphan = AdminUser(role="institution", institution_id=None, active=True)
    assert may_manage(boss, 1) and may_manage(boss, 2)
    assert may_manage(hue, 1) and not may_manage(hue, 2)
    assert not may_manage(orphan, None) and not may_manage(orphan, 1)
    assert not may_manage(AdminUser(role="consortium", active=False), 1)
    assert not may_manage(None, 1)


def test_institution_admin_cannot_touch_another_institution(admin_app, hue_admin):
    assert hue_admin.get("/admin/institutions/hue").status_code == 200
    assert hue_admin.get("/admin/institutions/tvu").status_code == 403
    assert hue_admin.get("/admin/repositories/tvu-ojs/edit").status_code == 403
    for url, data in [
        ("/admin/institutions/tvu/ranges", {"cidr": "192.0.2.0/24"}),
        ("/admin/institutions/tvu/ranges/delete", {"cidr": "198.51.100.0/24"}),
        ("/admin/repositories/tvu-ojs/harvest", {"kind": "incremental"}),
        ("/admin/repositories/tvu-ojs/edit", {"oai_url": "http://evil.example/oai"}),
        ("/admin/repositories/tvu-ojs/delete", {}),
        ("/admin/institutions/tvu/repositories/new", {"code": "x", "oai_url": "http://x/o"}),
        ("/admin/institutions/hue", {"name_vi": "Renamed", "status": "member"}),  # details
        ("/admin/institutions/new", {"code": "new", "name_vi": "New"}),
        ("/admin/users/new", {"username": "x", "password": "long enough pw", "role": "consortium"}),
    ]:
        assert hue_admin.post(url, data).status_code == 403, url
    assert hue_admin.get("/admin/users").status_code == 403
    with admin_app.extensions["lienhop.sessions"]() as s:
        assert s.execute(text("SELECT count(*) FROM harvest_job")).scalar() == 0
        assert s.execute(text("SELECT oai_url FROM repository WHERE code='tvu-ojs'")
                         ).scalar() == "http://127.0.0.1:9/oai"
        assert s.execute(text("SELECT count(*) FROM admin_user")).scalar() == 3


def test_institution_admin_sees_only_their_own_repositories_and_trail(admin_app, hue_admin,
                                                                      boss):
    html = hue_admin.get("/admin/repositories").get_data(as_text=True)
    assert "hue-dspace" in html and "tvu-ojs" not in html
    html = hue_admin.get("/admin/institutions").get_data(as_text=True)
    assert "/admin/institutions/hue" in html and "/admin/institutions/tvu" not in html
    boss.post("/admin/institutions/tvu/ranges", {"cidr": "192.0.2.0/24"})
    hue_admin.post("/admin/institutions/hue/ranges", {"cidr": "192.0.3.0/24"})
    trail = hue_admin.get("/admin/audit").get_data(as_text=True)
    assert "192.0.3.0/24" in trail and "192.0.2.0/24" not in trail


def test_institution_admin_job_pages_of_another_institution_are_forbidden(admin_app, boss,
                                                                           hue_admin):
    boss.post("/admin/repositories/tvu-ojs/harvest", {"kind": "incremental"})
    assert hue_admin.get("/admin/jobs/1").status_code == 403
    assert hue_admin.get("/admin/jobs/1/status.json").status_code == 403
    assert hue_admin.post("/admin/jobs/1/cancel").status_code == 403
    assert "tvu-ojs" not in hue_admin.get("/admin/jobs").get_data(as_text=True)


# --- accounts ---------------------------------------------------------------------------------

def test_consortium_admin_creates_an_institution_admin_and_it_is_audited(admin_app, boss):
    res = boss.post("/admin/users/new", {"username": "New.Person", "password": "long enough pw",
                                         "role": "institution", "institution": "tvu"})
    assert res.status_code == 302
    created = users(admin_app)["new.person"]
    assert created.role == "institution" and created.institution.code == "tvu"
    assert ("user.create", "boss", "user:new.person") in audit_actions(admin_app)
    assert AdminClient(admin_app).login("new.person", "long enough pw").status_code == 302
    # a short password and a duplicate name are refused
    assert boss.post("/admin/users/new", {"username": "x", "password": "short",
                                          "role": "consortium"}).status_code == 422
    assert boss.post("/admin/users/new", {"username": "new.person", "password": "long enough pw",
                                          "role": "consortium"}).status_code == 422


def test_a_consortium_admin_cannot_demote_themself(admin_app, boss):
    uid = users(admin_app)["boss"].id
    res = boss.post(f"/admin/users/{uid}", {"role": "institution", "institution": "hue",
                                            "active": "on"})
    assert res.status_code == 422
    assert users(admin_app)["boss"].role == "consortium"


def test_unlock_from_the_accounts_page(admin_app, boss):
    with db.transaction(admin_app.extensions["lienhop.sessions"]) as s:
        user = s.scalar(select(AdminUser).where(AdminUser.username == "hue-admin"))
        user.locked_until = dt.datetime(2999, 1, 1)
    assert AdminClient(admin_app).login("hue-admin").status_code == 401
    uid = users(admin_app)["hue-admin"].id
    boss.post(f"/admin/users/{uid}", {"role": "institution", "institution": "hue",
                                      "active": "on", "unlock": "on"})
    assert AdminClient(admin_app).login("hue-admin").status_code == 302


# --- bootstrap --------------------------------------------------------------------------------

@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_environment_bootstraps_the_first_admin_once(lienhop_env, monkeypatch, db_url):
    from resolver import create_app

    monkeypatch.setenv("LIENHOP_DATABASE_URL", db_url)
    monkeypatch.setenv("LIENHOP_ADMIN_USER", "Root")
    monkeypatch.setenv("LIENHOP_ADMIN_PASSWORD", "bootstrap password")
    app = create_app(load_settings())
    assert AdminClient(app).login("root", "bootstrap password").status_code == 302
    assert users(app)["root"].role == "consortium"
    # a second start with another password does not touch the existing account
    monkeypatch.setenv("LIENHOP_ADMIN_PASSWORD", "another password!")
    app2 = create_app(load_settings())
    assert AdminClient(app2).login("root", "bootstrap password").status_code == 302
    assert len(users(app2)) == 1


def test_cli_admin_create_and_passwd(runner, lienhop_env):
    res = runner.invoke("admin", "create", "chief", "--password", "chief password")
    assert res.exit_code == 0, res.output
    assert "created consortium administrator 'chief'" in res.output
    res = runner.invoke("admin", "create", "chief", "--password", "chief password")
    assert res.exit_code != 0 and "already an account" in res.output
    res = runner.invoke("admin", "create", "shorty", "--password", "short")
    assert res.exit_code != 0 and "at least 10" in res.output
    res = runner.invoke("admin", "create", "x", "--password", "long enough pw",
                        "--institution", "nowhere")
    assert res.exit_code != 0 and "no institution" in res.output
    res = runner.invoke("admin", "passwd", "chief", "--password", "changed password")
    assert res.exit_code == 0, res.output
    from resolver import create_app

    app = create_app(load_settings())
    assert AdminClient(app).login("chief", "changed password").status_code == 302
    assert AdminClient(app).login("chief", "chief password").status_code == 401
    assert "chief" in runner.invoke("admin", "list").output
    actions = [a for a, *_ in audit_actions(app)]
    assert "user.create" in actions and "user.password" in actions


def test_add_user_helper_rejects_institution_role_without_institution(admin_app):
    with pytest.raises(ValueError):
        add_user(admin_app.extensions["lienhop.sessions"], "bad", institution="nowhere")
