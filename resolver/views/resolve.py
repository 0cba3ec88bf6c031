"""The OpenURL link resolver's web face: menu, direct redirect, JSON API, click-through.

``/resolve?<openurl>`` shows the ranked menu (or, with ``redirect=1`` or the institution's
default, 302s to the best full text); ``/resolve/api`` returns the same as JSON. Every
target link is ``/go/<token>``: the token is the server-built destination signed with the
app's secret and the time, so the click can be logged and redirected without ever trusting
a URL from the request. A token works for a day (then the reader is offered the menu
again), and replaying one within :data:`CLICK_WINDOW` seconds counts one click.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import secrets
import time
from typing import Any
from urllib.parse import urlencode

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    jsonify,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask.globals import request_ctx
from flask.typing import ResponseReturnValue
from flask_babel import get_locale
from flask_babel import gettext as _
from itsdangerous import BadSignature
from werkzeug.wrappers import Response as BaseResponse

from resolver.kb.linktemplates import is_http_url
from resolver.linking.models import DeliveryRequest
from resolver.linking.ranking import Target
from resolver.linking.service import Registry, RegistryCache, Resolution, identify, resolve
from resolver.openurl import (
    Citation,
    CitationError,
    citation_to_dict,
    citation_to_kev,
    parse_openurl,
)
from resolver.registry.campus import client_ip
from resolver.usage import recording as usage_log
from resolver.usage.recording import RecentClicks
from resolver.web import services
from resolver.web.ordering import by_name
from resolver.web.query import arg_absent
from resolver.web.security import PUBLIC_URL, csrf_exempt
from resolver.web.services import GoSigners, get_index

bp = Blueprint("resolve", __name__)

#: Real OpenURLs are under 4 KB; anything past this is refused rather than parsed.
MAX_OPENURL_BYTES = 16_384
COOKIE = "lienhop_inst"
COOKIE_MAX_AGE = 365 * 24 * 3600
_EMAIL_RE = re.compile(r"^[^@\s<>\"']{1,100}@[^@\s<>\"']{1,100}\.[^@\s<>\"']{2,}$")

#: Salt of the timed ``/go/`` tokens. Not the untimed tokens' salt: with a shared salt an
#: old token's signature would also verify as a timed one, its timestamp read from its data.
GO_SALT = "lienhop.go.v2"
_UNTIMED_GO_SALT = "lienhop.go"
#: Seconds a ``/go/`` link works (``app.config["LIENHOP_GO_TOKEN_MAX_AGE"]`` overrides):
#: long enough for a menu left open over lunch, short enough that a link copied into a
#: page or a script stops counting clicks.
GO_TOKEN_MAX_AGE = 24 * 3600
#: A token signed this far in the future is still fresh: servers' clocks drift apart.
CLOCK_SKEW = 300
#: Replays of one token within this many seconds count one click
#: (``app.config["LIENHOP_CLICK_WINDOW_SECONDS"]`` overrides).
CLICK_WINDOW = 600


class _TooLong(Exception):
    pass


# --- request -> citation and institution ------------------------------------------------

def _raw_openurl() -> bytes:
    """The KEV: the query string, plus a form-encoded body for POST (catalogues POST)."""
    raw = request.query_string or b""
    if request.method == "POST":
        if (request.content_length or 0) > MAX_OPENURL_BYTES:
            raise _TooLong
        body = request.get_data(cache=True)
        if body and request.mimetype in ("application/x-www-form-urlencoded", "text/plain", ""):
            raw = raw + b"&" + body if raw else body
    if len(raw) > MAX_OPENURL_BYTES:
        raise _TooLong
    return raw


def _registry_cache() -> RegistryCache:
    # Checked every second (a KB edit from the CLI shows within one), every request under
    # test; the check is a few cheap queries, see RegistryCache.
    seconds = current_app.config.get("LIENHOP_RESOLVER_CACHE_SECONDS",
                                     0 if current_app.testing else 1)
    return services.registry_cache(float(seconds))


def _registry() -> Registry:
    """The registry and KB snapshot of this process (see :class:`RegistryCache`)."""
    return _registry_cache().get(services.session)


def _who(registry: Registry, inst_param: str | None) -> tuple[str | None, str | None]:
    settings = current_app.config["LIENHOP"]
    ip = client_ip(request.remote_addr, request.headers.get("X-Forwarded-For"),
                   settings.trusted_proxies)
    if not inst_param and not arg_absent("inst"):  # the query decoded only if it may hold one
        inst_param = request.args.get("inst")
    return identify(registry, inst_param=inst_param, ip=ip, cookie=request.cookies.get(COOKIE))


def _lang() -> str:
    return "en" if str(get_locale()) == "en" else "vi"


def _delivery_url(citation: Citation, institution: str | None) -> str:
    kev = citation_to_kev(citation)
    return _url_prefix("resolve.delivery") + "?" + (f"{kev}&inst={institution}" if institution
                                                    else kev)


def _resolve(citation: Citation) -> tuple[Resolution, str | None, Registry]:
    registry = _registry()
    code, source = _who(registry, citation.inst)
    info = registry.institutions.get(code) if code else None
    # No database session: the snapshot answers (resolve reads the KB only without one).
    resolution = resolve(None, citation, info, registry, today=dt.date.today(),
                         index=get_index(), delivery_url=_delivery_url(citation, code))
    usage_log.record(services.request_log(), resolution)  # requests and turnaways (issue 7)
    return resolution, source, registry


# --- click-through tokens -------------------------------------------------------------

def _serializers() -> GoSigners:
    """The timed signer of new tokens, and the untimed one of tokens from before expiry."""
    return services.go_serializers(GO_SALT, _UNTIMED_GO_SALT)


def _recent_clicks() -> RecentClicks:
    window = float(current_app.config.get("LIENHOP_CLICK_WINDOW_SECONDS", CLICK_WINDOW))
    return services.recent_clicks(window)


_SLOT = "x"
#: request shapes remembered per app (hosts come from requests: the memory stays bounded)
_MAX_PREFIXES = 64


def _url_prefix(endpoint: str, *, external: bool = False, slot: str | None = None) -> str:
    """``url_for(endpoint, **{slot: ...}, _external=external)`` without the slot's value,
    which the caller appends; built once per app and request shape (two ``url_for`` per
    resolution were a twentieth of its time).

    ``url_for`` reads only the endpoint and its values, the scheme, host, subdomain and script
    root the request was bound to, and the public base URL: the key holds all of these (with
    ``url_defaults`` registered nothing is kept). Tokens are URL-safe base64 and dots, which
    ``url_for`` never escapes, so prefix + token is the URL it would build.
    """
    adapter = request_ctx.url_adapter
    key = None
    if adapter is not None and not any(current_app.url_default_functions.values()):
        key = (endpoint, external, slot, adapter.url_scheme, adapter.server_name,
               adapter.subdomain, adapter.script_name, request.script_root,
               current_app.config.get(PUBLIC_URL))
    known = services.url_prefixes()
    prefix = known.get(key) if key is not None else None
    if prefix is None:
        url = url_for(endpoint, _external=external, **({slot: _SLOT} if slot else {}))
        prefix = url[: -len(_SLOT)] if slot else url
        if key is not None:
            if len(known) >= _MAX_PREFIXES:
                known.clear()
            known[key] = prefix
    return prefix


def _click_payload(res: Resolution, t: Target) -> list[Any]:
    c = res.citation
    title = c.atitle or c.title
    # The last item is random: two readers opening the same menu in the same second get
    # two tokens, so the replay filter does not merge their clicks.
    return [t.url, t.kind, res.package_code(t), res.institution.code if res.institution else None,
            c.doi, c.issn or c.eissn, c.isbn, title[:200] if title else None,
            secrets.randbits(32)]


def go_urls(res: Resolution, *, external: bool = False) -> list[str | None]:
    """The lienhop link of each target, in order (None for one that cannot be followed)."""
    tokens = _serializers().timed
    prefix = _url_prefix("resolve.go", external=external, slot="token")
    return [prefix + tokens.dumps(_click_payload(res, t)) if t.available and t.url else None
            for t in res.targets]


def _safe_destination(url: str) -> bool:
    """http(s) from the KB/index, or one of our own paths (the delivery form)."""
    if is_http_url(url):
        return True
    return url.startswith("/") and not url.startswith("//") and "\\" not in url and not any(
        ch in url for ch in "\r\n\t")


def _log_click(payload: list[Any]) -> None:
    usage_log.record_click(services.request_log(), payload)


def _follow(payload: list[Any], *, count: bool = True) -> BaseResponse:
    url = payload[0] if payload else None
    if not isinstance(url, str) or not _safe_destination(url):
        abort(400)
    if count:
        _log_click(payload)
    return redirect(url, code=302)


def _menu_again(payload: Any) -> str | None:
    """The menu of the item a click token was for, rebuilt from the token's fields."""
    if not isinstance(payload, list):
        return None
    _url, _kind, _package, inst, doi, issn, isbn, title = (
        [v.strip()[:300] if isinstance(v, str) and v.strip() else None for v in payload[:8]]
        + [None] * 8)[:8]
    params = [("url_ver", "Z39.88-2004"), ("ctx_ver", "Z39.88-2004")]
    if doi:
        params.append(("rft_id", f"info:doi/{doi}"))
    if issn:
        params.append(("rft.issn", issn))
    if isbn:
        params.append(("rft.isbn", isbn))
    if title:  # the token keeps the article title, else the title of the whole work
        params.append(("rft.atitle" if doi or issn else "rft.title", title))
    if len(params) == 2:
        return None
    if inst:
        params.append(("inst", inst))
    return url_for("resolve.menu") + "?" + urlencode(params)


def _expired(payload: Any) -> Response:
    resp = make_response(render_template("resolve/expired.html",
                                         menu_url=_menu_again(payload)))
    resp.status_code = 410
    return resp


def _open_token(token: str) -> tuple[str, Any, float | None]:
    """("ok" | "expired" | "damaged", payload, when signed) for a ``/go/`` token."""
    timed, untimed = _serializers()
    try:
        payload, signed = timed.loads(token, return_timestamp=True)
    except BadSignature:
        try:
            # Tokens from before expiry carry no time: there is no telling a fresh one from
            # one copied years ago, so each is expired (its item's menu is one click away).
            return "expired", untimed.loads(token), None
        except BadSignature:
            return "damaged", None, None
    at = signed.timestamp()
    age = time.time() - at
    max_age = float(current_app.config.get("LIENHOP_GO_TOKEN_MAX_AGE", GO_TOKEN_MAX_AGE))
    if age > max_age or age < -CLOCK_SKEW:
        return "expired", payload, at
    return "ok", payload, at


# --- pages ----------------------------------------------------------------------------

def _error_page(status: int, message: str, *, api: bool) -> Response:
    if api:
        resp = jsonify({"error": message})
    else:
        resp = make_response(render_template("resolve/error.html", message=message,
                                             status=status))
    resp.status_code = status
    return resp


def _parse(api: bool) -> Citation | Response:
    try:
        raw = _raw_openurl()
    except _TooLong:
        return _error_page(400, _("This link is too long to be an OpenURL."), api=api)
    if not raw.strip(b"?& "):
        return _error_page(400, _("This address needs an OpenURL: a citation in the query "
                                  "string."), api=api)
    try:
        return parse_openurl(raw)
    except CitationError:
        return _error_page(400, _("We could not find a title or an identifier (DOI, ISSN, "
                                  "ISBN) in this link."), api=api)


def _wants_redirect(res: Resolution) -> bool:
    asked = (request.values.get("redirect") or "").strip().lower()
    if asked in ("1", "true", "yes", "on"):
        return True
    if asked in ("0", "false", "no", "off"):
        return False
    return bool(res.institution and res.institution.redirect_default)


def _back() -> str:
    """The OpenURL to come back to (language choice removed so a new one can be added)."""
    raw = _raw_openurl().decode("utf-8", "replace")
    return "&".join(p for p in raw.split("&") if p and not p.startswith("lang="))


@bp.route("/resolve", methods=["GET", "POST"])
@csrf_exempt  # member catalogues POST OpenURLs; the view changes nothing
def menu() -> ResponseReturnValue:
    citation = _parse(api=False)
    if isinstance(citation, Response):
        return citation
    res, source, registry = _resolve(citation)
    if _wants_redirect(res):
        best = res.redirect_target()
        if best is not None:
            return _follow(_click_payload(res, best))
    lang = _lang()
    rows = [
        {
            "target": t,
            "label": t.label_en if lang == "en" else t.label_vi,
            "reason": t.reason_en if lang == "en" else t.reason_vi,
            "href": href,
        }
        for t, href in zip(res.targets, go_urls(res), strict=True)
    ]
    institutions = by_name(registry.institutions.values(),
                           lambda i: i.name_en if lang == "en" else i.name_vi)
    return render_template(
        "resolve/menu.html", citation=citation, res=res, rows=rows, source=source,
        institutions=institutions, lang=lang,
        back=_back(),
    )


@bp.route("/resolve/api", methods=["GET", "POST"])
@csrf_exempt
def api() -> ResponseReturnValue:
    citation = _parse(api=True)
    if isinstance(citation, Response):
        return citation
    res, _source, _registry_ = _resolve(citation)
    lang = _lang()
    return jsonify({
        "citation": citation_to_dict(citation),
        "institution": res.institution.code if res.institution else None,
        "targets": [
            {
                "kind": t.kind,
                "label": t.label_en if lang == "en" else t.label_vi,
                "package": res.package_code(t),
                "available": t.available,
                "reason": t.reason_en if lang == "en" else t.reason_vi,
                "url": url,
            }
            for t, url in zip(res.targets, go_urls(res, external=True), strict=True)
        ],
    })


@bp.get("/go/<token>")
def go(token: str) -> ResponseReturnValue:
    if len(token) > 8192:
        abort(400)
    state, payload, signed_at = _open_token(token)
    url = payload[0] if isinstance(payload, list) and payload else None
    # A destination the server never builds makes a token damaged, expired or not.
    if state == "damaged" or not isinstance(url, str) or not _safe_destination(url):
        return _error_page(400, _("This link is damaged or was not made by this service."),
                           api=False)
    if state == "expired":
        return _expired(payload)
    # The verified content is the key, not the token's text: base64 lets one token be
    # spelt several ways, each of which verifies.
    key = json.dumps([payload, signed_at], separators=(",", ":"), default=str)
    return _follow(payload, count=_recent_clicks().first(key))


@bp.post("/resolve/institution")
def choose_institution() -> ResponseReturnValue:
    """Remember the user's library in a cookie, then show the same citation again."""
    registry = _registry()
    code = (request.form.get("inst") or "").strip()
    back = request.form.get("back") or ""
    if len(back) > MAX_OPENURL_BYTES or any(ch in back for ch in "\r\n"):
        back = ""
    # Only our own path plus the original query: never a redirect elsewhere.
    target = url_for("resolve.menu") + "?" + back.lstrip("?") if back else url_for("home.index")
    resp = redirect(target, code=303)
    if code in registry.codes:
        resp.set_cookie(COOKIE, code, max_age=COOKIE_MAX_AGE, httponly=True, samesite="Lax",
                        secure=request.is_secure)
    elif not code:
        resp.delete_cookie(COOKIE)
    else:
        return _error_page(400, _("Unknown library."), api=False)
    return resp


@bp.route("/resolve/delivery", methods=["GET", "POST"])
def delivery() -> ResponseReturnValue:
    """Document delivery: a form prefilled from the citation; requests go to the admins."""
    if request.method == "GET":
        citation = _parse(api=False)
        if isinstance(citation, Response):
            return citation
        code, _source = _who(_registry(), citation.inst)
        return render_template("resolve/delivery.html", citation=citation,
                               kev=citation_to_kev(citation), errors=[],
                               form={"inst": code or ""})
    form = request.form
    kev = form.get("kev", "")
    try:
        if len(kev) > MAX_OPENURL_BYTES:
            raise CitationError("too long")
        citation = parse_openurl(kev)
    except CitationError:
        return _error_page(400, _("We could not find a title or an identifier (DOI, ISSN, "
                                  "ISBN) in this link."), api=False)
    name = (form.get("name") or "").strip()
    email = (form.get("email") or "").strip()
    note = (form.get("note") or "").strip()
    errors = []
    if not name or len(name) > 200:
        errors.append(_("Please give your name."))
    if not _EMAIL_RE.match(email) or len(email) > 200:
        errors.append(_("Please give a valid e-mail address."))
    if len(note) > 2000:
        errors.append(_("The note is too long (2000 characters at most)."))
    if errors:
        resp = make_response(render_template(
            "resolve/delivery.html", citation=citation, kev=kev, errors=errors,
            form={"name": name, "email": email, "note": note, "inst": form.get("inst", "")}))
        resp.status_code = 400
        return resp
    code, _source = _who(_registry(), form.get("inst") or citation.inst)
    session = services.session()
    req = DeliveryRequest(institution=code, citation=citation_to_dict(citation),
                          requester_name=name, requester_email=email, note=note, status="new")
    session.add(req)
    session.commit()
    return render_template("resolve/delivery_thanks.html", citation=citation, number=req.id)
