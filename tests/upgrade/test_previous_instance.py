"""An instance made by the previous release (05551f3) upgrades in place, with no manual step.

The fixture (tests/fixtures/instance-05551f3/README.md says how it was made, by the old code)
is copied to a temporary folder, and everything an operator relies on is exercised with the
current code through its public doors only: ``resolver.create_app`` and its test client, the
``lienhop`` command line, ``index.open_index``, and a demo OAI-PMH server on 127.0.0.1.
``old-answers.json`` holds what the old release answered on the same instance; the current
code must answer the same. SQLite only: the fixture is a SQLite instance.
"""

from __future__ import annotations

import io
import json
import pickle
import re
import sqlite3
import tarfile
from pathlib import Path

import pytest

import index
from harvesters.demo_server import DevRecord, OAIDevServer
from resolver import create_app

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "instance-05551f3"
OLD = json.loads((FIXTURE / "old-answers.json").read_text(encoding="utf-8"))
OLD_REVISION = "0007"  # the schema revision 05551f3 wrote
NEW_REVISION = "0009"  # this release's head

LIBRARY = "hue-dspace-59790bb433e8"  # oai:huespace.hueuni.edu.vn:hue/101
LIBRARY_TITLE = "Nghiên cứu xây dựng thư viện số tại Trường Đại học Khoa học, Đại học Huế"
CLIMATE = "hue-dspace-57904a383120"  # hue/102
TVU = ("url_ver=Z39.88-2004&rft_val_fmt=info:ofi/fmt:kev:mtx:journal&rft.genre=article"
       "&rft.issn=1859-4816&rft.date=2021&rft.volume=1&rft.issue=40&rft.spage=12"
       "&rft_id=info:doi/10.35382/18594816.1.40.2021.700")
HUE_PROXY = "https://ezproxy.hue.example.edu.vn/login?url="
OLD_ADMIN = ("oldadmin", "mật-khẩu-cũ-05551f3")
OLD_INSTITUTION_ADMIN = ("hueadmin", "hue-password-05551f3")


@pytest.fixture
def home(lienhop_env: dict[str, str]) -> Path:
    """The old instance, unpacked where LIENHOP_HOME points (the test env of tests/conftest.py)."""
    folder = Path(lienhop_env["LIENHOP_HOME"])
    folder.mkdir(parents=True)
    with tarfile.open(FIXTURE / "instance.tar.gz") as tar:
        tar.extractall(folder, filter="data")
    return folder


@pytest.fixture
def client(home: Path):  # type: ignore[no-untyped-def]
    return create_app().test_client()


def schema_and_rows(database: Path) -> tuple[list[tuple[str, str, str]], dict[str, int]]:
    with sqlite3.connect(database) as conn:
        schema = conn.execute("SELECT type, name, sql FROM sqlite_master ORDER BY type, name")
        rows = schema.fetchall()
        tables = [name for kind, name, _ in rows if kind == "table"]
        counts = {t: conn.execute(f'SELECT count(*) FROM "{t}"').fetchone()[0] for t in tables}
    conn.close()
    return rows, counts


def search(client, q: str) -> dict:  # type: ignore[no-untyped-def]
    res = client.get("/api/search", query_string={"q": q})
    assert res.status_code == 200, res.get_data(as_text=True)
    body = res.get_json()
    return {"total": body["total"], "suggestions": body["suggestions"],
            "ids": sorted(r["id"] for r in body["results"])}


def assert_old_search_answers(client,  # type: ignore[no-untyped-def]
                              answers: str = "search") -> None:
    for q, expected in OLD[answers].items():
        assert search(client, q) == expected, q


def csrf_token(html: str) -> str:
    m = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert m, "form without a CSRF token"
    return m.group(1)


def log_in(client, username: str, password: str):  # type: ignore[no-untyped-def]
    form = client.get("/admin/login").get_data(as_text=True)
    return client.post("/admin/login", data={"csrf_token": csrf_token(form),
                                             "username": username, "password": password})


def pickled_globals(data: bytes) -> dict[str, bool]:
    """Every ``module.name`` the pickles in a Whoosh table of contents need: importable?"""
    found: dict[str, bool] = {}

    class Recording(pickle.Unpickler):
        def find_class(self, module: str, name: str):  # type: ignore[no-untyped-def]
            try:
                cls = super().find_class(module, name)
            except (ImportError, AttributeError):
                found[f"{module}.{name}"] = False
                return type(name, (), {})
            found.setdefault(f"{module}.{name}", True)
            return cls

    start = data.find(b"\x80")  # PROTO: where a pickle may begin
    while start >= 0:
        stream = io.BytesIO(data[start:])
        try:
            Recording(stream).load()
        except Exception:  # not a pickle there, or a stand-in class refused its state
            start = data.find(b"\x80", start + 1)
            continue
        start = data.find(b"\x80", start + stream.tell())
    return found


# --- the schema -------------------------------------------------------------------------------

def test_db_current_reports_head_and_upgrade_is_a_no_op(home, runner):
    before = schema_and_rows(home / "lienhop.sqlite3")
    res = runner.invoke("db", "current")
    assert res.exit_code == 0, res.output
    # Issue #15 adds one migration (0008: the harvest_worker table, workers' heartbeats) and
    # issue #16 another (0009: cost sharing's exchange rates, institution sizes, adopted
    # shares): the old database is two revisions behind, and the upgrade only adds tables.
    assert res.output.split() == ["current:", OLD_REVISION, "head:", NEW_REVISION], res.output
    res = runner.invoke("db", "upgrade")
    assert res.exit_code == 0, res.output
    schema, rows = schema_and_rows(home / "lienhop.sqlite3")
    added = [entry for entry in schema if entry not in before[0]]
    assert sorted(name for _kind, name, _sql in added) == [
        "cost_share", "exchange_rate", "harvest_worker", "institution_size",
        "ix_cost_share_key", "ix_harvest_worker_seen_at", "ix_institution_size_institution_id",
        "sqlite_autoindex_harvest_worker_1", "sqlite_autoindex_institution_size_1"]
    new_tables = {"harvest_worker", "cost_share", "exchange_rate", "institution_size"}
    assert {t: n for t, n in rows.items() if t not in new_tables} == before[1]
    assert runner.invoke("db", "current").output.split()[1] == NEW_REVISION


# --- the index ----------------------------------------------------------------------------------

def test_every_class_pickled_in_the_old_index_still_imports(home):
    # Whoosh pickles the schema, with our tokenizers' module paths, into every index it
    # writes: moving or renaming index.analysis.FoldTokenizer (say) breaks every existing
    # index until `lienhop index rebuild`. Keep an alias at the old path instead.
    [toc] = (home / "index").glob("g-*/_MAIN_*.toc")
    names = pickled_globals(toc.read_bytes())
    ours = sorted(n for n in names if n.split(".")[0] in ("index", "resolver", "harvesters"))
    assert ours == ["index.analysis.BigramTokenizer", "index.analysis.ExactTokenizer",
                    "index.analysis.FoldTokenizer"]
    missing = sorted(n for n, importable in names.items() if not importable)
    assert missing == [], f"pickled in every existing index, no longer importable: {missing}"


def test_old_index_opens_and_searches_through_the_index_package(home):
    ix = index.open_index(home / "index", readonly=True)
    assert ix.count() == 14  # the demo's 15 records but hue/106, a deletion
    hits = ix.search("thu vien so dai hoc hue").hits
    assert hits[0].record.id == LIBRARY and hits[0].record.title == LIBRARY_TITLE


def test_index_rebuild_from_the_old_archive(home, runner, client):
    res = runner.invoke("index", "rebuild")
    assert res.exit_code == 0, res.output
    assert "14 records, 0 failed" in res.output
    # A rebuild may show another record of a duplicate cluster than the harvest did (the
    # old release's rebuild does the same): compare with what its rebuild answered.
    assert_old_search_answers(client, "search_after_rebuild")


def test_incremental_harvest_into_the_old_index(home, runner, client):
    ix = index.open_index(home / "index", readonly=True)
    live, works = ix.count(), search(client, "")["total"]  # records; clusters of duplicates
    heritage_before = search(client, "hoang thanh")["ids"]
    # hue/101 changed at the source, hue/201 is new; the rest of the repository is unchanged
    # since the old harvest and so not listed by an incremental run.
    changed = DevRecord("oai:huespace.hueuni.edu.vn:hue/101", "2099-01-01T00:00:00Z",
                        {"oai_dc": dc_xml("Xây dựng lại thư viện số tại Đại học Huế", "101")})
    new = DevRecord("oai:huespace.hueuni.edu.vn:hue/201", "2099-01-01T00:00:00Z",
                    {"oai_dc": dc_xml("Bảo tồn di sản Hoàng thành Huế bằng công nghệ số",
                                      "201")})
    with OAIDevServer([changed, new], page_size=1, deleted_record="transient") as server:
        # The demo's repository moves to the test server: registry export, edit, import.
        exported = home.parent / "registry.toml"
        assert runner.invoke("registry", "export", str(exported)).exit_code == 0
        toml = exported.read_text(encoding="utf-8")
        assert '"http://127.0.0.1:5092/oai"' in toml
        exported.write_text(toml.replace("http://127.0.0.1:5092/oai", server.url),
                            encoding="utf-8")
        res = runner.invoke("registry", "import", str(exported))
        assert res.exit_code == 0, res.output
        res = runner.invoke("harvest", "hue-dspace")
    assert res.exit_code == 0, res.output
    assert "hue-dspace: ok: 2 pages, 1 added, 1 updated, 0 deleted" in res.output
    assert index.open_index(home / "index", readonly=True).count() == live + 1
    assert search(client, "")["total"] == works + 1
    assert search(client, "xay dung lai thu vien so")["ids"] == [LIBRARY]
    [heritage] = set(search(client, "hoang thanh")["ids"]) - set(heritage_before)
    assert heritage.startswith("hue-dspace-")
    assert heritage in search(client, "Bảo tồn di sản Hoàng thành Huế")["ids"]
    assert search(client, "bien doi khi hau")["ids"] == [CLIMATE]  # the old records stay


def dc_xml(title: str, number: str) -> str:
    return (
        '<oai_dc:dc xmlns:oai_dc="http://www.openarchives.org/OAI/2.0/oai_dc/" '
        'xmlns:dc="http://purl.org/dc/elements/1.1/">'
        f"<dc:title>{title}</dc:title><dc:creator>Nguyễn Văn Minh</dc:creator>"
        "<dc:date>2024</dc:date><dc:language>vi</dc:language>"
        f"<dc:identifier>http://hdl.handle.net/123456789/{number}</dc:identifier>"
        "</oai_dc:dc>")


# --- the web app ------------------------------------------------------------------------------

def test_home_search_and_record_pages(client):
    home_page = client.get("/")
    assert home_page.status_code == 200
    for q in ("thư viện số", "thu vien so"):
        res = client.get("/search", query_string={"q": q})
        assert res.status_code == 200
        assert f"/record/{LIBRARY}" in res.get_data(as_text=True), q
    record = client.get(f"/record/{LIBRARY}")
    assert record.status_code == 200
    assert LIBRARY_TITLE in record.get_data(as_text=True)
    assert client.get(f"/api/records/{LIBRARY}").get_json()["titles"] == [LIBRARY_TITLE]


def test_search_answers_what_the_old_release_answered(client):
    assert_old_search_answers(client)


def test_openurl_resolution_on_the_old_knowledge_base(client):
    body = client.get(f"/resolve/api?{TVU}&inst=hue&lang=en").get_json()
    # The old answer, plus what this release offers for a member's restricted article (issue
    # #15): its record page in TVU's journal site (ojs.tvu.edu.vn, under the domain of TVU's
    # website), ranked after the entitled full text. Its DOI's page is that full text without
    # Hue's proxy, so it is not offered twice.
    expected = list(OLD["resolve_tvu_hue"])
    expected.insert(1, ["repository", None, True])
    assert [[t["kind"], t["package"], t["available"]] for t in body["targets"]] == expected
    [page] = [t for t in body["targets"] if t["kind"] == "repository"]
    assert page["label"].startswith("Record page in the")
    res = client.get(f"/resolve?{TVU}&inst=hue&redirect=1")
    assert res.status_code == 302
    assert res.headers["Location"] == HUE_PROXY + "https://doi.org/10.35382/18594816.1.40.2021.700"
    menu = client.get(f"/resolve?{TVU}&inst=hue")
    assert menu.status_code == 200 and "Tạp chí Khoa học Trà Vinh" in menu.get_data(as_text=True)


def test_admin_logins_with_the_old_passwords_and_the_old_admin_data(client, home):
    assert log_in(client, OLD_ADMIN[0], "not the password").status_code != 302
    res = log_in(client, *OLD_ADMIN)
    assert res.status_code == 302, res.get_data(as_text=True)
    packages = client.get("/admin/kb/packages").get_data(as_text=True)
    assert "tckh-tvu" in packages and "ScienceDirect" in packages
    assert "Trần Thị Lan" in client.get("/admin/delivery").get_data(as_text=True)
    assert "192.0.2.192/26" in client.get("/admin/ranges/pending").get_data(as_text=True)
    assert "login" in client.get("/admin/audit").get_data(as_text=True)
    other = create_app().test_client()
    assert log_in(other, *OLD_INSTITUTION_ADMIN).status_code == 302


def test_oai_provider_serves_the_old_items(client):
    res = client.get("/oai?verb=ListRecords&metadataPrefix=oai_dc")
    assert res.status_code == 200
    assert res.get_data(as_text=True).count("<record>") == OLD["oai_records"]
    assert client.get("/oai?verb=Identify").status_code == 200


def test_usage_reports_over_the_old_logs(home, runner):
    month = OLD["traffic_month"]
    res = runner.invoke("usage", "rollup")
    assert res.exit_code == 0, res.output
    for name, lines in OLD["reports"].items():
        start, end = ("2024-01", "2024-03") if name == "downloads-by-package" else (month, month)
        res = runner.invoke("usage", "report", name, "--from", start, "--to", end)
        assert res.exit_code == 0, res.output
        assert res.output.splitlines() == lines, name


def test_fixture_stays_small_and_without_queue_or_logs():
    assert (FIXTURE / "instance.tar.gz").stat().st_size < 512 * 1024
    with tarfile.open(FIXTURE / "instance.tar.gz") as tar:
        names = tar.getnames()
    assert not [n for n in names if "queue" in n or n.endswith(".log") or "secret" in n]

