"""Fill per-platform link templates from a citation; add an institution's proxy prefix.

Templates use ``{name}`` placeholders, e.g. ``https://doi.org/{doi}``, ``{title_url}`` or
``https://example.org/openurl?issn={issn}&volume={volume}&issue={issue}&spage={spage}``.
A template that needs a value the citation lacks yields None, so the caller falls back
from article level to title level. Only http(s) results are ever returned.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TypeGuard
from urllib.parse import quote, urlsplit

from resolver.kb.errors import KbError
from resolver.openurl import Citation

__all__ = [
    "Links",
    "apply_proxy",
    "build_links",
    "citation_values",
    "fill_template",
    "is_http_url",
    "url_host",
    "validate_template",
]

_PLACEHOLDER = re.compile(r"\{([a-z_]+)\}")
#: host[:port] with nothing a browser could read differently from Python (user info,
#: backslashes, escapes, non-ASCII): a DNS name or a bracketed IPv6 address.
_AUTHORITY = re.compile(r"([A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\])(?::[0-9]{1,5})?")


def is_http_url(url: str | None) -> TypeGuard[str]:
    """True for an absolute http(s) URL with a host and no whitespace or control chars."""
    if not url or re.search(r"[\s\x00-\x1f\x7f]", url):
        return False
    try:
        parts = urlsplit(url)
    except ValueError:
        return False
    return parts.scheme.lower() in ("http", "https") and bool(parts.netloc)


def url_host(url: str | None) -> str | None:
    """The lower-case host an http(s) URL leads to; None when that is in any doubt.

    ``https://good.example@evil.example/`` and ``https://evil.example\\@good.example/``
    reach evil.example in a browser, while a careless parse sees good.example; such
    authorities, and any that are not a plain host and port, have no host here.
    """
    if not is_http_url(url):
        return None
    m = _AUTHORITY.fullmatch(urlsplit(url or "").netloc)
    if m is None:
        return None
    return m.group(1).lower().rstrip(".") or None


def validate_template(template: str | None, name: str) -> str:
    """A link template must build an http(s) URL whose host comes from the template itself.

    Only ``{title_url}`` (a URL from the KBART file) may stand first; any other leading
    placeholder would let a citation value (from the request) choose the host. Raises
    :class:`~resolver.kb.errors.KbError` naming the template (``name``) otherwise.
    """
    t = (template or "").strip()
    if not t:
        return ""
    if not (re.match(r"https?://[^/{}]+", t, re.I) or t.startswith("{title_url}")):
        raise KbError(f"{name} {t!r} must start with http(s)://host or {{title_url}}")
    return t


def citation_values(citation: Citation, **extra: str | None) -> dict[str, str]:
    """Template values from a Citation (plus holding values such as title_url, title_id)."""
    c = citation
    values = {
        "doi": c.doi, "pmid": c.pmid, "issn": c.issn or c.eissn, "eissn": c.eissn,
        "pissn": c.issn, "isbn": c.isbn, "volume": c.volume, "issue": c.issue,
        "spage": c.spage, "epage": c.epage, "atitle": c.atitle, "jtitle": c.jtitle,
        "btitle": c.btitle, "title": c.title, "aulast": c.aulast, "oclcnum": c.oclcnum,
        "year": str(c.year) if c.year else None, "date": c.date,
    }
    values.update(extra)
    return {k: v for k, v in values.items() if v}


def fill_template(template: str, values: Mapping[str, str | None]) -> str | None:
    """Substitute placeholders; None when a value is missing or the result is not http(s).

    A placeholder at the very start is a whole URL (``{title_url}``) and is inserted
    as-is; elsewhere values are percent-encoded ('/' kept in the path so DOIs stay
    readable, everything reserved encoded in the query).
    """
    missing = False

    def sub(m: re.Match[str]) -> str:
        nonlocal missing
        v = values.get(m.group(1))
        if v is None or not str(v).strip():
            missing = True
            return ""
        v = str(v).strip()
        if m.start() == 0:
            return v
        in_query = "?" in template[: m.start()]
        return quote(v, safe="" if in_query else "/")

    url = _PLACEHOLDER.sub(sub, template)
    if missing or not is_http_url(url):
        return None
    return url


def apply_proxy(url: str | None, prefix: str | None) -> str | None:
    """Put *url* behind an EZproxy-style prefix.

    ``...login?qurl=`` takes the target percent-encoded (so its own query survives);
    ``...login?url=`` takes it raw, as EZproxy expects (encoding it lands users on the
    proxy menu). An already proxied URL is left alone.
    """
    if not is_http_url(url):
        return None
    if not prefix:
        return url
    if not is_http_url(prefix) or url.startswith(prefix):
        return url
    if prefix.endswith("qurl="):
        return prefix + quote(url, safe="")
    return prefix + url


@dataclass(frozen=True, slots=True)
class Links:
    """Article- and title-level links for one holding (None when not computable)."""

    article: str | None
    title: str | None

    @property
    def best(self) -> str | None:
        return self.article or self.title

    @property
    def level(self) -> str | None:
        return "article" if self.article else "title" if self.title else None


def build_links(
    citation: Citation,
    *,
    article_template: str | None = None,
    title_template: str | None = "{title_url}",
    title_url: str | None = None,
    title_id: str | None = None,
    proxy_prefix: str | None = None,
) -> Links:
    """Compute both link levels for a holding, proxied for the institution if needed."""
    values = citation_values(citation, title_url=title_url, title_id=title_id)
    article = fill_template(article_template, values) if article_template else None
    title = fill_template(title_template, values) if title_template else None
    return Links(apply_proxy(article, proxy_prefix), apply_proxy(title, proxy_prefix))
