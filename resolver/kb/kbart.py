"""KBART (NISO RP-9-2014) file parsing; pure, bytes in, dataclasses out (re-import diffs:
:mod:`resolver.kb.diff`).

Real files are untidy (``docs/reference/kbart.md``): UTF-8 BOM, old-Mac CR
line ends, CRLF, Latin-1, quoted cells, Phase I headers (``coverage_notes``), local
extension columns, a header cell with a space instead of a tab, capitalised or German
``coverage_depth`` values. Good rows become :class:`KbartTitle`; bad rows are kept as
:class:`RejectedRow` with a reason in Vietnamese and English, so a librarian can fix the
file instead of wondering why a title is missing.

:class:`KbartReader` reads a file from a stream one row at a time (an aggregator's 600k
rows never sit in memory at once); :func:`parse_kbart` collects its rows. Bytes that are no
text — broken UTF-16, an image, an archive, a line of megabytes — are a
:class:`KbartError` or a rejected row, never an exception of another kind.

Why one module of ~650 lines: decoding, header reading and the per-row rules are one
pipeline over one format, tuned together (the row parser is compiled per header for the
600k-row files); split, each part would import the others' private state.
"""

from __future__ import annotations

import codecs
import contextlib
import datetime as dt
import functools
import io
import re
import unicodedata
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any, BinaryIO

from index.identifiers import is_canonical_isbn, is_canonical_issn, parse_isbn, parse_issn
from resolver.kb.coverage import Coverage, EmbargoError, parse_embargo, parse_kbart_date

__all__ = [
    "KBART_COLUMNS",
    "KbartError",
    "KbartParse",
    "KbartReader",
    "KbartTitle",
    "RejectedRow",
    "binary_kind",
    "decode_problem",
    "first_decode_error",
    "normalize_depth",
    "parse_kbart",
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
#: Rows read from one file; more are left out with a warning. A 600k-row package (the
#: largest aggregators') loads in 12-19 s on two cores (bench/kbart_import.py); a million
#: rows would come near the web server's 30 s: ``lienhop kb import`` has no such limit.
MAX_ROWS = 1_000_000
#: A longer line is no KBART row (a file without line ends, a pasted blob): it is rejected
#: without ever being held whole in memory.
MAX_LINE = 100_000
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
        """The row's coverage range for :func:`resolver.kb.coverage.covers`."""
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


@functools.lru_cache(maxsize=4096)
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


# --- reading the bytes ------------------------------------------------------------------

#: What the first bytes of a file that is not text at all say it is. A librarian who
#: uploads the vendor's .zip or an Excel workbook learns what to do instead of reading
#: "no KBART header".
_SIGNATURES: tuple[tuple[bytes, str, str], ...] = (
    (b"PK\x03\x04", "a ZIP archive or an Excel (.xlsx) workbook",
     "tệp nén ZIP hoặc bảng tính Excel (.xlsx)"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "an Excel (.xls) or Word (.doc) file",
     "tệp Excel (.xls) hoặc Word (.doc)"),
    (b"\x1f\x8b", "a gzip archive", "tệp nén gzip"),
    (b"%PDF-", "a PDF document", "tài liệu PDF"),
    (b"\x89PNG\r\n\x1a\n", "a PNG image", "ảnh PNG"),
    (b"\xff\xd8\xff", "a JPEG image", "ảnh JPEG"),
    (b"GIF8", "a GIF image", "ảnh GIF"),
    (b"7z\xbc\xaf\x27\x1c", "a 7-Zip archive", "tệp nén 7-Zip"),
    (b"Rar!\x1a\x07", "a RAR archive", "tệp nén RAR"),
)
_UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")
_SNIFF = 64 * 1024
_CHUNK = 1024 * 1024


def binary_kind(head: bytes) -> tuple[str, str] | None:
    """(English, Vietnamese) name of what ``head`` (a file's first bytes) is when it is not
    text: a known archive, document or image signature, or many NUL bytes outside UTF-16
    (a stray NUL in a text file only spoils its line)."""
    for magic, en, vi in _SIGNATURES:
        if head.startswith(magic):
            return en, vi
    if not head.startswith(_UTF16_BOMS) and head.count(0) > len(head) // 10:
        return ("binary data (NUL bytes; UTF-16 text needs its byte-order mark)",
                "dữ liệu nhị phân (có byte NUL; văn bản UTF-16 cần dấu thứ tự byte BOM)")
    return None


def decode_problem(exc: UnicodeDecodeError, offset: int = 0) -> tuple[str, str]:
    """(English, Vietnamese) of why bytes declared as ``exc.encoding`` do not decode."""
    where = offset + exc.start
    enc = exc.encoding.upper().replace("-LE", "").replace("-BE", "")
    if "truncated" in exc.reason or "unexpected end" in exc.reason:
        return (f"the file is {enc} text cut off in the middle of a character (byte {where})",
                f"tệp văn bản {enc} bị cắt giữa một ký tự (byte {where})")
    unit = exc.object[exc.start:exc.start + 2]
    if "surrogate" in exc.reason or (enc == "UTF-16" and len(unit) == 2 and 0xD8 <= (
            unit[1] if exc.encoding != "utf-16-be" else unit[0]) <= 0xDF):
        return (f"the file is not valid {enc}: half of a character (a lone surrogate) "
                f"at byte {where}",
                f"tệp không phải {enc} hợp lệ: nửa ký tự (surrogate đơn lẻ) tại byte {where}")
    return (f"the file is not valid {enc} at byte {where}",
            f"tệp không phải {enc} hợp lệ tại byte {where}")


def first_decode_error(stream: BinaryIO, encoding: str
                       ) -> tuple[UnicodeDecodeError, int] | None:
    """The first error decoding the rest of ``stream`` as ``encoding`` and the offset of
    the chunk it is about (None: it decodes), read chunk by chunk; ``stream`` is left where
    it was."""
    start = stream.tell()
    decoder = codecs.getincrementaldecoder(encoding)()
    done = 0
    try:
        while chunk := stream.read(_CHUNK):
            decoder.decode(chunk)
            done += len(chunk)
        decoder.decode(b"", final=True)
    except UnicodeDecodeError as exc:
        # The decoder keeps at most a few bytes of one chunk for the next: the error's
        # positions count from those, close enough to point at the bad character.
        return exc, done
    finally:
        stream.seek(start)
    return None


def _open_text(stream: BinaryIO, warnings: list[str]) -> io.TextIOWrapper:
    """``stream`` as text lines with universal line ends, or KbartError when it is no text."""
    start = stream.tell()
    head = stream.read(_SNIFF)
    stream.seek(start)
    kind = binary_kind(head)
    if kind is not None:
        raise KbartError(f"the file is {kind[0]}, not tab-separated KBART text",
                         f"tệp là {kind[1]}, không phải văn bản KBART phân cách bằng tab")
    errors = "strict"
    if head.startswith(_UTF16_BOMS):
        warnings.append("UTF-16 file decoded")
        encoding = "utf-16"
        error = first_decode_error(stream, encoding)
        if error is not None:
            en, vi = decode_problem(*error)
            raise KbartError(f"{en}; save it again as UTF-8 text",
                             f"{vi}; hãy lưu lại tệp dưới dạng văn bản UTF-8")
    else:
        if head.startswith(codecs.BOM_UTF8):
            stream.seek(start + 3)
        encoding = "utf-8"
        if first_decode_error(stream, encoding) is not None:
            warnings.append("file is not UTF-8; decoded as Windows-1252/Latin-1")
            encoding, errors = "cp1252", "replace"
    return io.TextIOWrapper(stream, encoding=encoding, errors=errors, newline=None)


def _lines(text: io.TextIOWrapper) -> Iterator[tuple[int, str | None]]:
    """(line number, line without its end) for every line; None for a line longer than
    :data:`MAX_LINE`, whose rest is skipped unread into memory."""
    n = 0
    while line := text.readline(MAX_LINE + 1):
        n += 1
        if line[-1] == "\n":
            yield n, line[:-1]
        elif len(line) <= MAX_LINE:  # the last line, without a line end
            yield n, line
        else:
            while (rest := text.readline(MAX_LINE)) and rest[-1] != "\n":
                pass
            yield n, None


def _cells(line: str) -> list[str]:
    if '"' not in line:
        return [c.strip() for c in line.split("\t")]
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
    """The canonical ISSN or ISBN-13 of an identifier cell, by ``index.identifiers``' rules;
    a cell that is neither, or whose check digit is wrong, rejects the row (a title under a
    wrong number would never be found)."""
    if not raw:
        return None
    s = raw.strip()
    if is_canonical_issn(s) or is_canonical_isbn(s):  # what nearly every row has: fast path
        return s
    if s.lower() in _NO_VALUE:
        return None
    kind, n = "ISSN", parse_issn(s)
    if n is None:
        kind, n = "ISBN", parse_isbn(s)
    if n is None:
        digits = re.sub(r"[^\dXx]", "", s)
        kind = "ISBN" if monograph or len(digits) in (10, 13) else "ISSN"
        raise _Reject(f"{col}: {_q(raw)} is not an {kind}",
                      f"{col}: {_q(raw)} không phải {kind}")
    if not n.valid:
        raise _Reject(f"{col}: {kind} {_q(raw)} has a wrong check digit",
                      f"{col}: {kind} {_q(raw)} sai số kiểm tra")
    return n.value


class _Cache(dict[Any, Any]):
    """Answers for cell values that repeat down a file (dates, embargoes, types), kept
    bounded: a file of unique values costs the plain work, never unbounded memory."""

    LIMIT = 50_000

    def put(self, key: Any, value: Any) -> Any:
        if len(self) >= self.LIMIT:
            self.clear()
        self[key] = value
        return value


_dates = _Cache()
_embargoes = _Cache()


def _kbart_date(raw: str, end: bool) -> dt.date | None:
    """:func:`parse_kbart_date`, remembered; ValueError for a bad date, as there."""
    key = (raw, end)
    try:
        got = _dates[key]
    except KeyError:
        try:
            got = _dates.put(key, parse_kbart_date(raw, end=end))
        except ValueError as exc:
            got = _dates.put(key, exc)
    if isinstance(got, ValueError):
        raise got
    assert got is None or isinstance(got, dt.date)  # the cache holds dates or the error
    return got


def _date(raw: str | None, col: str, *, end: bool) -> str | None:
    if not raw:
        return None
    try:
        _kbart_date(raw, end)
    except ValueError:
        raise _Reject(f"{col}: {_q(raw)} is not a date (YYYY, YYYY-MM or YYYY-MM-DD)",
                      f"{col}: {_q(raw)} không phải ngày hợp lệ (YYYY, YYYY-MM, YYYY-MM-DD)"
                      ) from None
    # Drop a "00:00:00" time part; cutting at ten characters would cut "2008-5-1 00:00"
    # into "2008-5-1 0", which is no date.
    return _TIME_PART.split(raw.strip(), maxsplit=1)[0]


_TIME_PART = re.compile(r"[ T]")


def _embargo(raw: str | None) -> str | None:
    """The normalised embargo ("P1Y"), None when empty; _Reject when malformed."""
    if not raw:
        return None
    try:
        got = _embargoes[raw]
    except KeyError:
        try:
            parse_embargo(raw)
            got = _embargoes.put(raw, re.sub(r"\s+", "", raw).upper())
        except EmbargoError:
            got = _embargoes.put(raw, None)
    if got is None:
        embargo = _q(raw)
        raise _Reject(f"embargo_info {embargo} is not [R|P]<n>[D|M|Y]",
                      f"embargo_info {embargo} sai cú pháp [R|P]<n>[D|M|Y]")
    return str(got)


_KNOWN = frozenset(KBART_COLUMNS)
_RowParser = Callable[[list[str]], dict[str, Any]]


def _row_parser(cols: list[str]) -> _RowParser:
    """A parser of rows under the header ``cols``: NFC cells in (list, stripped) -> the
    row's KbartTitle fields but ``row``, in field order, only those with a value; raises
    _Reject. Cells are found by position, worked out once here (a name given twice keeps
    its last cell, as a dict built from the row would)."""
    where: dict[str, int] = {}
    for i, name in enumerate(cols):
        where[name] = i
    width = len(cols)
    pad = [""] * width
    # -1 is an empty cell appended to every row: the place of a column the file lacks.
    (p_title, p_print, p_online, p_first, p_fvol, p_fiss, p_last, p_lvol, p_liss, p_url,
     p_author, p_tid, p_embargo, p_depth, p_notes, p_publisher, p_type, p_mprint, p_monline,
     p_mvol, p_medition, p_editor, p_parent, p_preceding, p_access,
     ) = (where.get(name, -1) for name in KBART_COLUMNS)
    extra = [(name, i) for name, i in where.items() if name not in _KNOWN]

    def parse(c: list[str]) -> dict[str, Any]:
        if len(c) < width:
            c.extend(pad[len(c):])
        c.append("")
        title = c[p_title]
        if not title:
            raise _Reject("no publication_title", "thiếu tên ấn phẩm (publication_title)")
        ptype = c[p_type].lower() or None
        if ptype is not None and ptype != "serial" and ptype != "monograph":
            ptype = "monograph" if ptype.startswith(("mono", "book")) else "serial"
        monograph = ptype == "monograph"
        f: dict[str, Any] = {"publication_title": " ".join(title.split())}
        if c[p_print] and (ident := _identifier(c[p_print], "print_identifier", monograph)):
            f["print_identifier"] = ident
        if c[p_online] and (ident := _identifier(c[p_online], "online_identifier", monograph)):
            f["online_identifier"] = ident
        first = _date(c[p_first], "date_first_issue_online", end=False)
        last = _date(c[p_last], "date_last_issue_online", end=True)
        first_day = _kbart_date(first, False) if first else None
        last_day = _kbart_date(last, True) if last else None
        if first_day and last_day and first_day > last_day:
            raise _Reject("date_first_issue_online is after date_last_issue_online",
                          "ngày số đầu sau ngày số cuối")
        mprint = _date(c[p_mprint], "date_monograph_published_print", end=False)
        monline = _date(c[p_monline], "date_monograph_published_online", end=False)
        embargo = _embargo(c[p_embargo])
        url = c[p_url]
        if url and not url[:8].lower().startswith(("http://", "https://")):
            raise _Reject(f"title_url {_q(url)} is not an http(s) URL",
                          f"title_url {_q(url)} không phải URL http(s)")
        if first:
            f["date_first_issue_online"] = first
        if x := c[p_fvol]:
            f["num_first_vol_online"] = x
        if x := c[p_fiss]:
            f["num_first_issue_online"] = x
        if last:
            f["date_last_issue_online"] = last
        if x := c[p_lvol]:
            f["num_last_vol_online"] = x
        if x := c[p_liss]:
            f["num_last_issue_online"] = x
        if url:
            f["title_url"] = url
        if x := c[p_author]:
            f["first_author"] = x
        if x := c[p_tid]:
            f["title_id"] = x
        if embargo:
            f["embargo_info"] = embargo
        f["coverage_depth"] = normalize_depth(c[p_depth] or None)
        if x := c[p_notes]:
            f["notes"] = x
        if x := c[p_publisher]:
            f["publisher_name"] = x
        if ptype:
            f["publication_type"] = ptype
        if mprint:
            f["date_monograph_published_print"] = mprint
        if monline:
            f["date_monograph_published_online"] = monline
        if x := c[p_mvol]:
            f["monograph_volume"] = x
        if x := c[p_medition]:
            f["monograph_edition"] = x
        if x := c[p_editor]:
            f["first_editor"] = x
        if x := c[p_parent]:
            f["parent_publication_title_id"] = x
        if x := c[p_preceding]:
            f["preceding_publication_title_id"] = x
        access = c[p_access].upper()
        if access == "F" or access == "P":
            f["access_type"] = access
        if extra and (more := {name: c[i] for name, i in extra if c[i]}):
            f["extra"] = more
        return f

    return parse


class KbartReader:
    """A KBART file read from a binary stream one row at a time, in bounded memory.

    Opening reads the header (raising :class:`KbartError` when the bytes are not text in
    a known encoding, or have no KBART header); iterating yields ``(line number, fields)``
    for a good row (:class:`KbartTitle` keyword arguments but ``row``, only those with a
    value) and a :class:`RejectedRow` for a bad one. ``warnings`` grows while iterating.
    The stream is read from its current position and never closed.
    """

    def __init__(self, stream: BinaryIO) -> None:
        self.warnings: list[str] = []
        self.columns: list[str] = []
        self.rows_read = 0
        self._text = _open_text(stream, self.warnings)
        try:
            self._lines = _lines(self._text)
            self._read_header()
        except BaseException:
            self.close()
            raise

    def _read_header(self) -> None:
        for n, line in self._lines:
            if line is None:
                en = f"line {n} is longer than {MAX_LINE:,} characters: not a KBART header"
                vi = f"dòng {n} dài hơn {MAX_LINE:,} ký tự: không phải dòng tiêu đề KBART"
                raise KbartError(en, vi, [RejectedRow(n, en, vi)])
            if not line.strip():
                continue
            cols = _header(_cells(line), self.warnings)
            if ("\x00" in line or "publication_title" not in cols
                    or len(set(cols) & _KNOWN) < 3):
                en = "no KBART header row (publication_title, print_identifier, …)"
                vi = "không có dòng tiêu đề KBART (publication_title, print_identifier, …)"
                raise KbartError(en, vi, [RejectedRow(n, f"{en}: line starts {_q(line)}",
                                                      f"{vi}: dòng bắt đầu bằng {_q(line)}",
                                                      line[:500])])
            self.columns = cols
            return
        raise KbartError("empty KBART file", "tệp KBART rỗng")

    def __iter__(self) -> Iterator[tuple[int, dict[str, Any]] | RejectedRow]:
        width = len(self.columns)
        parse = _row_parser(self.columns)
        beyond = 0
        normalize = unicodedata.normalize
        for n, line in self._lines:
            if line is None:
                yield RejectedRow(n, f"the line is longer than {MAX_LINE:,} characters",
                                  f"dòng dài hơn {MAX_LINE:,} ký tự")
                continue
            if not line or line.isspace():
                continue
            if self.rows_read == MAX_ROWS:
                self.warnings.append(f"only the first {MAX_ROWS} rows were read")
                break
            self.rows_read += 1
            if "\x00" in line:  # no database keeps a NUL in text
                yield RejectedRow(n, "the line holds a NUL character (binary data)",
                                  "dòng chứa ký tự NUL (dữ liệu nhị phân)",
                                  line[:500].replace("\x00", ""))
                continue
            # NFC of the line is NFC of each cell: a tab never combines with its neighbours.
            cells = _cells(normalize("NFC", line) if not line.isascii() else line)
            if len(cells) > width and any(cells[width:]):
                beyond += 1
                if beyond <= _BEYOND_WARNINGS:
                    self.warnings.append(f"row {n}: {len(cells) - width} cells beyond header")
            try:
                yield n, parse(cells)
            except _Reject as r:
                yield RejectedRow(n, r.en, r.vi, line[:500])
        if beyond > _BEYOND_WARNINGS:
            self.warnings.append(f"… and {beyond - _BEYOND_WARNINGS} more rows with cells "
                                 "beyond the header")
        if self._text.newlines == "\r":
            self.warnings.append("old-Mac CR line ends")

    def close(self) -> None:
        """Let go of the stream without closing it (the caller owns it)."""
        with contextlib.suppress(ValueError):
            self._text.detach()


#: "cells beyond header" warnings given one by one before they are only counted.
_BEYOND_WARNINGS = 50


def parse_kbart(data: bytes) -> KbartParse:
    """Parse a KBART file. Raises KbartError only when there is no KBART header at all
    (or the bytes are not text)."""
    reader = KbartReader(io.BytesIO(data))
    try:
        result = KbartParse(columns=reader.columns, warnings=reader.warnings)
        for item in reader:
            if isinstance(item, RejectedRow):
                result.rejected.append(item)
            else:
                result.titles.append(KbartTitle(row=item[0], **item[1]))
    finally:
        reader.close()
    return result
