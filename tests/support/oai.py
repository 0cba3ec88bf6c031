"""The OAI-PMH provider's tests: records to publish, XSD-checked requests, bulk items.

``bench/oai.py`` loads its big table with :func:`add_items`.
"""

from __future__ import annotations

import datetime as dt

from lxml import etree
from sqlalchemy import insert

from index.record import Record
from resolver import db
from resolver.oai.feed import apply_changes, content_hash, set_specs
from resolver.oai.models import OaiItem, OaiItemSet
from tests.support.paths import TEST_FIXTURES

SCHEMAS = TEST_FIXTURES / "schemas"
NS = {"o": "http://www.openarchives.org/OAI/2.0/", "dc": "http://purl.org/dc/elements/1.1/",
      "m": "http://www.loc.gov/mods/v3", "p": "http://www.openarchives.org/OAI/2.0/provenance"}
SCHEMA = etree.XMLSchema(etree.parse(str(SCHEMAS / "OAI-PMH.xsd")))
T0 = dt.datetime(2025, 1, 2, 3, 4, 5)


def make_record(n: int, *, inst: str = "hue", rtype: str = "thesis", access: str = "open",
                title: str | None = None, prefix: str = "oai_dc") -> Record:
    repo = f"{inst}-dspace"
    return Record(
        id=f"{repo}-{n:06d}", oai_identifier=f"oai:{inst}.edu.vn:123456789/{n}",
        repository=repo, institution=inst, datestamp="2024-06-01T10:00:00Z",
        metadata_prefix=prefix, titles=[title or f"Nghiên cứu số {n}"],
        creators=["Nguyễn Văn A"], subjects=["Hóa học"], abstract="Tóm tắt & <chú thích>",
        dates=["2024"], year=2024, type=rtype, language="vie", doi=f"10.1234/x{n}",
        handle=f"123456789/{n}", urls=[f"https://{inst}.edu.vn/handle/123456789/{n}"],
        journal="Tạp chí Khoa học", volume="3", issue="2", pages="1-9", issn=["1859-1388"],
        access=access,
    )


def seed(sessions, records: list[Record], stamp: dt.datetime = T0) -> None:  # type: ignore[no-untyped-def]
    with db.transaction(sessions) as s:
        apply_changes(s, {r.id: r for r in records}, stamp)


def check(body: bytes) -> etree._Element:
    """Parse and XSD-validate one response; every test request goes through here."""
    doc = etree.fromstring(body)
    SCHEMA.assertValid(doc)
    return doc


def oai_get(client, method: str = "GET", **params: str) -> etree._Element:  # type: ignore[no-untyped-def]
    if "from_" in params:
        params["from"] = params.pop("from_")
    resp = client.get("/oai", query_string=params) if method == "GET" else client.post(
        "/oai", data=params)
    assert resp.status_code == 200
    assert resp.content_type.startswith("text/xml")
    return check(resp.data)


def error_codes(doc: etree._Element) -> list[str]:
    return [e.get("code") for e in doc.findall("o:error", NS)]


def add_items(sessions, n: int, start: int = 0) -> None:  # type: ignore[no-untyped-def]
    """Bulk rows for big tables (one datestamp per 100 rows)."""
    rec = make_record(0)
    with db.transaction(sessions) as s:
        for i in range(start, start + n, 1000):
            rows, specs = [], []
            for j in range(i, min(i + 1000, start + n)):
                rid = f"bulk-{j:07d}"
                rows.append(dict(record_id=rid, datestamp=T0 + dt.timedelta(seconds=j // 100),
                                 deleted=False, record=rec.to_dict() | {"id": rid},
                                 content_hash=content_hash(rec), source_prefix="oai_dc"))
                specs += [dict(record_id=rid, spec=sp) for sp in set_specs(rec)]
            s.execute(insert(OaiItem), rows)
            s.execute(insert(OaiItemSet), specs)
