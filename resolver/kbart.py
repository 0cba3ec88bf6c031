"""KBART (NISO RP-9-2014) file parsing and re-import diffs; pure, bytes in, dataclasses out.

Real files are untidy (see ``/work/shared/data/kbart/SOURCES.md``): UTF-8 BOM, old-Mac CR
line ends, CRLF, Latin-1, quoted cells, Phase I headers (``coverage_notes``), local
extension columns, a header cell with a space instead of a tab, capitalised or German
``coverage_depth`` values. Good rows become :class:`KbartTitle`; bad rows are kept as
:class:`RejectedRow` with a reason in Vietnamese and English, so a librarian can fix the
file instead of wondering why a title is missing.
"""

from __future__ import annotations

import dataclasses
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field

from resolver.coverage import Coverage, EmbargoError, parse_embargo, parse_kbart_date
from resolver.openurl import normalize_isbn, normalize_issn

__all__ = [
    "KBART_COLUMNS",
    "KbartError",
    "KbartParse",
    "KbartTitle",
    "RejectedRow",
    "TitleChange",
    "TitleDiff",
    "diff_titles",
    "normalize_depth",
    "parse_kbart",
    "title_key",
]

KBART_COLUMNS = (
    "publication_title", "print_identifier", "online_identifier",
    "date_first_issue_online", "num_first_vol_online", "num_first_issue_online",
    "date_last_issue_online", "num_last_vol_online", "num_last_issue_online",
    "title_url", "first_author", "title_id", "embargo_info", "coverage_depth", "notes",
    "publisher_name", "publication_type", "date_monograph_published_print",
    "date_monograph_published_online", "monograph_volume", "monograph_edition",
    "first_editor", "parent_publication_title_id", "preceding_publication_title_id",
    "access_type",
)
# Phase I and vendor spellings of Phase II names.
_ALIASES = {
    "coverage_notes": "notes",
    "parent_publication_id": "parent_publication_title_id",
    "preceding_publication_id": "preceding_publication_title_id",
    "title": "publication_title",
    "publication_name": "publication_title",
    "embargo": "embargo_info",
    "depth": "coverage_depth",
}
_DEPTHS = {
    "fulltext": "fulltext", "full text": "fulltext", "full-text": "fulltext",
    "volltext": "fulltext", "texte intégral": "fulltext", "texte integral": "fulltext",
    "toàn văn": "fulltext", "testo completo": "fulltext", "texto completo": "fulltext",
    "abstracts": "abstracts", "abstract": "abstracts", "résumés": "abstracts",
    "resumes": "abstracts", "tóm tắt": "abstracts", "zusammenfassungen": "abstracts",
    "selected articles": "selected articles", "selected": "selected articles",
    "ausgewählte artikel": "selected articles", "articles sélectionnés": "selected articles",
    "bài chọn lọc": "selected articles",
    "index": "index", "indexed": "index", "index only": "index",
}
MAX_ROWS = 500_000
_NO_VALUE = {"n/a", "na", "-", "none", "null", "unknown"}


class KbartError(ValueError):
    """The data has no recognisable KBART header.

    ``rejected`` names the line taken for the header (with the reason in both languages),
    so a report can point at it like at any rejected row; it is empty for an empty file.
    """

    def __init__(self, message: str, message_vi: str = "",
                 rejected: Iterable[RejectedRow] = ()) -> None:
        super().__init__(message)
        self.message_vi = message_vi or message
        self.rejected = list(rejected)


@dataclass(slots=True)
class KbartTitle:
    """One KBART row (Phase II columns, normalised) plus unknown columns in ``extra``."""

    row: int
    publication_title: str
    print_identifier: str | None = None
    online_identifier: str | None = None
    date_first_issue_online: str | None = None
    num_first_vol_online: str | None = None
    num_first_issue_online: str | None = None
    date_last_issue_online: str | None = None
    num_last_vol_online: str | None = None
    num_last_issue_online: str | None = None
    title_url: str | None = None
    first_author: str | None = None
    title_id: str | None = None
    embargo_info: str | None = None
    coverage_depth: str = "fulltext"
    notes: str | None = None
    publisher_name: str | None = None
    publication_type: str | None = None  # "serial" | "monograph"
    date_monograph_published_print: str | None = None
    date_monograph_published_online: str | None = None
    monograph_volume: str | None = None
    monograph_edition: str | None = None
    first_editor: str | None = None
    parent_publication_title_id: str | None = None
    preceding_publication_title_id: str | None = None
    access_type: str | None = None  # "F" free | "P" paid
    extra: dict[str, str] = field(default_factory=dict)

    def coverage(self) -> Coverage:
        """The row's coverage range for :func:`resolver.coverage.covers`."""
        return Coverage.from_kbart(
            self.date_first_issue_online,
            self.date_last_issue_online,
            first_volume=self.num_first_vol_online,
            first_issue=self.num_first_issue_online,
            last_volume=self.num_last_vol_online,
            last_issue=self.num_last_issue_online,
            embargo=self.embargo_info,
            depth=self.coverage_depth,
        )

    @property
    def key(self) -> str:
        """Stable identity across re-imports (see :func:`title_key`)."""
        return title_key(self)


@dataclass(frozen=True, slots=True)
class RejectedRow:
    """A row that was not imported, with the reason in both languages."""

    row: int
    reason_en: str
    reason_vi: str
    raw: str = ""

    @property
    def reason(self) -> str:
        return self.reason_en


@dataclass(slots=True)
class KbartParse:
    """Result of :func:`parse_kbart`."""

    titles: list[KbartTitle] = field(default_factory=list)
    rejected: list[RejectedRow] = field(default_factory=list)
    columns: list[str] = field(default_factory=list)  # normalised header
    warnings: list[str] = field(default_factory=list)


#: How much of a cell a reason quotes: a pasted blob must not make every reason huge.
_QUOTED = 60


def _q(raw: str) -> str:
    """``raw`` quoted for a reason, cut to its first characters."""
    return repr(raw if len(raw) <= _QUOTED else raw[:_QUOTED] + "…")


class _Reject(Exception):
    def __init__(self, en: str, vi: str) -> None:
        super().__init__(en)
        self.en, self.vi = en, vi


def normalize_depth(raw: str | None) -> str:
    """Map localised/capitalised coverage_depth to fulltext/abstracts/selected articles/index.

    Empty means fulltext (the common default of providers that omit the column).
    Unknown values are kept lower-cased so they show up in review rather than vanish.
    """
    if raw is None:
        return "fulltext"
    s = unicodedata.normalize("NFC", raw).strip().lower()
    s = re.sub(r"\s+", " ", s)
    if not s:
        return "fulltext"
    return _DEPTHS.get(s, _DEPTHS.get(s.replace("_", " "), s))


def _decode(data: bytes, warnings: list[str]) -> str:
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    elif data.startswith((b"\xff\xfe", b"\xfe\xff")):
        warnings.append("UTF-16 file decoded")
        return data.decode("utf-16")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        warnings.append("file is not UTF-8; decoded as Windows-1252/Latin-1")
        return data.decode("cp1252", errors="replace")


def _cells(line: str) -> list[str]:
    out = []
    for c in line.split("\t"):
        c = c.strip()
        if len(c) >= 2 and c[0] == c[-1] == '"':
            c = c[1:-1].replace('""', '"').strip()
        out.append(c)
    return out


def _header(cells: list[str], warnings: list[str]) -> list[str]:
    known = set(KBART_COLUMNS)
    cols: list[str] = []
    for c in cells:
        name = re.sub(r"[\s\-]+", "_", c.strip().lower().lstrip("\ufeff")).strip("_")
        parts = c.split()
        if len(parts) > 1 and all(p.lower() in known for p in parts):
            # "date_monograph_published_online monograph_volume": a tab typed as a space.
            warnings.append(f"header cell {c!r} split into {len(parts)} columns")
            cols.extend(p.lower() for p in parts)
            continue
        cols.append(_ALIASES.get(name, name))
    return cols


def _identifier(raw: str | None, col: str, monograph: bool) -> str | None:
    if not raw or raw.strip().lower() in _NO_VALUE:
        return None
    s = raw.strip()
    digits = re.sub(r"[\s\-‐]", "", s)
    looks_isbn = monograph or len(digits) in (10, 13) and not re.fullmatch(r"\d{7}[\dXx]", digits)
    if looks_isbn and len(digits) != 8:
        n = normalize_isbn(s)
        if n is None or re.search(r"[A-WYZa-wyz]", s):
            raise _Reject(f"{col}: {_q(raw)} is not an ISBN",
                          f"{col}: {_q(raw)} không phải ISBN")
        if not n.valid:
            raise _Reject(f"{col}: ISBN {_q(raw)} has a wrong check digit",
                          f"{col}: ISBN {_q(raw)} sai số kiểm tra")
        return n.value
    n = normalize_issn(s)
    if n is None or len(digits) != 8:
        raise _Reject(f"{col}: {_q(raw)} is not an ISSN", f"{col}: {_q(raw)} không phải ISSN")
    if not n.valid:
        raise _Reject(f"{col}: ISSN {_q(raw)} has a wrong check digit",
                      f"{col}: ISSN {_q(raw)} sai số kiểm tra")
    return n.value


def _date(raw: str | None, col: str, *, end: bool) -> str | None:
    if not raw:
        return None
    try:
        parse_kbart_date(raw, end=end)
    except ValueError:
        raise _Reject(f"{col}: {_q(raw)} is not a date (YYYY, YYYY-MM or YYYY-MM-DD)",
                      f"{col}: {_q(raw)} không phải ngày hợp lệ (YYYY, YYYY-MM, YYYY-MM-DD)"
                      ) from None
    return raw.strip()[:10]  # drop a "00:00:00" time part


def _row(values: dict[str, str], rowno: int) -> KbartTitle:
    v = {k: (unicodedata.normalize("NFC", x) if x else None) for k, x in values.items()}
    title = v.get("publication_title")
    if not title:
        raise _Reject("no publication_title", "thiếu tên ấn phẩm (publication_title)")
    ptype = (v.get("publication_type") or "").lower() or None
    if ptype not in (None, "serial", "monograph"):
        ptype = "monograph" if ptype.startswith(("mono", "book")) else "serial"
    monograph = ptype == "monograph"
    t = KbartTitle(row=rowno, publication_title=re.sub(r"\s+", " ", title).strip())
    t.print_identifier = _identifier(v.get("print_identifier"), "print_identifier", monograph)
    t.online_identifier = _identifier(v.get("online_identifier"), "online_identifier",
                                      monograph)
    t.date_first_issue_online = _date(v.get("date_first_issue_online"),
                                      "date_first_issue_online", end=False)
    t.date_last_issue_online = _date(v.get("date_last_issue_online"),
                                     "date_last_issue_online", end=True)
    if t.date_first_issue_online and t.date_last_issue_online and parse_kbart_date(
        t.date_first_issue_online, end=False
    ) > parse_kbart_date(t.date_last_issue_online, end=True):
        raise _Reject("date_first_issue_online is after date_last_issue_online",
                      "ngày số đầu sau ngày số cuối")
    for col in ("date_monograph_published_print", "date_monograph_published_online"):
        setattr(t, col, _date(v.get(col), col, end=False))
    try:
        parse_embargo(v.get("embargo_info"))
    except EmbargoError:
        embargo = _q(v.get("embargo_info") or "")
        raise _Reject(f"embargo_info {embargo} is not [R|P]<n>[D|M|Y]",
                      f"embargo_info {embargo} sai cú pháp [R|P]<n>[D|M|Y]"
                      ) from None
    t.embargo_info = re.sub(r"\s+", "", v["embargo_info"]).upper() if v.get(
        "embargo_info") else None
    url = v.get("title_url")
    if url and not re.match(r"https?://", url, re.I):
        raise _Reject(f"title_url {_q(url)} is not an http(s) URL",
                      f"title_url {_q(url)} không phải URL http(s)")
    t.title_url = url
    t.coverage_depth = normalize_depth(v.get("coverage_depth"))
    t.publication_type = ptype
    access = (v.get("access_type") or "").upper() or None
    t.access_type = access if access in ("F", "P") else None
    for col in ("num_first_vol_online", "num_first_issue_online", "num_last_vol_online",
                "num_last_issue_online", "first_author", "title_id", "notes",
                "publisher_name", "monograph_volume", "monograph_edition", "first_editor",
                "parent_publication_title_id", "preceding_publication_title_id"):
        setattr(t, col, v.get(col))
    t.extra = {k: x for k, x in v.items() if k not in KBART_COLUMNS and x}
    return t


def parse_kbart(data: bytes) -> KbartParse:
    """Parse a KBART file. Raises KbartError only when there is no KBART header at all."""
    result = KbartParse()
    text = _decode(data, result.warnings)
    if "\r" in text:
        if "\n" not in text:
            result.warnings.append("old-Mac CR line ends")
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    lines = text.split("\n")
    head_idx = next((i for i, line in enumerate(lines) if line.strip()), None)
    if head_idx is None:
        raise KbartError("empty KBART file", "tệp KBART rỗng")
    cols = _header(_cells(lines[head_idx]), result.warnings)
    if "publication_title" not in cols or len(set(cols) & set(KBART_COLUMNS)) < 3:
        line = lines[head_idx]
        en = "no KBART header row (publication_title, print_identifier, …)"
        vi = "không có dòng tiêu đề KBART (publication_title, print_identifier, …)"
        raise KbartError(en, vi, [RejectedRow(head_idx + 1, f"{en}: line starts {_q(line)}",
                                              f"{vi}: dòng bắt đầu bằng {_q(line)}",
                                              line[:500])])
    result.columns = cols
    for i in range(head_idx + 1, min(len(lines), head_idx + 1 + MAX_ROWS)):
        line = lines[i]
        if not line.strip():
            continue
        cells = _cells(line)
        rowno = i + 1
        if len(cells) > len(cols) and any(cells[len(cols):]):
            result.warnings.append(f"row {rowno}: {len(cells) - len(cols)} cells beyond header")
        values = dict(zip(cols, cells, strict=False))
        try:
            result.titles.append(_row(values, rowno))
        except _Reject as r:
            result.rejected.append(RejectedRow(rowno, r.en, r.vi, line[:500]))
    if len(lines) > head_idx + 1 + MAX_ROWS:
        result.warnings.append(f"only the first {MAX_ROWS} rows were read")
    return result


# --------------------------------------------------------------------------------------
# Re-import diff
# --------------------------------------------------------------------------------------

def title_key(t: KbartTitle) -> str:
    """Online id, else print id, else title_id, else the normalised title."""
    if t.online_identifier:
        return f"id:{t.online_identifier}"
    if t.print_identifier:
        return f"id:{t.print_identifier}"
    if t.title_id:
        return f"title_id:{t.title_id}"
    s = unicodedata.normalize("NFKD", t.publication_title.lower())
    s = "".join(ch for ch in s if not unicodedata.combining(ch))
    return "title:" + re.sub(r"[\W_]+", " ", s).strip()


@dataclass(frozen=True, slots=True)
class TitleChange:
    """A title present in both files whose rows differ; ``fields`` names what changed."""

    key: str
    old: tuple[KbartTitle, ...]
    new: tuple[KbartTitle, ...]
    fields: tuple[str, ...]


@dataclass(slots=True)
class TitleDiff:
    """Re-import report: rows grouped by title key."""

    added: list[KbartTitle] = field(default_factory=list)
    changed: list[TitleChange] = field(default_factory=list)
    removed: list[KbartTitle] = field(default_factory=list)


_IGNORED_IN_DIFF = {"row"}


def _content(t: KbartTitle) -> tuple:
    return tuple(
        (f.name, getattr(t, f.name) if f.name != "extra" else tuple(sorted(t.extra.items())))
        for f in dataclasses.fields(t)
        if f.name not in _IGNORED_IN_DIFF
    )


def _group(titles: Iterable[KbartTitle]) -> dict[str, list[KbartTitle]]:
    groups: dict[str, list[KbartTitle]] = {}
    for t in titles:
        groups.setdefault(title_key(t), []).append(t)
    return groups


def diff_titles(old: Iterable[KbartTitle], new: Iterable[KbartTitle]) -> TitleDiff:
    """Compare two imports; several coverage rows for one title are compared as a set."""
    og, ng = _group(old), _group(new)
    diff = TitleDiff()
    for key, rows in ng.items():
        if key not in og:
            diff.added.extend(rows)
            continue
        before = sorted(_content(t) for t in og[key])
        after = sorted(_content(t) for t in rows)
        if before != after:
            names = {
                name
                for b, a in zip(before, after, strict=False)
                for (name, bv), (_, av) in zip(b, a, strict=True)
                if bv != av
            }
            if len(before) != len(after):
                names.add("coverage rows")
            diff.changed.append(TitleChange(key, tuple(og[key]), tuple(rows),
                                            tuple(sorted(names))))
    for key, rows in og.items():
        if key not in ng:
            diff.removed.extend(rows)
    return diff
