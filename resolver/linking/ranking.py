"""Order the targets offered for a citation (pure; the DB layer supplies the candidates).

Order: (1) available full text in an entitled package whose coverage includes the
citation, article-level links before title-level ones; (2) open copies, our own index
before other open platforms; (3) a consortium member's own restricted record: its record
page in the member repository, then (4) its DOI, the publisher's page; (5) the catalogue;
(6) document delivery. Full-text targets that are not available are still listed, last,
with the reason, so that users and librarians can see *why* ("ScienceDirect covers 1995–
but your institution is not in the sub-consortium").

(3) and (4) always come below every full text and open copy: they are pages about the
article, where the file may be closed to the reader, so they are never a direct redirect
(:func:`best_redirect`). They come above the catalogue because they name this very article,
while the catalogue link is a search.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date

from resolver.kb.coverage import CoverageDecision
from resolver.openurl import Citation

__all__ = [
    "CatalogueLink",
    "DeliveryOption",
    "Grant",
    "Holding",
    "OpenCopy",
    "DoiLink",
    "RecordPage",
    "Target",
    "best_redirect",
    "is_entitled",
    "rank_targets",
]


@dataclass(frozen=True, slots=True)
class Grant:
    """An institution's right to a package from *start* to *end*, both inclusive."""

    institution: str
    start: date | None = None  # None = since always
    end: date | None = None  # None = still running


def is_entitled(entitlements: Iterable[Grant], institution: str | None,
                today: date) -> bool:
    """True when *institution* holds an entitlement running on *today*.

    Dates are inclusive, so a member joining on 1 July has access from 1 July.
    """
    if not institution:
        return False
    return any(
        e.institution == institution
        and (e.start is None or e.start <= today)
        and (e.end is None or today <= e.end)
        for e in entitlements
    )


@dataclass(frozen=True, slots=True)
class Holding:
    """A package that has the title, with the coverage verdict and computed links."""

    package: str
    entitlements: Sequence[Grant]
    decision: CoverageDecision
    article_url: str | None = None
    title_url: str | None = None


@dataclass(frozen=True, slots=True)
class OpenCopy:
    """An open-access copy: ``source`` is "index" (ours) or "platform" (e.g. a repository);
    ``name_en`` names it on English pages when its name differs there (an institution's)."""

    url: str
    name: str
    source: str = "platform"
    name_en: str = ""


@dataclass(frozen=True, slots=True)
class RecordPage:
    """The record page of a restricted article in the member repository it was harvested
    from: ``name``/``name_en`` name the repository's institution in Vietnamese and English."""

    url: str
    name: str
    name_en: str = ""


@dataclass(frozen=True, slots=True)
class DoiLink:
    """A DOI and the ``https://doi.org/`` URL built from it (the publisher's page)."""

    url: str
    doi: str


@dataclass(frozen=True, slots=True)
class CatalogueLink:
    url: str
    name: str = ""


@dataclass(frozen=True, slots=True)
class DeliveryOption:
    url: str
    name: str = ""


@dataclass(frozen=True, slots=True)
class Target:
    """One line of the resolver menu."""

    kind: str  # "fulltext" | "open" | "repository" | "publisher" | "catalogue" | "delivery"
    label_vi: str
    label_en: str
    package: str | None
    available: bool
    reason_vi: str
    reason_en: str
    url: str | None
    level: str | None = None  # "article" | "title" for full text
    partial: bool = False  # coverage only partly confirmed ("check the issue")


def _fulltext(h: Holding, institution: str | None, today: date) -> Target:
    d = h.decision
    url = h.article_url or h.title_url
    level = "article" if h.article_url else "title" if h.title_url else None
    if level == "article":
        lvi, len_ = f"Toàn văn bài viết – {h.package}", f"Full text of the article – {h.package}"
    else:
        lvi, len_ = f"Trang ấn phẩm – {h.package}", f"Publication page – {h.package}"
    entitled = is_entitled(h.entitlements, institution, today)
    if not entitled:
        cvi, cen = d.coverage_text()
        if institution is None:
            rvi = (f"{h.package}: {cvi}, nhưng chưa xác định được thư viện của bạn "
                   "(hãy truy cập từ mạng của thư viện hoặc chọn thư viện)")
            ren = (f"{h.package} {cen}, but we could not tell which library you belong to "
                   "(use your library's network or choose your library)")
        else:
            rvi = f"{h.package}: {cvi}, nhưng thư viện của bạn không tham gia gói này"
            ren = f"{h.package} {cen}, but your institution is not in the sub-consortium"
        return Target("fulltext", lvi, len_, h.package, False, rvi, ren, url, level)
    if not d.covered:
        return Target("fulltext", lvi, len_, h.package, False, d.reason_vi, d.reason_en,
                      url, level)
    if url is None:
        return Target("fulltext", lvi, len_, h.package, False,
                      f"{d.reason_vi}, nhưng chưa có liên kết", f"{d.reason_en}, but no link",
                      None, None)
    return Target("fulltext", lvi, len_, h.package, True, d.reason_vi, d.reason_en, url, level,
                  partial=d.partial)


def rank_targets(
    citation: Citation,
    institution: str | None,
    holdings: Iterable[Holding],
    open_copies: Iterable[OpenCopy] = (),
    catalogue: Iterable[CatalogueLink] = (),
    delivery: Iterable[DeliveryOption] = (),
    *,
    today: date,
    record_pages: Iterable[RecordPage] = (),
    doi_links: Iterable[DoiLink] = (),
) -> list[Target]:
    """Ordered targets (see module docstring). Ties keep the caller's order."""
    fulltext = [_fulltext(h, institution, today) for h in holdings]
    available = [t for t in fulltext if t.available]
    available.sort(key=lambda t: 0 if t.level == "article" else 1)  # stable
    unavailable = [t for t in fulltext if not t.available]

    opens = sorted(open_copies, key=lambda o: 0 if o.source == "index" else 1)
    open_targets = [
        Target("open",
               f"Bản truy cập mở – {o.name}", f"Open access copy – {o.name_en or o.name}",
               None, True,
               "Bản tự do, không cần đăng nhập" if o.source != "index"
               else "Bản tự do trong kho của Liên hợp",
               "Free copy, no sign-in needed" if o.source != "index"
               else "Free copy in the consortium's own index",
               o.url)
        for o in opens
    ]
    page_targets = [
        Target("repository",
               f"Trang biểu ghi tại kho của {p.name} (có thể hạn chế truy cập)",
               f"Record page in the {p.name_en or p.name} repository (access may be restricted)",
               None, True,
               "Biểu ghi trong kho của thành viên Liên hợp; toàn văn có thể chỉ dành cho "
               "người dùng của trường",
               "The record in a consortium member's repository; the full text may be open "
               "only to that institution's users",
               p.url)
        for p in record_pages
    ]
    doi_targets = [
        Target("publisher", f"Trang của nhà xuất bản (DOI {d.doi})",
               f"Publisher's page (DOI {d.doi})", None, True,
               "Qua DOI; nhà xuất bản có thể yêu cầu đăng nhập hoặc trả phí",
               "Through the DOI; the publisher may ask for a sign-in or payment",
               d.url)
        for d in doi_links
    ]
    cat_targets = [
        Target("catalogue", f"Tìm trong mục lục {c.name}".strip(),
               f"Find in the {c.name} catalogue".replace("the  ", "the "), None, True,
               "Xem bản in hoặc bản điện tử trong thư viện",
               "Check print or electronic holdings in the library", c.url)
        for c in catalogue
    ]
    del_targets = [
        Target("delivery", f"Yêu cầu cung cấp tài liệu {d.name}".strip(),
               f"Request document delivery {d.name}".strip(), None, True,
               "Thư viện sẽ tìm bản sao cho bạn", "The library will obtain a copy for you",
               d.url)
        for d in delivery
    ]
    _ = citation  # kept in the signature: future boosts depend on genre (book vs article)
    return (available + open_targets + page_targets + doi_targets + cat_targets + del_targets
            + unavailable)


def best_redirect(targets: Sequence[Target]) -> Target | None:
    """Target for a direct redirect: the first available full text or open copy.

    Only article-level full text (or an open copy) qualifies, and not when coverage was
    only partly confirmed: sending a user to a journal home page without saying so is
    the "wrong or no match" complaint resolvers get most.
    """
    for t in targets:
        if not t.available or t.url is None or t.kind not in ("fulltext", "open"):
            continue
        if t.kind == "fulltext" and (t.level != "article" or t.partial):
            continue
        return t
    return None
