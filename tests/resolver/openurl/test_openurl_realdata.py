"""Every OpenURL in ../shared/data/openurl parses (CitationError allowed), plus spot checks."""

from collections import Counter
from pathlib import Path

import pytest

from resolver.openurl import CitationError, parse_coins, parse_openurl
from tests.support.paths import SHARED_DATA

DATA = SHARED_DATA / "openurl"

pytestmark = [
    pytest.mark.realdata,
    pytest.mark.skipif(not DATA.is_dir(), reason=f"{DATA} absent"),
]


def _lines(path: Path) -> list[str]:
    """One OpenURL per line; .tsv files carry it in the last column after a header."""
    text = path.read_bytes().decode("utf-8", errors="surrogateescape")
    rows = [r for r in text.splitlines() if r.strip()]
    if path.suffix == ".tsv":
        return [r.split("\t")[-1] for r in rows[1:]]
    return rows


def _files() -> list[Path]:
    return sorted(p for p in DATA.glob("*") if p.suffix in (".txt", ".tsv"))


def test_every_openurl_parses_without_unexpected_exception():
    counts: Counter[str] = Counter()
    per_file: dict[str, Counter[str]] = {}
    for path in _files():
        fc: Counter[str] = Counter()
        parse = parse_coins if path.name.startswith("coins_") else parse_openurl
        for line in _lines(path):
            try:
                c = parse(line)
            except CitationError:
                fc["citation_error"] += 1
                continue
            fc["ok"] += 1
            fc["with_doi"] += bool(c.doi)
            fc["with_year"] += c.year is not None
            fc["repaired"] += bool(c.warnings)
        per_file[path.name] = fc
        counts.update(fc)
    report = "\n".join(f"  {name}: {dict(fc)}" for name, fc in per_file.items())
    print(f"\nOpenURL realdata: {dict(counts)}\n{report}")
    assert counts["ok"] > 4000
    # Hopeless lines (no title, no identifier) must stay rare.
    assert counts["citation_error"] < 0.03 * (counts["ok"] + counts["citation_error"])


def _find(fname: str, needle: str) -> str:
    return next(line for line in _lines(DATA / fname) if needle in line)


def test_spot_elsevier_double_question_mark():
    c = parse_openurl(_find("nyu_getit_random_100.txt", "Postural Pseudoanemia"))
    assert c.doi == "10.4065/80.5.611"
    assert c.issn == "0025-6196" and c.jtitle == "Mayo Clinic Proceedings"
    assert (c.year, c.volume, c.issue, c.spage) == (2005, "80", "5", "611")


def test_spot_wanfang_unicode_escapes():
    c = parse_openurl(_find("nyu_getit_random_100.txt", "fzysh2017"))
    assert c.jtitle == "法制与社会 / Legal System and Society"
    assert c.issn == "1009-0592" and c.year == 2017


def test_spot_primo_reshare_book():
    c = parse_openurl((DATA / "reshare_example1.openurl.txt").read_text())
    assert c.format == "book" and c.btitle == "Property and wealth in classical Sparta"
    assert c.isbn == "9780715630402" and c.year == 2000 and c.place == "London"
    assert c.authors == []  # rft.au="," dropped


def test_spot_primo_template_and_empty_format():
    c = parse_openurl((DATA / "reshare_new-school1.openurl.txt").read_text())
    assert c.doi == "10.1002/gj.2426" and c.eissn == "1099-1034"
    assert (c.year, c.month) == (2013, 3)
    assert "vi+394" in c.atitle  # literal plus in a %20-encoded URL
    assert any("template" in w for w in c.warnings)


def test_spot_issue_thread_ebsco_and_alma():
    ebsco = parse_openurl(_find("issue_thread_openurls.tsv", "PMM-12-2017-0059"))
    assert ebsco.doi == "10.1108/pmm-12-2017-0059"
    assert ebsco.issn == "1467-8047" and (ebsco.year, ebsco.month, ebsco.day) == (2018, 2, 5)
    assert (ebsco.spage, ebsco.epage) == ("66", "74")
    bookitem = parse_openurl(_find("issue_thread_openurls.tsv", "Borges"))
    assert bookitem.genre == "bookitem" and bookitem.btitle == "Defining Neomedievalism(s) II"
    assert bookitem.aulast == "Brljak" and bookitem.isbn == "9781843842675"
    with pytest.raises(CitationError):  # SFX kbmanager call: no citation in it
        parse_openurl(_find("issue_thread_openurls.tsv", "kbmanager"))


def test_spot_wikipedia_coins():
    cites = [parse_coins(line) for line in _lines(DATA / "coins_wikipedia_mozilla_article.txt")]
    assert len(cites) == 71
    book = next(c for c in cites if c.btitle and "Netscape" in c.btitle)
    assert book.isbn == "9781404207196" and book.authors == ["Payment, S."]
    assert all(c.rfr_id == "info:sid/en.wikipedia.org:Mozilla" for c in cites)


def test_spot_ruby_openurl_hybrid():
    c = parse_openurl(_find("umlaut_test_openurls.tsv", "Madsbad"))
    assert c.doi == "10.1016/s2213-8587(13)70218-3"
    assert c.jtitle == "The Lancet Diabetes & Endocrinology"
