"""Which repositories leave the registry in an import (resolver/registry/sync.py): the ones
the file no longer lists, never one that moved to another institution; with
``keep_repositories`` they stay, disabled."""

from __future__ import annotations

import pytest

from resolver import db
from resolver.registry.sync import apply_registry
from resolver.registry.toml_file import parse_registry

BOTH = """
[[institution]]
code = "hue"
name_vi = "Đại học Huế"
status = "member"

[[institution.repository]]
code = "hue-dspace"
oai_url = "https://dspace.hueuni.edu.vn/oai"

[[institution.repository]]
code = "hue-ojs"
oai_url = "https://ojs.hueuni.edu.vn/oai"

[[institution]]
code = "tvu"
name_vi = "Đại học Trà Vinh"
status = "member"

[[institution.repository]]
code = "tvu-ojs"
oai_url = "https://ojs.tvu.edu.vn/oai"
"""
#: hue-ojs moved to tvu, hue-dspace gone, hue itself gone
MOVED = """
[[institution]]
code = "tvu"
name_vi = "Đại học Trà Vinh"
status = "member"

[[institution.repository]]
code = "tvu-ojs"
oai_url = "https://ojs.tvu.edu.vn/oai"

[[institution.repository]]
code = "hue-ojs"
oai_url = "https://ojs.hueuni.edu.vn/oai"
"""


@pytest.fixture
def sessions(db_url):  # type: ignore[no-untyped-def]
    engine = db.make_engine(db_url)
    db.upgrade(engine)
    factory = db.session_factory(engine)
    with db.transaction(factory) as s:
        apply_registry(s, parse_registry(BOTH))
    return factory


def test_a_moved_repository_does_not_leave(sessions):
    with db.transaction(sessions) as s:
        report = apply_registry(s, parse_registry(MOVED), prune=True)
    assert report.removed == ["hue"]
    assert report.repositories_removed == ["hue-dspace"]
    assert report.repositories_disabled == []


def test_without_prune_only_the_listed_institutions_repositories_leave(sessions):
    with db.transaction(sessions) as s:
        report = apply_registry(s, parse_registry(MOVED))
    assert report.absent == ["hue"] and report.repositories_removed == []


def test_keeping_them_disables_them_and_keeps_their_institution(sessions):
    with db.transaction(sessions) as s:
        report = apply_registry(s, parse_registry(MOVED), prune=True, keep_repositories=True)
    assert report.removed == [] and report.absent == ["hue"]
    assert report.repositories_disabled == ["hue-dspace"]
    assert report.repositories_removed == []
