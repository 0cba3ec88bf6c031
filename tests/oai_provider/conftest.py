"""Shared helpers of the OAI-PMH provider tests: an app with items, XSD-checked requests."""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from lxml import etree
from werkzeug.serving import make_server

from index.record import Record
from resolver import db
from resolver.oai.feed import apply_changes
from resolver.registry.models import Institution, Repository

SCHEMAS = Path(__file__).resolve().parents[1] / "fixtures" / "schemas"
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


@pytest.fixture
def oai_app(app):  # type: ignore[no-untyped-def]
    """The app with a registry (hue, ctu) and 7 items, pages of 3."""
    app.config["OAI_PAGE_SIZE"] = 3
    sessions = app.extensions["lienhop.sessions"]
    with db.transaction(sessions) as s:
        s.add(Institution(code="hue", name_vi="Đại học Huế", name_en="Hue University",
                          repositories=[Repository(code="hue-dspace",
                                                   oai_url="http://hue.edu.vn/oai")]))
        s.add(Institution(code="ctu", name_vi="Đại học Cần Thơ", name_en="Can Tho University",
                          repositories=[Repository(code="ctu-dspace",
                                                   oai_url="http://ctu.edu.vn/oai")]))
    recs = [make_record(i) for i in range(1, 5)]
    recs += [make_record(i, inst="ctu", rtype="article", access="restricted") for i in (5, 6)]
    seed(sessions, recs)
    seed(sessions, [make_record(7, inst="ctu", prefix="mods")], T0 + dt.timedelta(days=1))
    return app


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


@pytest.fixture
def live(oai_app) -> Iterator[str]:  # type: ignore[no-untyped-def]
    """The app served on 127.0.0.1 (threads) for real clients; yields the base URL."""
    server = make_server("127.0.0.1", 0, oai_app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/oai"
    server.shutdown()
    thread.join(5)
