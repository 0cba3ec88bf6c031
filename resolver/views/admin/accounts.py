"""``/admin``: log in and out, accounts, the audit log.

Harvest jobs are in :mod:`resolver.views.admin.jobs`, the registry pages in
:mod:`resolver.views.admin.registry`. Every POST carries a CSRF token
(``resolver.web.security.csrf``).
"""

from __future__ import annotations

import logging
import secrets
from typing import Any, cast

from flask import (
    Blueprint,
    Flask,
    Response,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask.blueprints import BlueprintSetupState
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError, OperationalError

from resolver import db
from resolver.accounts.auth import (
    MAX_USERNAME_LENGTH,
    audit_entry,
    bootstrap_admin,
    check_password,
    clip,
    create_user,
    dummy_hash,
    forget_failures,
    institution_scope,
    login_refusal,
    normalise_username,
    prune_login_state,
    record_login_failure,
    record_login_success,
    set_password,
    verify_login,
)
from resolver.accounts.models import CONSORTIUM, INSTITUTION, ROLES, AdminUser, AuditEntry
from resolver.db.base import utcnow
from resolver.registry.models import Institution
from resolver.views.admin.auth import (
    audit,
    consortium_required,
    current_user,
    log_in,
    log_out,
    login_required,
    password_check,
    request_ip,
)
from resolver.views.admin.common import init_admin_templates, safe_next
from resolver.views.admin.confirm import ask, confirmed
from resolver.web import services

bp = Blueprint("admin", __name__, url_prefix="/admin")
log = logging.getLogger("lienhop.admin")


@bp.record_once
def _setup(state: BlueprintSetupState) -> None:
    app = cast(Flask, state.app)  # a Blueprint is registered on a Flask app here
    init_admin_templates(app)
    app.jinja_env.globals["admin_user"] = current_user
    dummy_hash()  # made now, so the first login with an unknown name takes no longer either
    settings = app.config["LIENHOP"]
    if settings.admin_user and settings.admin_password:
        try:
            with db.transaction(services.sessions(app)) as session:
                if bootstrap_admin(session, settings.admin_user, settings.admin_password):
                    log.info("created the first consortium administrator %s",
                             settings.admin_user)
        except IntegrityError:
            pass  # another process of this deployment created it at the same moment
        except ValueError as exc:
            log.error("LIENHOP_ADMIN_USER/LIENHOP_ADMIN_PASSWORD not used: %s", exc)


@bp.after_app_request
def _no_store(response: Response) -> Response:
    # Admin pages (every admin blueprint) show private data: no shared cache keeps them.
    if request.path.startswith("/admin/") or request.path == "/admin":
        response.headers["Cache-Control"] = "no-store"
    return response


# --- log in and out -------------------------------------------------------------------------

#: a ``next`` longer than this is ignored rather than echoed into the login form
MAX_NEXT_LENGTH = 2000


def _refused(target: str, username: str) -> ResponseReturnValue:
    # One answer for every refusal: unknown name, wrong password, any lock, inactive account.
    message = _("Wrong username or password, or too many failed attempts: "
                "wait a few minutes and try again.")
    return render_template("admin/login.html", next=target, error=message,
                           username=username, max_username=MAX_USERNAME_LENGTH), 401


@bp.route("/login", methods=["GET", "POST"])
def login() -> ResponseReturnValue:
    settings = current_app.config["LIENHOP"]
    asked = request.values.get("next") or ""
    target = safe_next(asked if len(asked) <= MAX_NEXT_LENGTH else "",
                       url_for("admin_jobs.repositories"))
    if request.method == "GET":
        if current_user() is not None:
            return redirect(target)
        return render_template("admin/login.html", next=target, error=None, username="",
                               max_username=MAX_USERNAME_LENGTH)

    username = normalise_username(request.form.get("username", ""))
    shown = clip(username, MAX_USERNAME_LENGTH)  # what is echoed, logged and audited
    password = request.form.get("password", "")
    ip = request_ip()
    session = services.session()
    user, right = verify_login(session, username, password, password_check())
    # A concurrent login may create the same throttle row, or hold row locks in the other
    # order (PostgreSQL): the database work is tried once more; the hash check is not.
    for attempt in (1, 2):
        try:
            logged_in = _settle_login(session, ip, username, user, right, settings)
            session.commit()
            break
        except (IntegrityError, OperationalError):
            session.rollback()
            if attempt == 2:
                raise
    if not logged_in or user is None:
        return _refused(target, shown)
    log_in(user)
    return redirect(target)


def _settle_login(session: Any, ip: str | None, username: str, user: AdminUser | None,
                  right: bool, settings: Any) -> bool:
    """Apply the locks and counters to a checked login and audit it; True: it goes through."""
    now = utcnow()
    shown = clip(username, MAX_USERNAME_LENGTH)
    why = login_refusal(session, ip, username, user, now)
    if why is None and right and user is not None:
        record_login_success(session, ip, user, now)
        if not user.session_nonce:
            user.session_nonce = secrets.token_hex(16)
        prune_login_state(session, now, settings)
        audit_entry(session, user, "login", f"user:{user.username}", {}, ip=ip or "")
        return True
    if why is not None:
        details: dict[str, Any] = {"reason": why}
        action = "login.refused"
    else:
        details = {"reason": "unknown user" if user is None else
                   "wrong password" if user.active else "inactive account"}
        locks = record_login_failure(session, ip, username, user, now, settings)
        if locks:
            details["locked"] = sorted(locks)
        action = "login.failed"
    audit_entry(session, user, action, f"user:{shown}", details, ip=ip or "", username=shown)
    return False


@bp.post("/logout")
def logout() -> ResponseReturnValue:
    user = current_user()
    if user is not None:
        audit("logout", f"user:{user.username}")
    log_out()
    try:
        services.session().commit()
    except IntegrityError:  # another copy of this session logged out at the same moment
        services.session().rollback()
    return redirect(url_for("admin.login"))


@bp.get("/")
@login_required
def index() -> ResponseReturnValue:
    return redirect(url_for("admin_jobs.repositories"))


@bp.route("/password", methods=["GET", "POST"])
@login_required
def password() -> ResponseReturnValue:
    user = current_user()
    assert user is not None
    errors: list[str] = []
    if request.method == "POST":
        if not check_password(user, request.form.get("current", "")):
            errors.append(_("The current password is wrong."))
        new = request.form.get("new", "")
        if new != request.form.get("confirm", ""):
            errors.append(_("The two new passwords differ."))
        if not errors:
            try:
                set_password(user, new)
            except ValueError:
                errors.append(_("A password needs at least %(n)d characters.", n=10))
        if not errors:
            audit("user.password", f"user:{user.username}", {},
                  institution_id=user.institution_id)
            services.session().commit()
            log_in(user)  # the nonce changed: keep this session, end the others
            flash(_("Your password was changed."))
            return redirect(url_for("admin_jobs.repositories"))
    return render_template("admin/password.html", errors=errors), (422 if errors else 200)


# --- accounts (consortium administrators only) --------------------------------------------------

def _institutions() -> list[Institution]:
    return list(services.session().scalars(select(Institution).order_by(Institution.code)))


@bp.get("/users")
@consortium_required
def users() -> ResponseReturnValue:
    rows = services.session().scalars(select(AdminUser).order_by(AdminUser.username)).all()
    return render_template("admin/users.html", users=rows, now=utcnow())


def _echo(form: Any) -> dict[str, str]:
    """The submitted account form for showing again: no password, every value bounded."""
    return {key: clip(value, MAX_USERNAME_LENGTH) for key, value in form.items()
            if key not in ("password", "csrf_token")}


def _user_form(form: Any) -> tuple[str, int | None, list[str]]:
    role = form.get("role", "")
    errors = []
    if role not in ROLES:
        errors.append(_("Choose a role."))
    inst_id = None
    if role == INSTITUTION:
        code = form.get("institution", "")
        inst_id = services.session().scalar(select(Institution.id).where(Institution.code == code))
        if inst_id is None:
            errors.append(_("An institution administrator needs an institution."))
    return role, inst_id, errors


@bp.route("/users/new", methods=["GET", "POST"])
@consortium_required
def user_new() -> ResponseReturnValue:
    errors: list[str] = []
    if request.method == "POST":
        role, inst_id, errors = _user_form(request.form)
        if not errors:
            session = services.session()
            try:
                user = create_user(session, request.form.get("username", ""),
                                   request.form.get("password", ""), role=role,
                                   institution_id=inst_id)
            except ValueError as exc:
                errors.append(_("The account was not created: %(why)s", why=str(exc)))
            else:
                audit("user.create", f"user:{user.username}",
                      {"role": role, "institution_id": inst_id}, institution_id=inst_id)
                session.commit()
                flash(_("Account %(name)s created.", name=user.username))
                return redirect(url_for("admin.users"))
    return render_template("admin/user_form.html", user=None, errors=errors,
                           institutions=_institutions(), form=_echo(request.form)), \
        (422 if errors else 200)


def _ask_to_deactivate(user: AdminUser) -> ResponseReturnValue:
    return ask(
        title=_("Deactivate the account %(name)s?", name=user.username),
        consequences=[
            _("%(name)s can no longer log in, and every session of the account ends now.",
              name=user.username),
            _("The account and its entries in the audit log stay; ticking “Active” "
              "again on this page lets it log in again."),
        ],
        confirm_label=_("Deactivate the account"),
        cancel_url=url_for("admin.user_edit", user_id=user.id))


@bp.route("/users/<int:user_id>", methods=["GET", "POST"])
@consortium_required
def user_edit(user_id: int) -> ResponseReturnValue:
    session = services.session()
    user = session.get(AdminUser, user_id)
    if user is None:
        abort(404)
    errors: list[str] = []
    if request.method == "POST":
        role, inst_id, errors = _user_form(request.form)
        active = request.form.get("active") == "on"
        me = current_user()
        if me is not None and me.id == user.id and (role != CONSORTIUM or not active):
            errors.append(_("You cannot take away your own administrator rights."))
        new_password = request.form.get("password", "")
        if not errors and new_password:
            try:
                set_password(user, new_password)
            except ValueError:
                errors.append(_("A password needs at least %(n)d characters.", n=10))
        if not errors and user.active and not active and not confirmed():
            session.rollback()
            return _ask_to_deactivate(user)
        if not errors:
            before = {"role": user.role, "institution_id": user.institution_id,
                      "active": user.active}
            user.role, user.institution_id, user.active = role, inst_id, active
            if request.form.get("unlock") == "on":
                forget_failures(session, user)
            if not active:
                user.session_nonce = ""  # a deactivated account's sessions end now
            elif not user.session_nonce:
                user.session_nonce = secrets.token_hex(16)
            after = {"role": role, "institution_id": inst_id, "active": active,
                     "password_changed": bool(new_password),
                     "unlocked": request.form.get("unlock") == "on"}
            audit("user.update", f"user:{user.username}", {"before": before, "after": after},
                  institution_id=inst_id)
            session.commit()
            flash(_("Account %(name)s saved.", name=user.username))
            return redirect(url_for("admin.users"))
        session.rollback()
    return render_template("admin/user_form.html", user=user, errors=errors,
                           institutions=_institutions(), form=_echo(request.form)), \
        (422 if errors else 200)


# --- the audit log ----------------------------------------------------------------------------

@bp.get("/audit")
@login_required
def audit_log() -> ResponseReturnValue:
    user = current_user()
    assert user is not None
    query = select(AuditEntry).order_by(AuditEntry.id.desc()).limit(500)
    scope = institution_scope(user)
    if scope is not None:
        query = query.where(AuditEntry.institution_id == scope)
    entries = services.session().scalars(query).all()
    return render_template("admin/audit.html", entries=entries)
