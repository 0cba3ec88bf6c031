"""`lienhop kb`: import with a report, atomic re-import, entitlements, list; both databases."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select

from resolver import db
from resolver.kb.errors import KbError
from resolver.kb.importer import import_kbart
from resolver.kb.models import KbTitle, Package
from resolver.registry.models import Institution
from resolver.settings import load_settings
from tests.support.kb_site import FIXTURES, HYDROLOGY

V1 = str(FIXTURES / "sciencedirect_2024.tsv")
V2 = str(FIXTURES / "sciencedirect_2025.tsv")


@pytest.fixture
def kb_runner(runner, lienhop_env, db_url, monkeypatch):  # type: ignore[no-untyped-def]
    """The CLI against a fresh database on each backend, with two institutions."""
    monkeypatch.setenv("LIENHOP_DATABASE_URL", db_url)
    engine = db.make_engine(load_settings().database_url)
    db.upgrade(engine)
    with db.transaction(db.session_factory(engine)) as s:
        s.add_all([Institution(code="hue", name_vi="Đại học Huế", status="member"),
                   Institution(code="ctu", name_vi="Đại học Cần Thơ", status="member")])
    runner.engine = engine
    return runner


def titles(engine, package: str = "sd") -> list[str]:  # type: ignore[no-untyped-def]
    with db.transaction(db.session_factory(engine)) as s:
        return sorted(s.scalars(select(KbTitle.title).join(Package)
                                .where(Package.code == package)))


def test_import_then_reimport_reports_added_changed_removed_rejected(kb_runner):
    first = kb_runner.invoke("kb", "import", "sd", V1, "--name", "ScienceDirect",
                             "--article-template", "https://doi.org/{doi}")
    assert first.exit_code == 0, first.output
    assert "sd (new): 4 rows" in first.output and "added: 4" in first.output
    second = kb_runner.invoke("kb", "import", "sd", V2)
    assert second.exit_code == 0, second.output
    out = second.output
    assert "added: 1, changed: 1, removed: 1; rows rejected: 2" in out
    assert "added: New Materials" in out
    assert "changed: Journal of Hydrology (date_last_issue_online)" in out
    assert "removed: Old Chemistry" in out
    assert "ISSN '1234-5678' has a wrong check digit" in out
    assert "title_url 'javascript:alert(1)' is not an http(s) URL" in out
    assert "sai số kiểm tra" in out  # the reason in Vietnamese too
    assert titles(kb_runner.engine) == ["Embargoed Letters", "Journal of Hydrology",
                                        "New Materials", "Tạp chí Khoa học và Công nghệ"]
    # The package keeps its settings when re-imported without them.
    with db.transaction(db.session_factory(kb_runner.engine)) as s:
        pkg = s.scalar(select(Package).where(Package.code == "sd"))
        assert pkg.article_template == "https://doi.org/{doi}" and pkg.name == "ScienceDirect"


@pytest.mark.parametrize("bad", ["not_kbart.tsv", "all_rejected.tsv"])
def test_a_bad_file_changes_nothing(kb_runner, bad):
    assert kb_runner.invoke("kb", "import", "sd", V1).exit_code == 0
    before = titles(kb_runner.engine)
    res = kb_runner.invoke("kb", "import", "sd", str(FIXTURES / bad))
    assert res.exit_code == 2
    assert "not changed" in res.output or "not a KBART file" in res.output
    assert titles(kb_runner.engine) == before


def test_strict_refuses_a_file_with_rejected_rows(kb_runner):
    kb_runner.invoke("kb", "import", "sd", V1)
    before = titles(kb_runner.engine)
    res = kb_runner.invoke("kb", "import", "sd", V2, "--strict")
    assert res.exit_code == 2 and "2 rows rejected" in res.output
    assert titles(kb_runner.engine) == before


def test_dry_run_reports_but_changes_nothing(kb_runner):
    kb_runner.invoke("kb", "import", "sd", V1)
    res = kb_runner.invoke("kb", "import", "sd", V2, "--dry-run")
    assert "would be added: 1" in res.output
    assert "Old Chemistry" in titles(kb_runner.engine)


def test_failure_mid_import_rolls_back_to_the_old_titles(kb_runner, monkeypatch):
    kb_runner.invoke("kb", "import", "sd", V1)
    before = titles(kb_runner.engine)
    import resolver.kb.importer as kb

    real = kb._to_row
    calls = {"n": 0}

    def failing(t):  # type: ignore[no-untyped-def]
        calls["n"] += 1
        if calls["n"] == 3:
            raise RuntimeError("disk full")
        return real(t)

    monkeypatch.setattr(kb, "_to_row", failing)
    with pytest.raises(RuntimeError), db.transaction(
            db.session_factory(kb_runner.engine)) as s:
        kb.import_kbart(s, "sd", Path(V2).read_bytes())
    assert titles(kb_runner.engine) == before


def test_templates_that_let_the_citation_pick_the_host_are_refused(kb_runner):
    for template in ("{doi}", "https://{doi}/x", "javascript:alert(1)"):
        res = kb_runner.invoke("kb", "import", "sd", V1, "--article-template", template)
        assert res.exit_code == 2, template
    assert titles(kb_runner.engine) == []


def test_entitle_and_list(kb_runner):
    kb_runner.invoke("kb", "import", "sd", V1, "--name", "ScienceDirect")
    ok = kb_runner.invoke("kb", "entitle", "sd", "hue", "--from", "2024-07-01")
    assert ok.exit_code == 0 and "hue has sd from 2024-07-01" in ok.output
    kb_runner.invoke("kb", "entitle", "sd", "ctu", "--from", "2020-01-01", "--to", "2023-12-31")
    listing = kb_runner.invoke("kb", "list").output
    assert "sd" in listing and "4 titles" in listing and "ScienceDirect" in listing
    assert "- hue 2024-07-01 – …" in listing
    assert "- ctu 2020-01-01 – 2023-12-31" in listing
    # Re-running the same grant updates it instead of duplicating it.
    kb_runner.invoke("kb", "entitle", "sd", "hue", "--from", "2024-07-01", "--to", "2026-06-30")
    listing = kb_runner.invoke("kb", "list").output
    assert listing.count("- hue") == 1 and "- hue 2024-07-01 – 2026-06-30" in listing
    removed = kb_runner.invoke("kb", "entitle", "sd", "ctu", "--remove")
    assert removed.exit_code == 0 and "- ctu" not in kb_runner.invoke("kb", "list").output


def test_entitle_errors(kb_runner):
    kb_runner.invoke("kb", "import", "sd", V1)
    assert kb_runner.invoke("kb", "entitle", "sd", "nowhere").exit_code == 1
    assert kb_runner.invoke("kb", "entitle", "nopkg", "hue").exit_code == 1
    assert kb_runner.invoke("kb", "entitle", "sd", "hue", "--from", "July").exit_code == 2
    bad = kb_runner.invoke("kb", "entitle", "sd", "hue", "--from", "2025-01-01",
                           "--to", "2024-01-01")
    assert bad.exit_code == 1 and "before it starts" in bad.output


def test_settings_and_platform_commands_feed_the_resolver(kb_runner, lienhop_env):
    from resolver import create_app

    kb_runner.invoke("kb", "import", "sd", V1, "--article-template", "https://doi.org/{doi}")
    kb_runner.invoke("kb", "entitle", "sd", "hue")
    res = kb_runner.invoke("kb", "settings", "hue", "--proxy",
                           "https://ezproxy.hue.example/login?qurl=", "--redirect")
    assert res.exit_code == 0, res.output
    res = kb_runner.invoke("kb", "platform", "openscience", "Openscience.vn",
                           "https://openscience.vn/search?q={atitle}")
    assert res.exit_code == 0, res.output
    assert kb_runner.invoke("kb", "settings", "hue", "--proxy", "ftp://x").exit_code == 1
    client = create_app(load_settings()).test_client()
    out = client.get("/resolve?" + HYDROLOGY + "&inst=hue")
    assert out.status_code == 302  # the institution's redirect default
    assert out.headers["Location"] == ("https://ezproxy.hue.example/login?qurl="
                                       "https%3A%2F%2Fdoi.org%2F10.1016%2Fj.jhydrol.2019.01.001")


def test_import_api_raises_without_touching_the_session(kb_runner):
    with db.transaction(db.session_factory(kb_runner.engine)) as s:
        with pytest.raises(KbError):
            import_kbart(s, "Bad Code!", b"publication_title\tprint_identifier\n")
        assert s.scalar(select(func.count()).select_from(Package)) == 0
