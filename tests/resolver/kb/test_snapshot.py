"""The resolver's in-memory KB snapshot: same answers as SQL, and KB edits are seen.

Under test the snapshot is checked on every request; in production at most once per
``LIENHOP_RESOLVER_CACHE_SECONDS`` (1 s), which a fake clock stands in for here.
"""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from resolver import db
from resolver.kb.entitlements import entitle
from resolver.kb.holdings import holdings_rows
from resolver.kb.importer import import_kbart
from resolver.kb.models import KbTitle
from resolver.kb.snapshot import load_kb_snapshot
from resolver.linking.service import RegistryCache
from resolver.web import services
from tests.support.kb_site import FIXTURES, HYDROLOGY, TODAY

V2 = FIXTURES / "sciencedirect_2025.tsv"
CHEMISTRY = "genre=article&issn=2345-6787&date=1995&atitle=X&inst=hue&lang=en"
NEW_MATERIALS = "genre=article&issn=3456-7895&date=2019&atitle=Y&inst=hue&lang=en"


def sd_target(client, query: str):  # type: ignore[no-untyped-def]
    res = client.get("/resolve/api?" + query)
    assert res.status_code == 200, res.get_data(as_text=True)
    return next((t for t in res.get_json()["targets"] if t["package"] == "sd"), None)


def reimport_sd(app, **kw) -> None:  # type: ignore[no-untyped-def]
    with db.transaction(app.extensions["lienhop.sessions"]) as s:
        import_kbart(s, "sd", V2.read_bytes(), **kw)


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def slow_app(kb_app):  # type: ignore[no-untyped-def]
    """The app with a production-like cache: checked at most every 10 (fake) seconds."""
    clock = Clock()
    services.provide(kb_app, "registry_cache", RegistryCache(10, clock=clock))
    kb_app.clock = clock
    return kb_app


def test_a_reimport_is_visible_to_the_next_request(kb_app, kb_client):
    assert sd_target(kb_client, CHEMISTRY)["available"] is True
    assert sd_target(kb_client, NEW_MATERIALS) is None
    reimport_sd(kb_app)  # removes Old Chemistry, adds New Materials
    assert sd_target(kb_client, CHEMISTRY) is None
    assert sd_target(kb_client, NEW_MATERIALS)["available"] is True


def test_a_changed_coverage_is_visible_to_the_next_request(kb_app, kb_client):
    hydrology_2022 = HYDROLOGY.replace("rft.date=2019", "rft.date=2022") + "&inst=hue&lang=en"
    assert sd_target(kb_client, hydrology_2022)["available"] is True
    reimport_sd(kb_app)  # Journal of Hydrology now ends in 2020
    late = sd_target(kb_client, hydrology_2022)
    assert late["available"] is False and "after the range" in late["reason"]


def test_an_added_entitlement_is_visible_to_the_next_request(kb_app, kb_client):
    query = HYDROLOGY + "&inst=nasati"
    assert sd_target(kb_client, query)["available"] is False
    with db.transaction(kb_app.extensions["lienhop.sessions"]) as s:
        entitle(s, "sd", "nasati")
    assert sd_target(kb_client, query)["available"] is True


def test_an_entitlement_changed_in_place_is_visible(kb_app, kb_client):
    # Same row, new end date: no count or max(id) moves, the row comparison notices.
    query = HYDROLOGY + "&inst=ctu"
    assert sd_target(kb_client, query)["available"] is False  # ended yesterday
    with db.transaction(kb_app.extensions["lienhop.sessions"]) as s:
        entitle(s, "sd", "ctu", dt.date(2000, 1, 1), TODAY + dt.timedelta(days=30))
    assert sd_target(kb_client, query)["available"] is True
    with db.transaction(kb_app.extensions["lienhop.sessions"]) as s:
        entitle(s, "sd", "ctu", remove=True)
    assert sd_target(kb_client, query)["available"] is False


def test_production_cache_is_reused_then_rechecked(slow_app, monkeypatch):
    client = slow_app.test_client()
    assert sd_target(client, CHEMISTRY) is not None
    cache = slow_app.extensions["lienhop.resolver_registry"]
    first = cache._current
    reimport_sd(slow_app)
    slow_app.clock.now += 5  # within the interval: the snapshot is served, no query
    assert sd_target(client, CHEMISTRY) is not None
    assert cache._current is first
    slow_app.clock.now += 6  # the interval has passed: the next request checks
    assert sd_target(client, CHEMISTRY) is None
    assert cache._current is not first


def test_an_import_from_another_process_is_noticed(slow_app, monkeypatch):
    """Another process (the CLI) cannot bump this process's counter: the mark read from
    the database (packages' imported_at, highest title id) must change on its own."""
    import resolver.kb.importer as kb

    monkeypatch.setattr(kb, "_titles_changed", lambda _session: None)
    client = slow_app.test_client()
    assert sd_target(client, NEW_MATERIALS) is None
    reimport_sd(slow_app)
    slow_app.clock.now += 11
    assert sd_target(client, NEW_MATERIALS)["available"] is True


def test_the_title_snapshot_is_rebuilt_only_when_the_kb_changes(slow_app):
    client = slow_app.test_client()
    sd_target(client, CHEMISTRY)
    cache = slow_app.extensions["lienhop.resolver_registry"]
    kb_before = cache._current.kb
    with db.transaction(slow_app.extensions["lienhop.sessions"]) as s:
        entitle(s, "sd", "nasati")
    slow_app.clock.now += 11
    assert sd_target(client, HYDROLOGY + "&inst=nasati")["available"] is True
    assert cache._current.kb is kb_before  # registry rebuilt, titles kept
    reimport_sd(slow_app)
    slow_app.clock.now += 11
    sd_target(client, CHEMISTRY)
    assert cache._current.kb is not kb_before


@pytest.mark.parametrize("ids,title", [
    (["0022-1694"], None),
    (["1879-2707"], None),  # the online ISSN
    (["0022-1694", "1879-2707"], None),  # print and online: one row, not two
    (["1234-5679", "2345-6787"], None),
    (["9999-9999"], "Tạp chí Khoa học và Công nghệ"),  # no id match: the folded title
    ([], "tap chi khoa hoc va cong nghe"),
    ([], "Nothing Like It"),
    (["5678-9017"], None),  # the open collection
])
def test_snapshot_answers_like_the_sql_lookup(kb_app, ids, title):
    with db.transaction(kb_app.extensions["lienhop.sessions"]) as s:
        snap = load_kb_snapshot(s)
        expected = [(p.code, [r.id for r in rows])
                    for p, rows in holdings_rows(s, issns=ids, title=title)]
    got = [(p.code, [r.id for r in rows]) for p, rows in snap.holdings(issns=ids, title=title)]
    assert got == expected


def test_an_unusable_stored_coverage_is_skipped_not_fatal(kb_app, kb_client, caplog):
    with db.transaction(kb_app.extensions["lienhop.sessions"]) as s:
        row = s.scalar(select(KbTitle).where(KbTitle.print_id == "2345-6787"))
        row.data = {**row.data, "embargo_info": "not an embargo"}
    assert sd_target(kb_client, CHEMISTRY) is None
    assert "unusable coverage" in caplog.text
    assert sd_target(kb_client, HYDROLOGY + "&inst=hue")["available"] is True
