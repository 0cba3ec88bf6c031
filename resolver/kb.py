"""The knowledge base in the database: KBART import, entitlements, holdings for a citation.

Parsing and diffing are pure (:mod:`resolver.kbart`); this module is the storage edge. An
import replaces a package's titles in the caller's transaction, so a failure anywhere
leaves the previous titles in place; a file that cannot be read as KBART, or that yields
no title at all (a truncated download), changes nothing.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import itertools
import logging
import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import delete, event, func, or_, select
from sqlalchemy.orm import Session

from resolver.coverage import Coverage
from resolver.kbart import (
    KbartError,
    KbartTitle,
    RejectedRow,
    TitleChange,
    diff_titles,
    parse_kbart,
)
from resolver.models import (
    PACKAGE_KINDS,
    SUBSCRIPTION,
    Entitlement,
    Institution,
    KbTitle,
    Package,
)

__all__ = [
    "ImportReport",
    "KbError",
    "KbSnapshot",
    "PackageInfo",
    "TitleHolding",
    "entitle",
    "fold_title",
    "holdings_rows",
    "import_kbart",
    "kb_generation",
    "kb_packages",
    "kb_titles_mark",
    "kbart_row",
    "load_kb_snapshot",
    "validate_template",
]

log = logging.getLogger("lienhop.kb")

CODE_RE = re.compile(r"^[a-z0-9][a-z0-9._-]{0,63}$")


class KbError(ValueError):
    """An import or entitlement that cannot be applied; nothing was changed.

    A refused KBART file also says which rows were rejected and why (``rejected``, in file
    order; for a file without a KBART header, the line taken for the header), and carries
    the message in Vietnamese (``message_vi``) for the admin pages.
    """

    def __init__(self, message: str, *, message_vi: str = "",
                 rejected: Sequence[RejectedRow] = (), warnings: Sequence[str] = ()) -> None:
        super().__init__(message)
        self.message_vi = message_vi or message
        self.rejected = rejected
        self.warnings = warnings


def fold_title(title: str | None) -> str:
    """Lower-case, diacritic-free, punctuation-free title for exact title matching.

    Vietnamese đ has no decomposition, so it is folded by hand (else "Đại" ≠ "Dai").
    """
    if not title:
        return ""
    s = unicodedata.normalize("NFKD", title.lower().replace("đ", "d"))
    s = "".join(ch for ch in s if not unicodedata.combining(ch))
    s = re.sub(r"^(the|a|an)\s+", "", s)
    return re.sub(r"[\W_]+", " ", s).strip()[:300]


def validate_template(template: str | None, name: str) -> str:
    """A link template must build an http(s) URL whose host comes from the template itself.

    Only ``{title_url}`` (a URL from the KBART file) may stand first; any other leading
    placeholder would let a citation value (from the request) choose the host.
    """
    t = (template or "").strip()
    if not t:
        return ""
    if not (re.match(r"https?://[^/{}]+", t, re.I) or t.startswith("{title_url}")):
        raise KbError(f"{name} {t!r} must start with http(s)://host or {{title_url}}")
    return t


@dataclass
class ImportReport:
    """What an import did (or would do): title keys added/changed/removed, rows rejected."""

    package: str
    created: bool
    titles: int
    added: list[KbartTitle] = field(default_factory=list)
    changed: list[TitleChange] = field(default_factory=list)
    removed: list[KbartTitle] = field(default_factory=list)
    rejected: list[RejectedRow] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


_KBART_FIELDS = frozenset(f.name for f in dataclasses.fields(KbartTitle))


def _kbart_from_data(data: Mapping[str, Any] | None, row: int, title: str) -> KbartTitle:
    fields = {k: v for k, v in (data or {}).items() if k in _KBART_FIELDS}
    fields.setdefault("row", row)
    fields.setdefault("publication_title", title)
    return KbartTitle(**fields)


def kbart_row(row: KbTitle) -> KbartTitle:
    """Rebuild the parsed KBART row stored with a title (for diffs and coverage)."""
    return _kbart_from_data(row.data, row.row, row.title)


def _to_row(t: KbartTitle) -> KbTitle:
    return KbTitle(
        row=t.row,
        title=t.publication_title[:1000],
        title_norm=fold_title(t.publication_title),
        print_id=t.print_identifier,
        online_id=t.online_identifier,
        title_id=(t.title_id or None) and t.title_id[:300],
        title_url=t.title_url if t.title_url and len(t.title_url) <= 2000 else None,
        date_first=t.date_first_issue_online,
        date_last=t.date_last_issue_online,
        embargo=(t.embargo_info or None) and t.embargo_info[:32],
        coverage_depth=t.coverage_depth[:64],
        publication_type=t.publication_type,
        data=dataclasses.asdict(t),
    )


def import_kbart(
    session: Session,
    code: str,
    data: bytes,
    *,
    name: str | None = None,
    platform: str | None = None,
    kind: str | None = None,
    article_template: str | None = None,
    title_template: str | None = None,
    source: str = "",
    strict: bool = False,
    today: dt.datetime | None = None,
) -> ImportReport:
    """Replace package ``code``'s titles with the KBART ``data`` (creating the package).

    Runs in ``session``'s transaction: the caller commits (or rolls back for a dry run).
    Raises :class:`KbError` (before touching anything) when the file has no KBART header,
    no valid title, or, with ``strict``, any rejected row.
    """
    if not CODE_RE.match(code or ""):
        raise KbError(f"package code {code!r}: use lower-case letters, digits, '.', '_', '-'")
    if kind is not None and kind not in PACKAGE_KINDS:
        raise KbError(f"kind {kind!r}: use one of {', '.join(PACKAGE_KINDS)}")
    article_template = validate_template(article_template, "article template") if (
        article_template is not None) else None
    title_template = validate_template(title_template, "title template") if (
        title_template is not None) else None
    try:
        parsed = parse_kbart(data)
    except KbartError as exc:
        raise KbError(f"not a KBART file: {exc}; the package was not changed",
                      message_vi=f"không phải tệp KBART: {exc.message_vi}; "
                                 "gói không bị thay đổi",
                      rejected=exc.rejected) from exc
    # The refusals hand over the parse's own list (no copy): it can hold 500,000 rows.
    n = len(parsed.rejected)
    if not parsed.titles:
        raise KbError(f"no valid title in the file ({n} rows rejected); "
                      "the package was not changed",
                      message_vi=f"tệp không có tên ấn phẩm hợp lệ nào ({n} dòng bị loại); "
                                 "gói không bị thay đổi",
                      rejected=parsed.rejected, warnings=parsed.warnings)
    if strict and parsed.rejected:
        raise KbError(f"{n} rows rejected and --strict given; the package was not changed",
                      message_vi=f"{n} dòng bị loại và đã chọn không thay đổi gì nếu có dòng "
                                 "bị loại; gói không bị thay đổi",
                      rejected=parsed.rejected, warnings=parsed.warnings)

    pkg = session.scalar(select(Package).where(Package.code == code))
    created = pkg is None
    if pkg is None:
        pkg = Package(code=code, name=name or code, platform=platform or "",
                      kind=kind or SUBSCRIPTION, article_template=article_template or "",
                      title_template="{title_url}" if title_template is None else title_template)
        session.add(pkg)
        session.flush()
        old: list[KbartTitle] = []
    else:
        old = [kbart_row(r) for r in session.scalars(
            select(KbTitle).where(KbTitle.package_id == pkg.id).order_by(KbTitle.row))]
        for attr, value in (("name", name), ("platform", platform), ("kind", kind),
                            ("article_template", article_template),
                            ("title_template", title_template)):
            if value is not None:
                setattr(pkg, attr, value)
    diff = diff_titles(old, parsed.titles)
    # Replace rather than patch: simpler, and the diff above is what the librarian reads.
    session.execute(delete(KbTitle).where(KbTitle.package_id == pkg.id))
    rows = [_to_row(t) for t in parsed.titles]
    for r in rows:
        r.package_id = pkg.id
    session.add_all(rows)
    pkg.imported_at = (today or dt.datetime.now(dt.UTC)).replace(tzinfo=None)
    pkg.source_file = source[:500]
    session.flush()
    # Snapshots in this process notice the commit at once, even if imported_at is unchanged
    # (a caller-supplied ``today``); other processes rely on the mark read from the database.
    event.listen(session, "after_commit", _titles_changed, once=True)
    return ImportReport(
        package=code, created=created, titles=len(rows), added=diff.added,
        changed=diff.changed, removed=diff.removed, rejected=parsed.rejected,
        warnings=parsed.warnings,
    )


def entitle(
    session: Session,
    package: str,
    institution: str,
    start: dt.date | None = None,
    end: dt.date | None = None,
    *,
    remove: bool = False,
) -> Entitlement | None:
    """Grant (or with ``remove``, withdraw every grant of) a package to an institution.

    A grant with the same start date is updated in place, so re-running a script is safe.
    """
    pkg = session.scalar(select(Package).where(Package.code == package))
    if pkg is None:
        raise KbError(f"no package {package!r} (import it first: lienhop kb import)")
    inst = session.scalar(select(Institution).where(Institution.code == institution))
    if inst is None:
        raise KbError(f"no institution {institution!r} in the registry")
    if start and end and end < start:
        raise KbError(f"entitlement ends ({end}) before it starts ({start})")
    existing = session.scalars(select(Entitlement).where(
        Entitlement.package_id == pkg.id, Entitlement.institution_id == inst.id)).all()
    if remove:
        for e in existing:
            session.delete(e)
        session.flush()
        return None
    for e in existing:
        if e.start == start:
            e.end = end
            session.flush()
            return e
    e = Entitlement(package_id=pkg.id, institution_id=inst.id, start=start, end=end)
    session.add(e)
    session.flush()
    return e


def holdings_rows(
    session: Session,
    *,
    issns: Sequence[str] = (),
    isbns: Sequence[str] = (),
    title: str | None = None,
    packages: Mapping[int, Package] | None = None,
) -> list[tuple[Package, list[KbTitle]]]:
    """KB rows for a citation, grouped by package (package code order).

    Identifiers first (print or online ISSN/ISBN); the folded title only when no
    identifier matched anything, since a title alone also matches unrelated namesakes.
    ``packages`` (id -> package, e.g. a cached snapshot) saves a join per request; a
    package missing from it is read from the database.
    """
    ids = [i for i in (*issns, *isbns) if i]
    rows: Sequence[KbTitle] = []
    if ids:
        rows = session.scalars(
            select(KbTitle).where(or_(KbTitle.print_id.in_(ids), KbTitle.online_id.in_(ids)))
            .order_by(KbTitle.row)
        ).all()
    if not rows and title:
        folded = fold_title(title)
        if folded:
            rows = session.scalars(
                select(KbTitle).where(KbTitle.title_norm == folded).order_by(KbTitle.row)
            ).all()
    known = dict(packages or {})
    missing = {r.package_id for r in rows} - known.keys()
    if missing:
        known.update((p.id, p) for p in session.scalars(
            select(Package).where(Package.id.in_(missing))))
    grouped: dict[int, tuple[Package, list[KbTitle]]] = {}
    for row in rows:
        grouped.setdefault(row.package_id, (known[row.package_id], []))[1].append(row)
    return sorted(grouped.values(), key=lambda g: g[0].code)


# --- the in-memory snapshot the resolver reads -----------------------------------------
#
# A citation used to cost one SQL query plus ORM loading and a KBART coverage parse per
# matched row; the snapshot does that once per process and KB change, leaving a dict lookup.

_generation = itertools.count(1)
_titles_generation = 0


def _titles_changed(_session: Session) -> None:
    global _titles_generation
    _titles_generation = next(_generation)


def kb_generation() -> int:
    """A counter bumped in this process whenever an import is committed."""
    return _titles_generation


@dataclass(frozen=True, slots=True)
class PackageInfo:
    """The package columns the resolver reads: an immutable copy, shared by all threads."""

    id: int
    code: str
    name: str
    kind: str
    article_template: str
    title_template: str


@dataclass(frozen=True, slots=True, eq=False)
class TitleHolding:
    """One KB row as the resolver needs it, its coverage parsed once per snapshot.

    ``coverage`` is None when the stored row cannot be read as a coverage range (rows are
    validated on import; a hand-edited row must not break a link): such a row still counts
    as a match, exactly as the SQL lookup counted it, but offers no holding.
    """

    id: int
    package_id: int
    row: int
    title_url: str | None
    title_id: str | None
    coverage: Coverage | None


def kb_packages(session: Session) -> tuple[tuple[Any, ...], ...]:
    """Every package as a plain tuple (id, code, name, kind, templates, imported_at)."""
    return tuple(tuple(r) for r in session.execute(
        select(Package.id, Package.code, Package.name, Package.kind, Package.article_template,
               Package.title_template, Package.imported_at).order_by(Package.id)))


def kb_titles_mark(session: Session) -> tuple[Any, ...]:
    """What the titles snapshot depends on, read in well under a millisecond.

    Titles are only written by :func:`import_kbart`, which also stamps the package's
    ``imported_at``, or removed with their package, so the package rows plus the highest
    title id change whenever the titles do; the in-process generation covers an import
    with a caller-supplied ``today``. (``count(*)`` over 50k titles would cost 3 ms.)
    """
    generation = kb_generation()  # read first: a later bump must not be lost
    top = session.scalar(select(func.max(KbTitle.id)))
    return (generation, top, kb_packages(session))


def _order(h: TitleHolding) -> tuple[int, int]:
    return h.row, h.id


@dataclass(frozen=True)
class KbSnapshot:
    """Every KB title of every package, indexed by identifier and by folded title."""

    mark: tuple[Any, ...]
    packages: Mapping[int, PackageInfo]
    #: print or online ISSN/ISBN -> rows, in (row, id) order
    by_id: Mapping[str, tuple[TitleHolding, ...]]
    #: folded title -> rows, in (row, id) order
    by_title: Mapping[str, tuple[TitleHolding, ...]]
    titles: int = 0

    def holdings(
        self,
        *,
        issns: Sequence[str] = (),
        isbns: Sequence[str] = (),
        title: str | None = None,
    ) -> list[tuple[PackageInfo, list[TitleHolding]]]:
        """:func:`holdings_rows` answered from memory (same matching, same order)."""
        ids = [i for i in (*issns, *isbns) if i]
        found: list[TitleHolding] = []
        if len(ids) == 1:
            found = list(self.by_id.get(ids[0], ()))
        elif ids:
            # A row matching two identifiers (print and online) is still one row.
            seen = {h.id: h for i in ids for h in self.by_id.get(i, ())}
            found = sorted(seen.values(), key=_order)
        if not found and title:
            folded = fold_title(title)
            if folded:
                found = list(self.by_title.get(folded, ()))
        grouped: dict[int, tuple[PackageInfo, list[TitleHolding]]] = {}
        for h in found:
            grouped.setdefault(h.package_id, (self.packages[h.package_id], []))[1].append(h)
        return sorted(grouped.values(), key=lambda g: g[0].code)


#: The KBART fields :meth:`KbartTitle.coverage` reads, in ``Coverage.from_kbart`` order.
_COVERAGE_FIELDS = (
    "date_first_issue_online", "date_last_issue_online", "num_first_vol_online",
    "num_first_issue_online", "num_last_vol_online", "num_last_issue_online", "embargo_info",
    "coverage_depth",
)


def _coverage(fields: tuple[Any, ...], row_id: int) -> Coverage | None:
    first, last, fvol, fiss, lvol, liss, embargo, depth = fields
    try:
        # As KbartTitle.coverage(); a missing depth is the dataclass default, "fulltext".
        return Coverage.from_kbart(first, last, first_volume=fvol, first_issue=fiss,
                                   last_volume=lvol, last_issue=liss, embargo=embargo,
                                   depth=depth)
    except (ValueError, TypeError):  # validated on import; a hand-edited row must not break
        log.warning("kb_title %s has unusable coverage", row_id)
        return None


def load_kb_snapshot(session: Session, mark: tuple[Any, ...] | None = None) -> KbSnapshot:
    """Read every title into a :class:`KbSnapshot` (under a second for 50k titles).

    ``mark`` must be read before the titles (it is, when omitted): a change committed
    in between then makes the next mark differ, and the snapshot is simply rebuilt again.
    """
    if mark is None:
        mark = kb_titles_mark(session)
    packages = {r[0]: PackageInfo(*r[:6]) for r in mark[2]}
    by_id: dict[str, list[TitleHolding]] = {}
    by_title: dict[str, list[TitleHolding]] = {}
    # Only the coverage fields of the stored row, extracted by the database: decoding the
    # whole JSON row of 50k titles took seconds and a few hundred MB at its peak.
    stmt = select(
        KbTitle.id, KbTitle.package_id, KbTitle.row, KbTitle.title_norm, KbTitle.print_id,
        KbTitle.online_id, KbTitle.title_id, KbTitle.title_url,
        *(KbTitle.data[k].as_string() for k in _COVERAGE_FIELDS),
    ).order_by(KbTitle.row, KbTitle.id).execution_options(yield_per=5000)
    # A KB repeats a few dozen coverage shapes: parse each once and share the (frozen)
    # result. Rows of one package that share a Coverage have equal decisions, so the
    # resolver's ``c is decision.coverage`` still finds the first of them, as before.
    coverages: dict[tuple[Any, ...], Coverage | None] = {}
    n = 0
    for r in session.connection().execute(stmt):
        rid, pid, rowno, norm, print_id, online_id, title_id, url = r[:8]
        if pid not in packages:  # imported after the mark was read: next rebuild has it
            continue
        fields = tuple(r[8:])
        try:
            cov = coverages[fields]
        except KeyError:
            cov = coverages[fields] = _coverage(fields, rid)
        h = TitleHolding(rid, pid, rowno, url, title_id, cov)
        n += 1
        if print_id:
            by_id.setdefault(print_id, []).append(h)
        if online_id and online_id != print_id:
            by_id.setdefault(online_id, []).append(h)
        if norm:
            by_title.setdefault(norm, []).append(h)
    return KbSnapshot(
        mark=mark, packages=packages,
        by_id={k: tuple(v) for k, v in by_id.items()},
        by_title={k: tuple(v) for k, v in by_title.items()},
        titles=n,
    )
