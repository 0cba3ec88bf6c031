"""A repository that leaves the registry file leaves search and lienhop's OAI-PMH feed too, as
when it is removed on the admin page (tests/resolver/harvesting/test_repository_removal.py):
`lienhop registry import` (with ``--prune`` for a whole institution) says how many records
went; ``--keep-records`` only disables it, as the admin page's "keep the records" does.
"""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

import index
from resolver import db
from resolver.harvesting.models import HarvestJob
from resolver.harvesting.queue import create_job
from resolver.oai.models import OaiItem
from resolver.registry.models import Institution, Repository
from resolver.settings import load_settings

LIVE_RECORDS = 5  # the demo hue-dspace set: 6 items, one of them deleted
ARCHIVED = 6

OTHER = """
[[institution]]
code = "tvu"
name_vi = "Đại học Trà Vinh"
status = "member"
"""
HUE_WITHOUT_REPOSITORY = """
[[institution]]
code = "hue"
name_vi = "Đại học Huế"
status = "member"
"""


@pytest.fixture
def harvested(cli, tmp_path):  # type: ignore[no-untyped-def]
    """``cli`` after a real harvest of hue-dspace, and its settings and sessions."""
    res = cli.invoke("harvest", "hue-dspace")
    assert res.exit_code == 0, res.output
    settings = load_settings()
    database = db.open_database(settings)
    assert searchable(settings) == LIVE_RECORDS
    assert oai_live(database.sessions) == LIVE_RECORDS
    return cli, settings, database.sessions


def searchable(settings: Any) -> int:
    return int(index.open_index(settings.index_dir, readonly=True).count())


def oai_live(sessions: Any) -> int:
    with sessions() as s:
        return len(s.scalars(select(OaiItem).where(OaiItem.deleted.is_(False))).all())


def oai_deleted(sessions: Any) -> int:
    with sessions() as s:
        return len(s.scalars(select(OaiItem).where(OaiItem.deleted.is_(True))).all())


def repository(sessions: Any) -> Repository | None:
    with sessions() as s:
        return s.scalar(select(Repository).where(Repository.code == "hue-dspace"))


def write(tmp_path: Any, text: str) -> str:
    path = tmp_path / "next.toml"
    path.write_text(text, encoding="utf-8")
    return str(path)


def test_prune_takes_a_leaving_institutions_records_out_of_search_and_the_feed(
        harvested, tmp_path):
    cli, settings, sessions = harvested
    trial = cli.invoke("registry", "import", "--prune", "--dry-run", write(tmp_path, OTHER))
    assert "hue-dspace (6 records)" in trial.output and "would be removed" in trial.output
    assert searchable(settings) == LIVE_RECORDS and repository(sessions) is not None
    res = cli.invoke("registry", "import", "--prune", write(tmp_path, OTHER))
    assert res.exit_code == 0, res.output
    assert "1 removed" in res.output  # the institution
    assert "hue-dspace (6 records)" in res.output  # the archive's deleted one too
    assert "6 records were removed from search" in res.output
    assert "announces them as deleted" in res.output and "--keep-records" in res.output
    assert searchable(settings) == 0
    assert oai_live(sessions) == 0 and oai_deleted(sessions) == LIVE_RECORDS
    assert repository(sessions) is None


def test_a_repository_dropped_from_its_institution_goes_the_same_way(harvested, tmp_path):
    cli, settings, sessions = harvested
    res = cli.invoke("registry", "import", write(tmp_path, HUE_WITHOUT_REPOSITORY))
    assert res.exit_code == 0, res.output
    assert "6 records were removed from search" in res.output
    assert searchable(settings) == 0 and oai_live(sessions) == 0
    assert repository(sessions) is None


@pytest.mark.parametrize("text", [OTHER, HUE_WITHOUT_REPOSITORY],
                         ids=["institution-left", "repository-left"])
def test_keep_records_only_stops_harvesting(harvested, tmp_path, text):
    cli, settings, sessions = harvested
    res = cli.invoke("registry", "import", "--prune", "--keep-records", write(tmp_path, text))
    assert res.exit_code == 0, res.output
    assert "Keep the records: only stop harvesting hue-dspace" in res.output
    assert searchable(settings) == LIVE_RECORDS and oai_live(sessions) == LIVE_RECORDS
    repo = repository(sessions)
    assert repo is not None and repo.enabled is False
    with sessions() as s:
        assert s.scalar(select(Institution).where(Institution.code == "hue")) is not None


def test_a_repository_with_a_harvest_under_way_stops_the_import(harvested, tmp_path):
    cli, settings, sessions = harvested
    with db.transaction(sessions) as s:
        repo = s.scalar(select(Repository).where(Repository.code == "hue-dspace"))
        create_job(s, repo, "incremental", "test")
    res = cli.invoke("registry", "import", "--prune", write(tmp_path, OTHER))
    assert res.exit_code == 1
    assert "queued or running" in res.output and "nothing was changed" in res.output
    assert searchable(settings) == LIVE_RECORDS and repository(sessions) is not None
    with sessions() as s:
        assert s.scalar(select(HarvestJob)) is not None
