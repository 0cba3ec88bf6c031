"""A failed harvest's cause in a few words: the texts real failures leave, classified, and the
repositories table showing the short cause (the whole text on the job page)."""

from __future__ import annotations

import html
import re
import socket
from collections.abc import Iterator

import pytest
from sqlalchemy import select

from harvesters.client import OAIClient
from harvesters.demo_server import OAIDevServer
from harvesters.http import Transport, TransportConfig
from harvesters.runner import RepositoryConfig, RunReport, harvest_repository
from harvesters.sinks import MemorySink
from harvesters.state import MemoryCheckpointStore
from resolver import db
from resolver.demo import FORMATS, demo_records
from resolver.harvesting import causes
from resolver.harvesting.causes import Cause, cause_of
from resolver.harvesting.models import FAILED, HarvestJob, HarvestRun
from resolver.registry.models import Repository
from resolver.views.admin import jobs as job_views

pytestmark = pytest.mark.usefixtures("cheap_hashes")


def visible_text(markup: str) -> str:
    return html.unescape(re.sub(r"<[^>]+>", " ", markup))


def run_against(url: str, **transport: object) -> RunReport:
    """One real harvest of ``url`` (no retries, no delay); its report."""
    config = TransportConfig(delay=0.0, max_retries=0, **transport)  # type: ignore[arg-type]
    repo = RepositoryConfig(code="x", institution="x", oai_url=url)
    return harvest_repository(
        repo, sink=MemorySink(), state=MemoryCheckpointStore(),
        client_factory=lambda r: OAIClient(r.oai_url, repository=r.code,
                                           transport=Transport(config)))


@pytest.fixture
def oai() -> Iterator[OAIDevServer]:
    _, records = demo_records("hue-dspace")
    with OAIDevServer(records, page_size=2, formats={"oai_dc": FORMATS["oai_dc"]}) as srv:
        yield srv


@pytest.fixture
def silent_port() -> Iterator[int]:
    """A port that accepts connections and never answers."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(8)
        yield sock.getsockname()[1]


def test_real_failures_get_their_short_cause(oai, silent_port):
    def failed(report: RunReport) -> str:
        assert report.status == "failed", report
        return report.errors[-1]

    refused = failed(run_against("http://127.0.0.1:9/oai"))
    assert "Errno 111" in refused  # the text the issue quotes
    assert cause_of(refused) == Cause(causes.CONNECTION_REFUSED)
    assert cause_of(failed(run_against("http://nowhere.invalid/oai"))).code == causes.DNS
    assert cause_of(failed(run_against(f"http://127.0.0.1:{silent_port}/oai",
                                       read_timeout=0.5))).code == causes.TIMEOUT
    assert cause_of(failed(run_against("http://127.0.0.1:9/oai", refuse_private=True))
                    ).code == causes.ADDRESS_REFUSED
    oai.inject("unavailable", times=5, status=503)
    assert cause_of(failed(run_against(oai.url))) == Cause(causes.HTTP_SERVER, "503")
    oai.clear_faults()
    oai.inject("html", times=5)
    assert cause_of(failed(run_against(oai.url))).code == causes.NOT_OAI
    oai.clear_faults()
    oai.inject("repeat_token", times=50, verb="ListRecords", resumption=True)
    assert cause_of(failed(run_against(oai.url))).code == causes.TOKEN_LOOP
    oai.clear_faults()
    oai.inject("wrong_verb", times=5, verb="ListRecords")
    assert cause_of(failed(run_against(oai.url))).code == causes.WRONG_ANSWER


@pytest.mark.parametrize(("text", "expected"), [
    ("OAIProtocolError: ListRecords: cannotDisseminateFormat: no such format",
     Cause(causes.OAI_ERROR, "cannotDisseminateFormat")),
    ("RetriesExhausted: http://x/oai: HTTP 503 after 5 retries (Retry-After: 60)",
     Cause(causes.HTTP_SERVER, "503")),
    ("InvalidResponse: http://x/oai verb=ListRecords: HTTP 404: not OAI",
     Cause(causes.HTTP_CLIENT, "404")),
    ("RetriesExhausted: http://x/oai: HTTP 429 after 5 retries", Cause(causes.RATE_LIMITED,
                                                                        "429")),
    ("ResponseTooLarge: http://x/oai: response body over 100 MB (LIENHOP_…): …",
     Cause(causes.TOO_LARGE)),
    ("MalformedPage: not well-formed and nothing salvageable: …", Cause(causes.BAD_XML)),
    ("TransportError: https://x/oai: no response after 6 attempts: HTTPSConnectionPool(…): "
     "Max retries exceeded (Caused by SSLError(SSLCertVerificationError(1, "
     "'[SSL: CERTIFICATE_VERIFY_FAILED] …')))", Cause(causes.TLS)),
    ("TransportError: http://x/oai: no response after 6 attempts: ('Connection aborted.', "
     "RemoteDisconnected('Remote end closed connection without response'))",
     Cause(causes.CONNECTION_LOST)),
    ("refused to remove 40 of 50 records (80% > 20%) …", Cause(causes.MASS_DELETE_REFUSED)),
    ("RunLimitReached: stopped after 100000 pages (the limit of one run, …)",
     Cause(causes.RUN_LIMIT)),
    ("interrupted: the harvesting process stopped during the run", Cause(causes.INTERRUPTED)),
    ("queue: Error 111 connecting to localhost:6379. Connection refused.", Cause(causes.QUEUE)),
    ("oai:hue:12: no title and no identifier", Cause(causes.OTHER)),
    ("", Cause(causes.OTHER)),
])
def test_texts_of_each_kind(text, expected):
    assert cause_of(text) == expected


def test_a_failed_record_of_a_partial_run():
    assert cause_of("oai:hue:12: no title and no identifier", "partial").code == \
        causes.RECORDS_FAILED


def test_every_cause_has_a_label_in_both_languages(admin_app):
    for lang in ("en", "vi"):
        with admin_app.test_request_context(f"/?lang={lang}"):
            labels = job_views._cause_labels("503")
            assert set(labels) == set(causes.CAUSES)
            assert all(labels.values())


REFUSED = ("TransportError: http://127.0.0.1:9/oai: no response after 6 attempts: "
           "HTTPConnectionPool(host='127.0.0.1', port=9): Max retries exceeded with url: "
           "/oai?verb=Identify (Caused by NewConnectionError('<urllib3.connection."
           "HTTPConnection object at 0x7f>: Failed to establish a new connection: "
           "[Errno 111] Connection refused'))")


def test_the_table_shows_the_short_cause_and_the_job_page_the_detail(boss, sessions):
    with db.transaction(sessions) as s:
        repo = s.scalar(select(Repository).where(Repository.code == "hue-dspace"))
        run = HarvestRun(repository_id=repo.id, status="failed", errors=[REFUSED])
        s.add(run)
        s.flush()
        job = HarvestJob(repository_id=repo.id, kind="incremental", status=FAILED,
                         error=REFUSED, harvest_run_id=run.id)
        s.add(job)
        s.flush()
        job_id = job.id
    page = boss.get("/admin/repositories?lang=vi").get_data(as_text=True)
    row = visible_text(page.split('id="repo-hue-dspace"', 1)[1].split("</tr>", 1)[0])
    assert "Kho từ chối kết nối" in row
    assert "HTTPConnectionPool" not in row and "Errno" not in row
    assert f"/admin/jobs/{job_id}" in page.split('id="repo-hue-dspace"', 1)[1].split("</tr>")[0]
    english = boss.get("/admin/repositories?lang=en").get_data(as_text=True)
    assert "Connection refused by the repository" in english
    detail = boss.get(f"/admin/jobs/{job_id}?lang=en").get_data(as_text=True)
    assert "Connection refused by the repository" in detail
    assert "HTTPConnectionPool(host=&#39;127.0.0.1&#39;, port=9)" in detail  # all of it
