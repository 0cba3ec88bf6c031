"""Report rows as tables, month series and CSV: what pages render and downloads write.

Pure: rows in (any report's dataclasses), a :class:`Table`, series or bytes out.
Column and kind names are given in Vietnamese and English here, once for every report.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Sequence
from dataclasses import dataclass, field, fields
from typing import Any

from resolver.usage.rollup import MonthCount, months_between

__all__ = [
    "KIND_LABELS",
    "OUTCOME_LABELS",
    "Column",
    "Table",
    "csv_bytes",
    "make_table",
    "pivot",
    "write_csv",
]

#: what a click's target kind is called in reports (the issue's words)
KIND_LABELS = {
    "fulltext": ("Toàn văn (thuê bao)", "Full text (subscription)"),
    "open": ("Bản truy cập mở", "Open copy"),
    # a member's restricted record (resolver/linking/member_records.py): not a download
    "repository": ("Trang biểu ghi tại kho thành viên", "Record page in a member repository"),
    "publisher": ("Trang nhà xuất bản (DOI)", "Publisher's page (DOI)"),
    "delivery": ("Cung cấp tài liệu", "Document delivery"),
    "catalogue": ("Mục lục thư viện", "Library catalogue"),
}
OUTCOME_LABELS = {
    "fulltext": ("Có toàn văn", "Full text available"),
    "open": ("Chỉ có bản mở", "Open copy only"),
    "turnaway": ("Bị từ chối (chưa mua)", "Turnaway (not subscribed)"),
    "restricted": ("Chỉ có biểu ghi hạn chế ở kho thành viên",
                   "Restricted in a member repository"),
    "nomatch": ("Không tìm thấy", "No match"),
}


@dataclass(frozen=True)
class Column:
    key: str
    label_vi: str
    label_en: str


@dataclass
class Table:
    """A report as a table: what pages render and CSV downloads write."""

    name: str
    label_vi: str
    label_en: str
    columns: list[Column]
    rows: list[list[Any]] = field(default_factory=list)

    def labels(self, lang: str = "vi") -> list[str]:
        return [c.label_en if lang == "en" else c.label_vi for c in self.columns]


_COLUMN_LABELS = {
    "month": ("Tháng", "Month"),
    "count": ("Số lượt", "Count"),
    "institution": ("Thư viện", "Institution"),
    "package": ("Gói", "Package"),
    "kind": ("Loại", "Kind"),
    "year": ("Năm", "Year"),
    "currency": ("Tiền tệ", "Currency"),
    "cost": ("Chi phí", "Cost"),
    "downloads": ("Lượt tải", "Downloads"),
    "cost_per_download": ("Chi phí/lượt tải", "Cost per download"),
    "change": ("Thay đổi so với năm trước", "Change from the year before"),
    "downloads_to_date": ("Lượt tải lũy kế", "Downloads to date"),
    "cost_to_date": ("Chi phí lũy kế", "Cost to date"),
    "cost_per_download_to_date": ("Chi phí/lượt tải lũy kế", "Cost per download to date"),
    "cost_per_download_in_month": ("Chi phí/lượt tải trong tháng",
                                   "Cost per download in the month"),
}


def make_table(name: str, label_vi: str, label_en: str, rows: Sequence[Any], *,
               columns: Sequence[str] | None = None) -> Table:
    """Rows of any report dataclass -> a :class:`Table` (``columns`` picks and orders;
    by default the fields that are set in at least one row)."""
    if columns is None:
        keys = [f.name for f in fields(rows[0])] if rows else ["month", "count"]
        columns = [k for k in keys if any(getattr(r, k) is not None for r in rows)] or keys
        if "month" in columns:  # month first: the way people read these tables
            columns = ["month", *[c for c in columns if c != "month"]]
    cols = [Column(k, *_COLUMN_LABELS.get(k, (k, k))) for k in columns]
    return Table(name, label_vi, label_en, cols,
                 [[getattr(r, k) for k in columns] for r in rows])


def pivot(rows: Sequence[MonthCount], series: str | None, start: dt.date, end: dt.date
          ) -> tuple[list[dt.date], dict[str, list[int]]]:
    """Month series for charts and month-by-column tables: every month from ``start`` to
    ``end`` (missing months count 0), one series per value of the ``series`` dimension
    (None: a single series ``"total"``)."""
    months = months_between(start, end)
    index = {m: i for i, m in enumerate(months)}
    out: dict[str, list[int]] = {}
    for r in rows:
        key = (getattr(r, series) or "—") if series else "total"
        values = out.setdefault(key, [0] * len(months))
        if r.month in index:
            values[index[r.month]] += r.count
    return months, dict(sorted(out.items()))


def _cell(value: Any) -> Any:
    if isinstance(value, dt.date):
        return value.strftime("%Y-%m") if value.day == 1 else value.isoformat()
    if value is None:
        return ""
    return value


def write_csv(table: Table, fp: io.TextIOBase, *, lang: str = "vi") -> None:
    """Write a table as CSV to a text stream (header of labels in ``lang``)."""
    w = csv.writer(fp, lineterminator="\r\n")
    w.writerow(table.labels(lang))
    for row in table.rows:
        w.writerow([_cell(v) for v in row])


def csv_bytes(table: Table, *, lang: str = "vi") -> bytes:
    """A table as CSV bytes, UTF-8 *with a byte-order mark*.

    Excel (still what most member libraries open reports with) reads a CSV without a BOM
    in the machine's legacy code page, which turns "Đại học Huế" into mojibake; the BOM is
    how it recognises UTF-8. Other tools ignore it.
    """
    buf = io.StringIO()
    write_csv(table, buf, lang=lang)
    return buf.getvalue().encode("utf-8-sig")
