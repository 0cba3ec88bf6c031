"""The HTTP layer's defences: request-body limits, security headers, the host policy and
bidirectional-override characters in display.

Pure helpers first (each testable alone), then :func:`init_app`, the Flask glue, which
:func:`resolver.create_app` calls before anything reads a request body.

- **Body limits.** Every request may send ``LIENHOP_MAX_REQUEST_MB``; only the upload views
  (:data:`UPLOAD_ENDPOINTS`, or a view marked with :func:`accepts_upload`) take
  ``LIENHOP_MAX_UPLOAD_MB``. A declared ``Content-Length`` over the limit is refused before a
  byte of the body is read; a chunked body (no length) is read up to the limit, no further
  (:class:`CappedInput`). Either way the answer is a 413 page (``resolver.views.errors``),
  never a silently truncated form.
- **Headers.** A Content-Security-Policy that allows only this site's own files, plus
  ``nosniff``, ``X-Frame-Options``, ``Referrer-Policy`` and, over HTTPS, HSTS.
- **Host policy.** With ``LIENHOP_BASE_URL`` every absolute URL (``url_for(...,
  _external=True)``) starts with it, whatever ``Host`` the request carried; with
  ``LIENHOP_TRUSTED_HOSTS`` another ``Host`` gets a 400.
- **Bidi controls.** Harvested text is shown without the embedding/override/isolate controls
  (U+202A–U+202E, U+2066–U+2069), so ``"\\u202egpj.exe"`` cannot pose as ``exe.jpg``.
  Only the display changes: the index and the JSON API keep the text as harvested.
- **Query strings that are not UTF-8** are a 400 (``resolver/web/encoding.py``), and never
  make ``request.args`` raise.
"""

from __future__ import annotations

import base64
import hashlib
import io
import ipaddress
import logging
import re
import sys
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, NamedTuple, TypeVar
from urllib.parse import urlsplit

from flask import Flask, Request, Response, current_app, has_request_context, request
from flask_wtf.csrf import CSRFProtect
from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.routing import MapAdapter
from werkzeug.sansio.utils import host_is_trusted

from resolver.settings import ConfigError, Settings
from resolver.web import encoding
from resolver.web.signing import CookieSessions

#: CSRF protection for every POST form; views that receive POSTs from other software
#: (OpenURL by POST from member catalogues, OAI-PMH) are exempted with :func:`csrf_exempt`.
csrf = CSRFProtect()

log = logging.getLogger("lienhop.security")

MB = 1024 * 1024

#: the views that receive files: the KBART upload and the COUNTER upload. Another upload
#: view can be added here or marked with :func:`accepts_upload`.
UPLOAD_ENDPOINTS = frozenset({"admin_kb.upload", "admin_usage.counter"})
_UPLOAD_FLAG = "lienhop_accepts_upload"

#: a non-file form field's largest size (Werkzeug ≥ 3.1 reads it into memory)
MAX_FORM_MEMORY_SIZE = 500_000
#: fields of one multipart form: the largest admin form has a few dozen
MAX_FORM_PARTS = 1_000

#: pages whose forms may end, after redirects, on another site: Chrome applies form-action
#: to the whole redirect chain, and the resolver menu's "remember my library" form goes
#: back to /resolve, which sends an institution that asked for it straight to full text.
FORMS_LEAVING_THE_SITE = frozenset({"resolve.menu"})

#: a year: browsers that saw HTTPS once keep to it
HSTS = "max-age=31536000"
#: the origin, never the path, leaves the site: resolver pages carry the citation in the
#: query. Not ``no-referrer`` on ``/go/``: a redirect is never itself a referrer, and the
#: origin is what some publishers check for referrer-based access.
REFERRER_POLICY = "strict-origin-when-cross-origin"

BIDI_CONTROLS = "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
_BIDI = re.compile(f"[{BIDI_CONTROLS}]")
_BIDI_TABLE = dict.fromkeys(map(ord, BIDI_CONTROLS))

_STYLE_BLOCK = re.compile(r"<style(?:\s[^>]*)?>(.*?)</style>", re.S | re.I)
_JINJA = re.compile(r"\{\{|\{%|\{#")
_HOST_NAME = re.compile(r"^\.?[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$")

V = TypeVar("V", bound=Callable[..., Any])


# --- pure helpers ---------------------------------------------------------------------------

class PublicURL(NamedTuple):
    """The site's public base URL, split: ``https``, ``lienhop.vn``, ``""`` or ``/prefix``."""

    scheme: str
    netloc: str
    path: str

    @property
    def root(self) -> str:
        return f"{self.scheme}://{self.netloc}{self.path}"

    @property
    def hostname(self) -> str:
        return urlsplit(self.root).hostname or ""


def parse_base_url(value: str) -> PublicURL | None:
    """``LIENHOP_BASE_URL`` checked and split; None when it is not set."""
    value = value.strip()
    if not value:
        return None
    problem = ConfigError(
        "LIENHOP_BASE_URL must be the site's public address: http:// or https://, a host name, "
        "an optional port and path, nothing else (for example https://lienhop.vn or "
        f"https://thuvien.example.edu.vn/lienhop), not {value!r}")
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018 - raises ValueError on a port that is not a number
    except ValueError as exc:
        raise problem from exc
    if (parts.scheme.lower() not in ("http", "https") or not parts.hostname
            or "@" in parts.netloc or "?" in value or "#" in value
            or not host_is_trusted(parts.netloc)
            or any(ch.isspace() or ch == "\\" or ord(ch) < 32 for ch in value)):
        raise problem
    return PublicURL(parts.scheme.lower(), parts.netloc.lower(), parts.path.rstrip("/"))


def parse_trusted_hosts(hosts: Iterable[str]) -> tuple[str, ...]:
    """``LIENHOP_TRUSTED_HOSTS`` checked: host names (``.example.vn`` takes its subdomains)."""
    checked = []
    for host in hosts:
        name = host.strip().lower()
        if not _HOST_NAME.match(name) and not _is_ip_literal(name):
            raise ConfigError(
                "LIENHOP_TRUSTED_HOSTS lists host names separated by spaces or commas "
                "(lienhop.vn, www.lienhop.vn, .lienhop.vn for every subdomain), without "
                f"scheme, port or path; {host!r} is not one")
        checked.append(name)
    return tuple(checked)


def _is_ip_literal(name: str) -> bool:
    try:
        ipaddress.ip_address(name.strip("[]"))
    except ValueError:
        return False
    return True


def trusted_host_list(hosts: tuple[str, ...], public: PublicURL | None) -> list[str] | None:
    """Flask's ``TRUSTED_HOSTS``: None (any host) unless hosts are listed; the public
    base URL's host is always among them."""
    if not hosts:
        return None
    listed = list(hosts)
    if public is not None and public.hostname and public.hostname not in listed:
        listed.append(public.hostname)
    return listed


def external_url(public: PublicURL, script_root: str, relative: str) -> str:
    """A URL that ``url_for`` built relative to the request (under ``script_root``), on the
    public base URL instead of the request's host."""
    root = script_root.rstrip("/")
    if root and (relative == root or relative.startswith((root + "/", root + "?"))):
        relative = relative[len(root):]
    if not relative.startswith("/"):
        relative = "/" + relative
    return public.root + relative


def csp_hash(text: str) -> str:
    """A CSP source that allows exactly this inline block."""
    digest = hashlib.sha256(text.encode("utf-8")).digest()
    return "'sha256-" + base64.b64encode(digest).decode("ascii") + "'"


def inline_style_hashes(folder: Path) -> tuple[str, ...]:
    """The CSP hashes of the fixed ``<style>`` blocks written in the templates.

    Hashes of the template source, not of rendered pages: only what developers wrote is
    allowed, never a ``<style>`` that reached a page some other way. A block with Jinja in
    it has no fixed hash; it is left out (and blocked) with a warning.
    """
    found: set[str] = set()
    for path in sorted(folder.rglob("*.html")):
        # Jinja renders every newline of the source as "\n"
        text = path.read_text(encoding="utf-8").replace("\r\n", "\n")
        for body in _STYLE_BLOCK.findall(text):
            if _JINJA.search(body):
                log.warning("inline <style> with template code in %s: blocked by the CSP; "
                            "move it to a file in resolver/static/", path.name)
                continue
            found.add(csp_hash(body))
    return tuple(sorted(found))


def content_security_policy(style_hashes: Iterable[str] = (), *,
                            forms_leave: bool = False) -> str:
    """The site loads nothing from elsewhere and runs no inline script; its forms post to
    itself (``forms_leave``: and may end on any web site, see FORMS_LEAVING_THE_SITE)."""
    styles = " ".join(["'self'", *style_hashes])
    return "; ".join([
        "default-src 'self'",
        "img-src 'self' data:",
        f"style-src {styles}",
        "script-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self' http: https:" if forms_leave else "form-action 'self'",
        "frame-ancestors 'none'",
    ])


def security_headers(csp: str, *, https: bool) -> dict[str, str]:
    """The headers every response carries (HSTS only over HTTPS, where browsers heed it)."""
    headers = {
        "Content-Security-Policy": csp,
        "X-Content-Type-Options": "nosniff",
        "X-Frame-Options": "DENY",
        "Referrer-Policy": REFERRER_POLICY,
    }
    if https:
        headers["Strict-Transport-Security"] = HSTS
    return headers


def wants_json(path: str) -> bool:
    """Whether an error at ``path`` is answered in JSON (the APIs) rather than HTML."""
    return path == "/api" or path.startswith("/api/") or path.startswith("/resolve/api")


def body_limit(settings: Settings, *, upload: bool) -> int:
    """Bytes a request body may have."""
    return int((settings.max_upload_mb if upload else settings.max_request_mb) * MB)


def without_bidi_controls(value: Any) -> Any:
    """``value`` without embedding/override/isolate controls; anything else unchanged
    (including ``Markup``, which stays ``Markup``)."""
    if not isinstance(value, str) or not _BIDI.search(value):
        return value
    return value.translate(_BIDI_TABLE)  # Markup.translate keeps it Markup, unescaped


def csrf_exempt(view: V) -> V:
    """``csrf.exempt`` keeping the view's type (flask_wtf has no type hints)."""
    csrf.exempt(view)
    return view


def accepts_upload(view: V) -> V:
    """Mark a view as an upload: its body may reach ``LIENHOP_MAX_UPLOAD_MB``."""
    setattr(view, _UPLOAD_FLAG, True)
    return view


# --- Flask glue -----------------------------------------------------------------------------

#: app.config key of the parsed LIENHOP_BASE_URL (a PublicURL, or None)
PUBLIC_URL = "LIENHOP_PUBLIC_URL"
#: environ key of the current request's body limit (for the 413 page)
BODY_LIMIT = "lienhop.body_limit"


class PublicURLFlask(Flask):
    """Flask whose absolute URLs start with the public base URL when one is configured.

    Relative URLs (the usual ``url_for``) are untouched; only ``_external`` ones, which
    would otherwise copy the request's ``Host`` header, are rebuilt on the base URL.
    """

    def url_for(self, /, endpoint: str, *, _anchor: str | None = None,
                _method: str | None = None, _scheme: str | None = None,
                _external: bool | None = None, **values: Any) -> str:
        # With a base URL, its scheme wins over ``_scheme``: it is the site's public one.
        public: PublicURL | None = self.config.get(PUBLIC_URL)
        external = _external if _external is not None else _scheme is not None
        if public is None or not has_request_context() or not external:
            return super().url_for(endpoint, _anchor=_anchor, _method=_method,
                                   _scheme=_scheme, _external=_external, **values)
        relative = super().url_for(endpoint, _anchor=_anchor, _method=_method,
                                   _external=False, **values)
        return external_url(public, request.script_root, relative)

    def create_url_adapter(self, request: Request | None) -> MapAdapter | None:
        adapter = super().create_url_adapter(request)
        public: PublicURL | None = self.config.get(PUBLIC_URL)
        if adapter is None and request is None and public is not None:
            # outside a request (CLI, jobs): build on the base URL, as SERVER_NAME would
            return self.url_map.bind(public.netloc, script_name=public.path or "/",
                                     url_scheme=public.scheme)
        return adapter


def configure(app: Flask, settings: Settings) -> None:
    """Check the settings and set Flask's limits and host policy (raises ConfigError)."""
    public = parse_base_url(settings.base_url)
    hosts = parse_trusted_hosts(settings.trusted_hosts)
    app.config[PUBLIC_URL] = public
    app.config["TRUSTED_HOSTS"] = trusted_host_list(hosts, public)
    app.config["MAX_CONTENT_LENGTH"] = body_limit(settings, upload=False)
    # Flask ≥ 3.1 hands these to Werkzeug's form parser; older versions ignore them
    app.config["MAX_FORM_MEMORY_SIZE"] = min(MAX_FORM_MEMORY_SIZE,
                                             body_limit(settings, upload=False))
    app.config["MAX_FORM_PARTS"] = MAX_FORM_PARTS
    if settings.is_production and public is None and not hosts:
        log.warning("neither LIENHOP_BASE_URL nor LIENHOP_TRUSTED_HOSTS is set: absolute "
                    "links (sitemaps, OpenSearch, OAI-PMH, the JSON API) follow the Host "
                    "header of each request; set LIENHOP_BASE_URL to the public address")


def _is_upload() -> bool:
    endpoint = request.endpoint
    if endpoint is None:
        return False
    if endpoint in UPLOAD_ENDPOINTS:
        return True
    view = current_app.view_functions.get(endpoint)
    return bool(getattr(view, _UPLOAD_FLAG, False))


class CappedInput(io.RawIOBase):
    """A request body without a length (chunked) that may not exceed ``limit`` bytes:
    the read that goes past it raises 413."""

    def __init__(self, stream: Any, limit: int) -> None:
        self._stream, self._limit, self._count = stream, limit, 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        # one byte more than the limit allows: that byte is the proof the body is too long
        data = self._stream.read(min(len(buffer), self._limit - self._count + 1))
        self._count += len(data)
        if self._count > self._limit:
            raise RequestEntityTooLarge()
        buffer[: len(data)] = data
        return len(data)


def current_body_limit() -> int:
    """The byte limit of the current request's body."""
    limit = request.environ.get(BODY_LIMIT)
    return int(limit if limit is not None else current_app.config["MAX_CONTENT_LENGTH"] or 0)


def _limit_body() -> None:
    limit = body_limit(current_app.config["LIENHOP"], upload=_is_upload())
    environ = request.environ
    environ[BODY_LIMIT] = limit
    if request.content_length is not None:
        # Refused now, unread, even by a view that would never read its body.
        if request.content_length > limit:
            raise RequestEntityTooLarge()
        request.max_content_length = limit
    elif environ.get("wsgi.input_terminated"):
        # Chunked: Werkzeug's own cap would stop reading at the limit and hand the view a
        # silently truncated body; CappedInput answers 413 instead.
        environ["wsgi.input"] = CappedInput(environ["wsgi.input"], limit)
        request.max_content_length = sys.maxsize
    else:
        request.max_content_length = limit


def init_app(app: Flask, settings: Settings, templates: Path) -> None:
    """Wire the defences in. Call it before other extensions register ``before_request``
    hooks: CSRFProtect reads the form, and must see an upload view's larger limit."""
    configure(app, settings)
    # The first hook: nothing after it meets a query string it cannot decode.
    encoding.init_app(app)
    # Signed like Flask's own sessions, the cookie serializer made once, not per request.
    app.session_interface = CookieSessions()
    hashes = inline_style_hashes(templates)
    # every set of headers a response can get, made once: (forms leave, https) -> headers
    header_sets = {
        (leave, https): tuple(
            (name, name.lower(), value) for name, value in security_headers(
                content_security_policy(hashes, forms_leave=leave), https=https).items())
        for leave in (False, True) for https in (False, True)
    }
    app.before_request(_limit_body)

    def add_headers(response: Response) -> Response:
        fixed = header_sets[request.endpoint in FORMS_LEAVING_THE_SITE, request.is_secure]
        headers = response.headers
        # ``headers.setdefault`` for each: a header the view set itself is kept
        present = {key.lower() for key, _value in headers}
        for name, lower, value in fixed:
            if lower not in present:
                headers.add(name, value)
        return response

    app.after_request(add_headers)
    # Every {{ }} of every template: one place, whatever the field or the page.
    app.jinja_env.finalize = without_bidi_controls
