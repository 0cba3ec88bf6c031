"""The source's type strings (DCMI, info:eu-repo, Vietnamese labels) → ``index.record.TYPES``."""

from __future__ import annotations

import re
from collections.abc import Iterable

from harvesters.normalize.text import clean_text

# Checked in order: a "doctoral thesis" must become a dissertation before "thesis" matches, a
# "bài báo hội thảo" a conference paper before "bài báo" makes it an article.
_TYPE_RULES: tuple[tuple[str, re.Pattern[str]], ...] = (
    (
        "dissertation",
        re.compile(
            r"doctoral|dissertation|ph\.?\s?d|luận án|tiến sĩ|tiến sỹ|luan an|tien si",
            re.IGNORECASE,
        ),
    ),
    (
        "thesis",
        re.compile(
            r"thesis|theses|luận văn|khóa luận|khoá luận|thạc sĩ|thạc sỹ|cử nhân|luan van"
            r"|khoa luan|master|bachelor|mémoire|tese|tesis|diplomarbeit",
            re.IGNORECASE,
        ),
    ),
    (
        "conference paper",
        re.compile(
            r"conference|proceedings|hội thảo|hội nghị|kỷ yếu|kỉ yếu|symposium|workshop",
            re.IGNORECASE,
        ),
    ),
    (
        "article",
        re.compile(
            r"article|bài báo|bài viết|bài tạp chí|contributiontoperiodical"
            r"|journal[\s_-]?article|preprint|artigo|artículo",
            re.IGNORECASE,
        ),
    ),
    (
        "report",
        re.compile(r"report|báo cáo|working\s?paper|technical|đề tài|nghiên cứu khoa học cấp",
                   re.IGNORECASE),
    ),
    (
        "book",
        re.compile(r"\bbook|bookpart|\bsách\b|giáo trình|monograph|chapter|chương sách|livro",
                   re.IGNORECASE),
    ),
    ("dataset", re.compile(r"dataset|data set|\bdata\b|bộ dữ liệu|cơ sở dữ liệu", re.IGNORECASE)),
)


def map_type(values: Iterable[str | None]) -> str:
    """Map the source's type strings to one of ``index.record.TYPES`` (first recognised wins).

    >>> map_type(["Text", "info:eu-repo/semantics/masterThesis"])
    'thesis'
    >>> map_type(["Luận án tiến sĩ"])
    'dissertation'
    >>> map_type(["Bài báo"])
    'article'
    >>> map_type(["Still Image"])
    'other'
    """
    for raw in values:
        text = clean_text(raw)
        if not text:
            continue
        for name, pattern in _TYPE_RULES:
            if pattern.search(text):
                return name
    return "other"
