"""What the discovery pages and the JSON API share: request parameters, labels, names.

The results page and ``/api/search`` take the same parameters, parsed here once, so a URL
copied from the browser works against the API after swapping the path.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from urllib.parse import urlencode

from flask import current_app, g, request, url_for
from flask_babel import format_date, format_decimal, get_locale, lazy_gettext
from sqlalchemy import select
from werkzeug.datastructures import MultiDict

import index
from index import Record
from index.querylang import year_range
from index.results import MAX_DEPTH
from resolver.discovery.citations import to_kev
from resolver.registry.models import Institution
from resolver.web import services
from resolver.web.services import get_index

#: Facets a request may filter on, in the order the results page shows them.
FACETS = ("institution", "type", "year", "language", "access", "subject")
SORTS = index.SORTS
DEFAULT_SIZE = 20
MAX_SIZE = 100
MAX_QUERY = 500  # characters; a longer "query" is a paste accident or an attack
MAX_VALUES = 20  # per facet

_ = lazy_gettext
FACET_TITLES = {"institution": _("Institution"), "type": _("Type"), "year": _("Year"),
                "language": _("Language"), "access": _("Access"), "subject": _("Subject")}
TYPE_LABELS = {"article": _("Article"), "thesis": _("Thesis"),
               "dissertation": _("Dissertation"), "book": _("Book"), "report": _("Report"),
               "conference paper": _("Conference paper"), "dataset": _("Dataset"),
               "other": _("Other")}
LANGUAGE_LABELS = {"vie": _("Vietnamese"), "eng": _("English"), "fra": _("French"),
                   "rus": _("Russian"), "zho": _("Chinese"), "deu": _("German"),
                   "jpn": _("Japanese"), "kor": _("Korean")}
ACCESS_LABELS = {"open": _("Open access"), "restricted": _("Restricted")}
SORT_LABELS = {"relevance": _("Relevance"), "newest": _("Newest first"),
               "oldest": _("Oldest first"), "title": _("Title A–Z")}


@dataclass
class SearchParams:
    q: str = ""
    page: int = 1
    size: int = DEFAULT_SIZE
    sort: str = "relevance"
    filters: dict[str, list[str]] = field(default_factory=dict)

    def args(self, **changes: object) -> MultiDict[str, str]:
        """These parameters as query arguments, with ``changes`` applied (None drops)."""
        pairs: list[tuple[str, object]] = [("q", self.q)]
        pairs += [(name, v) for name in FACETS for v in self.filters.get(name, [])]
        pairs += [("sort", self.sort if self.sort != "relevance" else None),
                  ("size", self.size if self.size != DEFAULT_SIZE else None),
                  ("page", self.page if self.page != 1 else None)]
        # A change replaces the parameter where it stands: URLs keep one canonical order.
        out: MultiDict[str, str] = MultiDict()
        for k, v in pairs:
            if k in changes:
                v = changes.pop(k)
            if v not in (None, ""):
                out.add(k, str(v))
        for k, v in changes.items():
            if v not in (None, ""):
                out.add(k, str(v))
        return out

    def url(self, endpoint: str = "search.results", **changes: object) -> str:
        qs = urlencode(list(self.args(**changes).items(multi=True)))
        return url_for(endpoint) + ("?" + qs if qs else "")

    def toggle_url(self, name: str, value: str) -> str:
        """The results URL with facet ``name=value`` added, or removed when present."""
        p = SearchParams(self.q, 1, self.size, self.sort,
                         {k: list(v) for k, v in self.filters.items()})
        values = p.filters.setdefault(name, [])
        kept = [v for v in values if not index.same_facet_value(name, v, value)]
        p.filters[name] = kept if len(kept) < len(values) else [*values, value]
        return p.url()

    def is_active(self, name: str, value: str) -> bool:
        # A subject filter written another way ("thư viện" for "Thư viện") is this value.
        return any(index.same_facet_value(name, v, value) for v in self.filters.get(name, []))

    def without_filters_url(self) -> str:
        return SearchParams(self.q, 1, self.size, self.sort).url()

    @property
    def chips(self) -> list[tuple[str, str]]:
        return [(n, v) for n in FACETS for v in self.filters.get(n, [])]


class BadParameter(ValueError):
    """A search parameter that cannot mean anything: answered with 400, never guessed at.

    Only ``year`` has no sensible default (page, size and sort fall back to theirs)."""

    def __init__(self, name: str, value: str) -> None:
        super().__init__(f"bad {name}: {value!r}")
        self.name = name
        self.value = value

    @property
    def message(self) -> str:
        """What was wrong, in the reader's language."""
        shown = self.value if len(self.value) <= 40 else self.value[:40] + "…"
        return str(_("“%(value)s” is not a year: use a year such as 2010 or a range such as "
                     "2010-2020, 2010- or -1989.", value=shown))


def _int(value: str | None, default: int, lo: int, hi: int) -> int:
    try:
        return max(lo, min(hi, int(value or default)))
    except ValueError:  # also a number too long to convert (over 4,300 digits)
        return default


def parse_params(args: MultiDict[str, str]) -> SearchParams:
    """Search parameters from a request's query string.

    A bad page, size or sort falls back to its default (documented in docs/api.md); a year
    filter that names no years raises :class:`BadParameter`, as there is no default that
    could stand in for what the reader meant."""
    q = " ".join(args.get("q", "").split())[:MAX_QUERY]
    filters = {}
    for name in FACETS:
        values = [v.strip() for v in args.getlist(name) if v.strip()][:MAX_VALUES]
        if values:
            filters[name] = list(dict.fromkeys(values))  # a repeated value counts once
    for value in filters.get("year", []):
        if year_range(value) is None:
            raise BadParameter("year", value)
    sort = args.get("sort", "relevance")
    size = _int(args.get("size"), DEFAULT_SIZE, 1, MAX_SIZE)
    return SearchParams(
        q=q,
        page=_int(args.get("page"), 1, 1, max(1, MAX_DEPTH // size)),
        size=size,
        sort=sort if sort in SORTS else "relevance",
        filters=filters,
    )


def without(args: MultiDict[str, str], name: str) -> MultiDict[str, str]:
    """``args`` less every value of ``name``."""
    out = MultiDict(args)
    out.poplist(name)
    return out


def run_search(p: SearchParams, *, facets: bool = True) -> index.SearchResult | None:
    """The search, or None while there is no index yet (nothing harvested)."""
    ix = get_index()
    if ix is None:
        return None
    return ix.search(p.q, filters=p.filters or None, sort=p.sort, page=p.page, size=p.size,
                     facets=facets)


# ---------------------------------------------------------------------- display helpers


def institutions() -> dict[str, Institution]:
    """Every registered institution by code (once per request)."""
    if "lienhop_institutions" not in g:
        rows = services.session().scalars(select(Institution)).all()
        g.lienhop_institutions = {i.code: i for i in rows}
    by_code: dict[str, Institution] = g.lienhop_institutions
    return by_code


def institution_name(code: str) -> str:
    inst = institutions().get(code)
    if inst is None:
        return code
    return inst.name_en if str(get_locale()) == "en" and inst.name_en else inst.name_vi


def facet_label(name: str, value: str) -> str:
    """A facet value as a reader should see it, in the current language."""
    if name == "institution":
        return institution_name(value)
    table = {"type": TYPE_LABELS, "language": LANGUAGE_LABELS, "access": ACCESS_LABELS}.get(name)
    if table and value in table:
        return str(table[value])
    if name == "year":
        if value.endswith("-"):
            return "≥ " + value[:-1]
        if value.startswith("-"):
            return "≤ " + value[1:]
        return value.replace("-", "–")
    return value


def number(n: int | float) -> str:
    return str(format_decimal(n))


def resolve_url(record: Record) -> str:
    """The "Find full text" link: our resolver with the record's OpenURL."""
    return "/resolve?" + to_kev(record)


@cache
def _asset_version(path: str) -> str:
    data = Path(path).read_bytes()
    return hashlib.sha256(data).hexdigest()[:10]


def asset_url(filename: str) -> str:
    """A static file's URL with its content hash, so it can be cached for a year."""
    folder = current_app.static_folder or ""
    return url_for("static", filename=filename, v=_asset_version(str(Path(folder, filename))))


def is_web_url(url: str | None) -> bool:
    """Only http(s) links from harvested metadata become live links (no ``javascript:``)."""
    return url is not None and url.strip().lower().startswith(("http://", "https://"))


def lang_url(code: str) -> str:
    """The current page in language ``code``: every other query argument is kept."""
    args = MultiDict(request.args)
    args.poplist("lang")
    args.add("lang", code)
    return request.path + "?" + urlencode(list(args.items(multi=True)))


TEMPLATE_HELPERS = {
    "asset_url": asset_url,
    "lang_url": lang_url,
    "is_web_url": is_web_url,
    "facet_label": facet_label,
    "format_date": format_date,
    "facet_title": lambda n: FACET_TITLES.get(n, n),
    "institution_name": institution_name,
    "number": number,
    "resolve_url": resolve_url,
    "kev": to_kev,
    "type_label": lambda v: facet_label("type", v),
    "language_label": lambda v: facet_label("language", v),
    "sort_labels": SORT_LABELS,
}
