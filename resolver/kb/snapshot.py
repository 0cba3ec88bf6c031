"""The in-memory snapshot of the knowledge base the resolver reads.

A citation used to cost one SQL query plus ORM loading and a KBART coverage parse per
matched row; the snapshot does that once per process and KB change, leaving a dict lookup.
:func:`kb_titles_mark` says cheaply whether a snapshot is still current; the resolver
(:mod:`resolver.linking.service`) rebuilds it when the mark moves.
"""

from __future__ import annotations

import itertools
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from resolver.kb.coverage import Coverage
from resolver.kb.models import KbTitle, Package
from resolver.kb.rows import fold_title, stored_field

__all__ = [
    "KbSnapshot",
    "PackageInfo",
    "TitleHolding",
    "kb_generation",
    "kb_packages",
    "kb_titles_mark",
    "load_kb_snapshot",
    "titles_changed",
]

log = logging.getLogger("lienhop.kb")

_generation = itertools.count(1)
_titles_generation = 0


def titles_changed() -> None:
    """Note that this process committed new titles (the importer calls it after a commit)."""
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

    Titles are only written by :func:`resolver.kb.importer.import_kbart`, which also stamps
    the package's ``imported_at``, or removed with their package, so the package rows plus
    the highest title id change whenever the titles do; the in-process generation covers an
    import with a caller-supplied ``today``. (``count(*)`` over 50k titles would cost 3 ms.)
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
        """:func:`resolver.kb.holdings.holdings_rows` answered from memory (same matching,
        same order)."""
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
        *(stored_field(k) for k in _COVERAGE_FIELDS),
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
