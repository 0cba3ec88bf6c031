"""Every KBART file in ../shared/data/kbart parses; rejected-row counts are reported."""

from collections import Counter
from datetime import date
from pathlib import Path

import pytest

from resolver.kb.coverage import covers
from resolver.kb.diff import diff_titles
from resolver.kb.kbart import parse_kbart
from tests.support.paths import SHARED_DATA

DATA = SHARED_DATA / "kbart"

pytestmark = [
    pytest.mark.realdata,
    pytest.mark.skipif(not DATA.is_dir(), reason=f"{DATA} absent"),
]


def _files() -> list[Path]:
    return sorted(p for p in DATA.iterdir() if p.suffix in (".txt", ".tsv"))


def test_every_file_parses_and_report_counts():
    total: Counter[str] = Counter()
    lines = []
    today = date(2024, 6, 15)
    for path in _files():
        r = parse_kbart(path.read_bytes())
        reasons = Counter(x.reason_en.split(":")[0] for x in r.rejected)
        lines.append(f"  {path.name}: {len(r.titles)} titles, {len(r.rejected)} rejected "
                     f"{dict(reasons)}")
        total["titles"] += len(r.titles)
        total["rejected"] += len(r.rejected)
        for t in r.titles:  # every accepted row must yield a usable coverage
            covers(t.coverage(), year=2010, today=today)
            assert t.coverage_depth and t.publication_title
    print(f"\nKBART realdata: {dict(total)}\n" + "\n".join(lines))
    assert total["titles"] > 14000
    assert total["rejected"] < 0.01 * total["titles"]


def test_span_file_depth_volltext_and_embargoes():
    r = parse_kbart((DATA / "span_kbart_embargo_rows_sample.tsv").read_bytes())
    depths = Counter(t.coverage_depth for t in r.titles)
    assert depths["fulltext"] > 1400  # "Volltext" normalised
    embargoes = Counter(t.embargo_info for t in r.titles)
    assert embargoes["P18M"] > 0 and all(e for e in embargoes)
    assert "zdb_id" in r.titles[0].extra


def test_annual_reviews_cr_only_phase1():
    r = parse_kbart((DATA / "gokb_AnnualReviews_SciencesCollection34_2011-04-27.txt")
                    .read_bytes())
    assert any("CR" in w for w in r.warnings)
    assert "notes" in r.columns
    t = next(t for t in r.titles if t.title_id == "anchem")
    assert t.online_identifier == "1936-1335" and t.date_first_issue_online == "2008"


def test_bom_file_and_monograph_dates():
    name = ("gokb_ScienceDirectStandard_Global_EBook-AgriculturalAndBiologicalSciences"
            "Pre-2007_2016-05-23.txt")
    r = parse_kbart((DATA / name).read_bytes())
    assert r.columns[0] == "publication_title"
    assert "parent_publication_title_id" in r.columns  # alias of parent_publication_id
    ed = parse_kbart((DATA / "gokb_CambridgeBooks_EdinburghUniversityPress_utf8.tsv")
                     .read_bytes())
    assert ed.titles[0].publication_type == "monograph"
    assert ed.titles[0].date_monograph_published_print == "2008-05-19"


def test_gokb_validation_errors_file():
    r = parse_kbart((DATA / "gokb_test_validation_serials_errors.txt").read_bytes())
    assert len(r.rejected) == 1 and "1673-3550" in r.rejected[0].reason_en


def test_diff_between_update_files():
    a = parse_kbart((DATA / "gokb_test_rest_update.txt").read_bytes()).titles
    b = parse_kbart((DATA / "gokb_test_rest_import_platform_fallback.txt").read_bytes()).titles
    d = diff_titles(a, b)
    assert not d.added and not d.removed
    assert [c.fields for c in d.changed] == [("title_url",)]
