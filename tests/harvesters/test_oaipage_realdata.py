"""Every recorded real-world OAI-PMH body through parse_page and, for records, the crosswalk.

No exception may escape: a body that is not an OAI response (or not well-formed) must come
out as a counted, logged error; a record the crosswalk refuses is counted too.
"""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from harvesters.crosswalk import CrosswalkError, crosswalk
from harvesters.page import PageError, parse_page

DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "oai"

pytestmark = [
    pytest.mark.realdata,
    pytest.mark.skipif(not DATA.is_dir(), reason=f"shared OAI corpus absent: {DATA}"),
]


def _files() -> list[Path]:
    return sorted(p for p in DATA.rglob("*.xml") if p.is_file())


def test_every_real_body_parses_or_fails_cleanly(caplog):
    files = _files()
    assert files
    stats = {"files": 0, "pages": 0, "not_oai": 0, "salvaged": 0, "records": 0,
             "deleted": 0, "record_problems": 0, "crosswalked": 0, "crosswalk_errors": 0,
             "oai_errors": 0, "tokens": 0, "stripped_files": 0}
    refused: list[str] = []
    with caplog.at_level(logging.WARNING, logger="lienhop.harvest"):
        for path in files:
            stats["files"] += 1
            try:
                page = parse_page(path.read_bytes(), repository=path.parent.name)
            except PageError as exc:
                stats["not_oai"] += 1
                refused.append(f"{path.relative_to(DATA)}: {type(exc).__name__}: {exc}"[:160])
                continue
            stats["pages"] += 1
            stats["salvaged"] += page.salvaged
            stats["oai_errors"] += len(page.errors)
            stats["tokens"] += bool(page.token and page.token.value)
            stats["stripped_files"] += bool(page.stripped or page.bad_bytes)
            for rec in page.records:
                stats["records"] += 1
                if rec.problem:
                    stats["record_problems"] += 1
                    continue
                if rec.deleted:
                    stats["deleted"] += 1
                    continue
                if rec.metadata is None:  # ListIdentifiers
                    continue
                prefix = "oai_dc"
                try:
                    crosswalk(prefix, rec.metadata, rec.header,
                              repository=path.parent.name, institution="test")
                    stats["crosswalked"] += 1
                except CrosswalkError:
                    stats["crosswalk_errors"] += 1
    print("\nrealdata oaipage:", " ".join(f"{k}={v}" for k, v in stats.items()))
    for line in refused:
        print("  refused:", line)
    assert stats["pages"] + stats["not_oai"] == stats["files"]
    assert stats["records"] > 100 and stats["crosswalked"] > 100
    # every refusal is logged or carries a clear message; nothing escaped as an exception
    assert all(": " in line for line in refused)
