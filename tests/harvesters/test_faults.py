"""Fault injection: every way a repository misbehaves, against the real local OAI-PMH server
and the real index, asserting by exact identifiers that nothing is lost or duplicated.

Each test harvests a 50-record source (5 pages) through one fault, then, where the fault
makes the first run fail, once more without it: the index must then hold exactly the
source's live records, each once.  "Silent" is the enemy: a run that could not do its whole
job must say ``failed``/``partial``, keep its high-water mark and delete nothing.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from harvesters.archive import RawArchive
from harvesters.client import OAIClient
from harvesters.demo_server import DevRecord, OAIDevServer
from harvesters.http import Transport, TransportConfig
from harvesters.runner import RepositoryConfig, harvest_repository
from harvesters.sinks import WriterSink
from harvesters.state import MemoryCheckpointStore
from index import open_index
from index.record import make_record_id

N = 50
STUB = (
    '<oai_dc:dc xmlns:oai_dc="http://www.openarchives.org/OAI/2.0/oai_dc/"'
    ' xmlns:dc="http://purl.org/dc/elements/1.1/"><dc:title>Item is not available</dc:title>'
    "</oai_dc:dc>"
)


class Harness:
    """One repository harvested into a real index, with its checkpoint store and archive."""

    def __init__(self, tmp_path, server: OAIDevServer, **transport: object) -> None:
        self.server = server
        self.ix = open_index(tmp_path / "index")
        self.sink = WriterSink(lambda: self.ix.writer(timeout=30.0))
        self.store = MemoryCheckpointStore()
        self.archive = RawArchive(tmp_path / "archive")
        self.repo = RepositoryConfig("hue", "HUE", server.url)
        self.sleeps: list[float] = []
        options = dict(delay=0, max_retries=3, backoff_base=2, max_retry_after=5,
                       connect_timeout=2, read_timeout=5)
        options.update(transport)
        self.transport = Transport(TransportConfig(**options), sleep=self.sleeps.append)

    def run(self, **kwargs):  # type: ignore[no-untyped-def]
        kwargs.setdefault("client_factory", lambda r: OAIClient(
            r.oai_url, transport=self.transport, repository=r.code))
        return harvest_repository(self.repo, sink=self.sink, state=self.store,
                                  archive=self.archive, commit_records=0, **kwargs)

    def source_ids(self) -> set[str]:
        return {r.identifier for r in self.server.records if not r.deleted}

    def assert_index_is_source(self) -> None:
        """0 lost, 0 duplicated, nothing extra: by exact identifiers."""
        expected = self.source_ids()
        missing = sorted(i for i in expected
                         if self.ix.get(make_record_id("hue", i)) is None)
        assert missing == [], f"{len(missing)} records lost"
        assert self.ix.count() == len(expected), "duplicated or stale records in the index"

    def indexed(self, identifier: str) -> bool:
        return self.ix.get(make_record_id("hue", identifier)) is not None

    @property
    def high_water(self) -> str | None:
        st = self.store.load("hue")
        return st.high_water if st else None


@pytest.fixture
def source(make_records) -> list[DevRecord]:
    return make_records(N)


@pytest.fixture
def server(source):
    with OAIDevServer(source, page_size=10) as srv:
        yield srv


@pytest.fixture
def h(tmp_path, server) -> Harness:
    return Harness(tmp_path, server)


def later(records: list[DevRecord], minutes: int = 0) -> str:
    return (datetime.now(UTC) + timedelta(minutes=minutes)).strftime("%Y-%m-%dT%H:%M:%SZ")


# --------------------------------------------------------------------------- tokens


def test_a_repeated_token_fails_the_run_and_the_next_run_gets_the_rest(h, server):
    server.inject("repeat_token", times=99, resumption=True, skip=2)
    report = h.run()
    assert report.status == "failed" and "already sent" in " ".join(report.errors)
    assert h.high_water is None  # not advanced past what was never listed
    server.clear_faults()
    report = h.run()
    assert report.status == "ok" and report.resumed
    h.assert_index_is_source()


def test_a_repeated_token_in_a_full_run_deletes_nothing(h, server):
    assert h.run(full=True).status == "ok"
    server.inject("repeat_token", times=99, resumption=True, skip=1)
    report = h.run(full=True)
    assert (report.status, report.deleted) == ("failed", 0)
    h.assert_index_is_source()


def test_a_token_repeated_once_is_asked_again(h, server):
    server.inject("repeat_token", times=1, resumption=True, skip=1)
    report = h.run()
    assert report.status == "ok"
    h.assert_index_is_source()


def test_an_expired_token_restarts_without_duplicates(h, server):
    server.inject("expire_token", times=1, resumption=True, skip=2)
    report = h.run()
    assert report.status == "ok" and report.restarts == 1
    h.assert_index_is_source()


# --------------------------------------------------------------------------- wrong answers


@pytest.mark.parametrize("as_verb", ["ListSets", "ListIdentifiers"])
def test_a_full_run_answered_with_another_verb_deletes_nothing(h, server, as_verb):
    assert h.run(full=True).status == "ok"
    server.inject("wrong_verb", as_verb=as_verb, resumption=False, verb="ListRecords")
    report = h.run(full=True)
    assert (report.status, report.deleted) == ("failed", 0)
    assert f"the answer is {as_verb}" in " ".join(report.errors)
    h.assert_index_is_source()


def test_a_wrong_verb_mid_list_fails_and_resumes(h, server):
    server.inject("wrong_verb", resumption=True, skip=1)
    assert h.run().status == "failed"
    assert h.high_water is None
    assert h.run().status == "ok"
    h.assert_index_is_source()


def test_a_full_run_answered_no_records_match_deletes_nothing(h, server):
    assert h.run(full=True).status == "ok"
    server.inject("no_records", resumption=False, verb="ListRecords")
    report = h.run(full=True)
    assert report.status == "partial"
    assert (report.deleted, report.refused_deletions) == (0, N)
    assert f"refused to remove {N} of {N} records" in " ".join(report.errors)
    h.assert_index_is_source()


def test_no_records_match_to_a_resumption_request_is_an_error(h, server):
    server.inject("no_records", resumption=True, skip=1)
    report = h.run()
    assert report.status == "failed" and "noRecordsMatch" in " ".join(report.errors)
    assert h.high_water is None
    assert h.run().status == "ok"
    h.assert_index_is_source()


def test_an_answer_for_another_metadata_prefix_is_an_error(h, server):
    server.inject("wrong_prefix", resumption=False, verb="ListRecords")
    report = h.run()
    assert report.status == "failed" and "'marc21'" in " ".join(report.errors)
    assert h.ix.count() == 0


def test_a_payload_of_another_format_is_a_failed_record(h, server, source):
    mods = '<mods xmlns="http://www.loc.gov/mods/v3"><titleInfo><title>X</title></titleInfo></mods>'
    server.upsert(replace(source[7], metadata={"oai_dc": mods}))
    report = h.run()
    assert (report.status, report.failed) == ("partial", 1)
    assert "payload is mods" in " ".join(report.errors)


# --------------------------------------------------------------------------- mass deletion


def test_a_full_run_refuses_a_mass_deletion_until_allowed(h, server, source):
    assert h.run(full=True).status == "ok"
    for rec in source[:30]:  # gone without a tombstone (DSpace hard deletes)
        server.remove(rec.identifier)
    report = h.run(full=True)
    assert (report.status, report.deleted, report.refused_deletions) == ("partial", 0, 30)
    assert h.ix.count() == N
    report = h.run(full=True, allow_mass_delete=True)
    assert (report.status, report.deleted) == ("ok", 30)
    h.assert_index_is_source()


def test_a_small_deletion_within_the_share_goes_through(h, server, source):
    assert h.run(full=True).status == "ok"
    for rec in source[:5]:
        server.remove(rec.identifier)
    report = h.run(full=True, max_delete_share=0.2)
    assert (report.status, report.deleted) == ("ok", 5)
    h.assert_index_is_source()


# --------------------------------------------------------------------------- broken pages


def test_salvage_keeps_the_good_records_of_a_page_whose_records_carry_attributes(h, server):
    server.inject("record_attrs", resumption=False, verb="ListRecords")
    server.inject("broken_record", resumption=False, verb="ListRecords")
    report = h.run()
    assert (report.status, report.failed) == ("partial", 1)
    broken = server.records[0].identifier  # the page's first record was made malformed
    assert not h.indexed(broken)
    assert all(h.indexed(r.identifier) for r in server.records[1:])
    assert broken in " ".join(report.errors)
    # the failed record is fetched again by the next (incremental) run
    report = h.run()
    assert report.status == "ok"
    h.assert_index_is_source()


def test_a_failed_record_pins_the_high_water_mark_and_is_retried(h, server, source, dc_xml):
    h.repo = replace(h.repo, overlap=timedelta(0))  # no overlap to hide a missed record
    assert h.run().status == "ok"
    # records changed at the source (stamped in the past, listed by a run from 2025); one of
    # them arrives broken the first time
    stamp = "2025-06-01T00:00:00Z"
    changed = [replace(r, datestamp=stamp, metadata={"oai_dc": dc_xml(i, title=f"Sửa {i}")})
               for i, r in enumerate(source[10:15], start=10)]
    server.upsert(*changed)
    server.inject("broken_record", resumption=False, verb="ListRecords")
    report = h.run(from_="2025-01-01T00:00:00Z")
    assert (report.status, report.failed) == ("partial", 1)
    assert h.high_water == stamp  # not past the failure
    report = h.run()  # incremental, from the high-water mark
    assert report.status == "ok"
    for i, r in enumerate(source[10:15], start=10):
        assert h.ix.get(make_record_id("hue", r.identifier)).title == f"Sửa {i}"
    h.assert_index_is_source()


def test_a_record_withdrawn_at_the_source_leaves_the_index(h, server, source):
    assert h.run().status == "ok"
    stamp = later(source)
    server.upsert(replace(source[5], datestamp=stamp, metadata={"oai_dc": STUB}),
                  replace(source[6], datestamp=stamp, metadata={"oai_dc": ""}))
    report = h.run()
    assert (report.status, report.withdrawn, report.failed) == ("ok", 2, 0)
    assert not h.indexed(source[5].identifier) and not h.indexed(source[6].identifier)
    assert h.ix.count() == N - 2
    with h.archive.open("hue") as a:
        assert a.get(source[5].identifier)[0].deleted


def test_an_html_page_mid_list_fails_the_run_and_the_next_run_resumes(h, server):
    server.inject("html", resumption=True, skip=1)
    assert h.run().status == "failed"
    assert h.run().status == "ok"
    h.assert_index_is_source()


# --------------------------------------------------------------------------- transport


@pytest.mark.parametrize("retry_after", ["1", "date"])
def test_503_with_retry_after_in_both_forms(h, server, retry_after):
    when = (datetime.now(UTC) + timedelta(seconds=2)) if retry_after == "date" else "1"
    server.inject("unavailable", times=2, retry_after=when, resumption=True)
    report = h.run()
    assert report.status == "ok"
    assert len(h.sleeps) == 2 and all(0 <= s <= 5 for s in h.sleeps)
    h.assert_index_is_source()


def test_a_503_that_never_ends_names_the_cause(h, server):
    server.inject("unavailable", times=99, resumption=True)
    report = h.run()
    assert report.status == "failed"
    assert "HTTP 503 after 3 retries" in " ".join(report.errors)
    assert h.high_water is None
    server.clear_faults()
    assert h.run().status == "ok"
    h.assert_index_is_source()


@pytest.mark.parametrize("kind", ["drop", "truncate"])
def test_bodies_cut_short_are_fetched_again(h, server, kind):
    server.inject(kind, times=2, resumption=True)
    report = h.run()
    assert report.status == "ok"
    h.assert_index_is_source()


def test_gzip_without_a_content_encoding_header(h, server):
    server.inject("gzip_no_header", times=3)
    report = h.run()
    assert report.status == "ok"
    h.assert_index_is_source()


def test_a_gzip_bomb_is_stopped_at_the_size_cap(tmp_path, server):
    h = Harness(tmp_path, server, max_response_bytes=1024 * 1024)
    server.inject("gzip_bomb", size=64 * 1024 * 1024, resumption=True)
    report = h.run()
    assert report.status == "failed"
    assert "MB" in " ".join(report.errors)
    server.clear_faults()
    assert h.run().status == "ok"
    h.assert_index_is_source()


def test_a_slow_answer_is_retried(tmp_path, server):
    h = Harness(tmp_path, server, read_timeout=0.3)
    server.inject("delay", seconds=1.0, times=1, resumption=True)
    report = h.run()
    assert report.status == "ok"
    h.assert_index_is_source()


# --------------------------------------------------------------------------- limits


def test_a_run_stops_at_its_page_cap_and_the_next_goes_on(h, server):
    report = h.run(max_pages=2)
    assert report.status == "failed" and "2 pages" in " ".join(report.errors)
    assert h.high_water is None
    report = h.run()
    assert report.status == "ok" and report.resumed
    h.assert_index_is_source()


def test_a_run_stops_at_its_time_cap(h, server):
    ticks = iter(range(0, 10_000, 100))
    report = h.run(max_seconds=150, clock=lambda: float(next(ticks)))
    assert report.status == "failed" and "hours" in " ".join(report.errors)
    assert h.run().status == "ok"
    h.assert_index_is_source()
