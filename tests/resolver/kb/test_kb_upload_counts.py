"""The KBART upload page says how many rows were loaded and counts every added, changed and
removed title, also past the 200 it names; the upload is read as a stream, not as one
bytes object. SQLite and PostgreSQL."""

from __future__ import annotations

import io
import re

import pytest
from sqlalchemy import func, select

from resolver.kb.models import KbTitle

pytestmark = pytest.mark.usefixtures("cheap_hashes")

HEADER = "publication_title\tprint_identifier\ttitle_url\ttitle_id\tdate_first_issue_online\n"


def rows(first: int, last: int, year: str = "2001") -> str:
    return "".join(f"Tạp chí {i}\t\thttps://example.org/{i}\tt{i}\t{year}\n"
                   for i in range(first, last))


def upload(client, text: str):  # type: ignore[no-untyped-def]
    return client.post("/admin/kb/upload?lang=en", {
        # confirmed: a file that replaces titles otherwise asks first (test_confirmations.py)
        "code": "agg", "kind": "subscription", "confirm": "yes",
        "file": (io.BytesIO(text.encode()), "agg.tsv")},
        content_type="multipart/form-data")


def counts(html: str) -> dict[str, int]:
    return {k: int(v) for k, v in re.findall(r'id="n-(\w+)">(\d+)<', html)}


def section(html: str, heading: str) -> str:
    return html.split(f"<h3>{heading}</h3>", 1)[1].split("</ul>", 1)[0]


def test_upload_counts_every_title_and_names_the_first_200(boss, sessions):
    res = upload(boss, HEADER + rows(0, 2500))
    assert res.status_code == 200
    html = res.get_data(as_text=True)
    assert counts(html) == {"titles": 2500, "added": 2500, "changed": 0, "removed": 0,
                            "rejected": 0}
    added = section(html, "Added")
    assert added.count("<li>") == 201 and added.endswith("<li>…</li>")  # 200 and "…"
    with sessions() as s:
        assert s.scalar(select(func.count()).select_from(KbTitle)) == 2500

    res = upload(boss, HEADER + rows(300, 2500, year="2002") + rows(2500, 2800, year="2002"))
    html = res.get_data(as_text=True)
    assert counts(html) == {"titles": 2500, "added": 300, "changed": 2200, "removed": 300,
                            "rejected": 0}
    assert section(html, "Changed").count("<li>") == 201
    assert section(html, "Removed").count("<li>") == 201
    with sessions() as s:
        assert s.scalar(select(func.count()).select_from(KbTitle)) == 2500
        assert s.scalar(select(func.min(KbTitle.date_first))) == "2002"
