"""Institutions whose names start with each letter Vietnamese orders differently from code
points (Ă Â Đ Ê Ô Ơ Ư, tone marks), and how to read the order a page lists names in.

``NAMES`` is in Vietnamese alphabetical order (a ă â b c d đ e ê … o ô ơ … u ư …); their
codes run the other way and their English names in yet another order, so a list sorted by
code, by code point or by the other language's name is caught.
"""

from __future__ import annotations

import html as html_lib
import re
from typing import Any

from resolver import db
from resolver.registry.models import Institution

NAMES = [
    "An Giang Trường Đại học",
    "Ăn uống Viện Dinh dưỡng",
    "Ấn phẩm Nhà xuất bản",
    "Bách khoa Đại học",
    "Cần Thơ Đại học",
    "Dược Hà Nội Đại học",
    "Đại học Kinh tế",
    "Eakar Trường",
    "Ê-đê Bảo tàng",
    "Olympic Trung tâm",
    "Ô tô Trường Cao đẳng",
    "Ơn Quỹ",
    "Trường Đại học Vinh",
    "Ủy ban Khoa học",
    "Ưu tú Viện",
    "Viện Hàn lâm",
]
#: English names, one per entry of NAMES, in no relation to its order.
ENGLISH = [
    "Zoology Institute", "Nutrition Institute", "Publishing House", "Polytechnic University",
    "Can Tho University", "Hanoi University of Pharmacy", "University of Economics",
    "Eakar School", "Ede Museum", "Olympic Centre", "Automotive College", "Grace Fund",
    "Vinh City University", "Science Committee", "Excellence Institute", "Academy of Sciences",
]
#: codes in the opposite order to the names
CODES = [f"x{len(NAMES) - i:02d}" for i in range(len(NAMES))]


def add_named_institutions(sessions: Any, status: str = "member") -> None:
    with db.transaction(sessions) as s:
        for code, vi, en in zip(CODES, NAMES, ENGLISH, strict=True):
            s.add(Institution(code=code, name_vi=vi, name_en=en, status=status))


def order_in(page: str, names: list[str]) -> list[str]:
    """``names`` in the order they first appear in ``page`` (names it lacks left out)."""
    text = html_lib.unescape(re.sub(r"\s+", " ", page))
    found = [(text.find(n), n) for n in names if n in text]
    return [n for _pos, n in sorted(found)]
