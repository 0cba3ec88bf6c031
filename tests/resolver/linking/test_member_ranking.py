"""Where a member's restricted record ranks, and what it offers, with plain values: the pure
ranking (resolver/linking/ranking.py) and resolver/linking/member_records.py."""

from datetime import date

import pytest

from index import Record
from resolver.kb.coverage import Coverage, covers_citation
from resolver.linking.member_records import doi_link, member_targets
from resolver.linking.ranking import (
    CatalogueLink,
    DeliveryOption,
    DoiLink,
    Grant,
    Holding,
    OpenCopy,
    RecordPage,
    best_redirect,
    rank_targets,
)
from resolver.openurl import parse_openurl
from resolver.usage.tables import KIND_LABELS

TODAY = date(2024, 6, 15)
CIT = parse_openurl("rft.jtitle=J&rft.issn=0025-6196&rft.date=2010-05&rft.volume=80")
COVERED = covers_citation(Coverage.from_kbart("1995"), CIT, TODAY)
PAGE = RecordPage("https://sj.ctu.edu.vn/article/view/7", "Đại học Cần Thơ", "Can Tho University")
DOI = DoiLink("https://doi.org/10.1234/abc", "10.1234/abc")


def test_record_page_and_doi_come_below_full_text_and_open_copies_above_the_catalogue():
    targets = rank_targets(
        CIT, "VNU",
        [Holding("Not entitled", [Grant("CTU")], COVERED, "https://ne.example/a"),
         Holding("SD", [Grant("VNU")], COVERED, "https://sd.example/a")],
        [OpenCopy("https://openscience.example/s", "Openscience", "platform"),
         OpenCopy("https://lienhop.example/oa/1", "Lienhop", "index")],
        [CatalogueLink("https://opac.example/?q=1", "VNU")],
        [DeliveryOption("/resolve/delivery?x", "")],
        today=TODAY, record_pages=[PAGE], doi_links=[DOI],
    )
    assert [(t.kind, t.url, t.available) for t in targets] == [
        ("fulltext", "https://sd.example/a", True),
        ("open", "https://lienhop.example/oa/1", True),
        ("open", "https://openscience.example/s", True),
        ("repository", PAGE.url, True),
        ("publisher", DOI.url, True),
        ("catalogue", "https://opac.example/?q=1", True),
        ("delivery", "/resolve/delivery?x", True),
        ("fulltext", "https://ne.example/a", False),
    ]


def test_without_full_text_or_open_copies_they_lead_the_menu_but_are_not_redirects():
    targets = rank_targets(CIT, None, [], [], [], [DeliveryOption("/d")], today=TODAY,
                           record_pages=[PAGE], doi_links=[DOI])
    assert [t.kind for t in targets] == ["repository", "publisher", "delivery"]
    assert best_redirect(targets) is None


def test_labels_say_whose_repository_and_that_access_may_be_restricted():
    page, doi = rank_targets(CIT, None, [], today=TODAY, record_pages=[PAGE], doi_links=[DOI])
    assert page.label_vi == "Trang biểu ghi tại kho của Đại học Cần Thơ (có thể hạn chế truy cập)"
    assert page.label_en == ("Record page in the Can Tho University repository "
                             "(access may be restricted)")
    assert (doi.label_vi, doi.label_en) == ("Trang của nhà xuất bản (DOI 10.1234/abc)",
                                            "Publisher's page (DOI 10.1234/abc)")
    assert page.package is None and doi.package is None


@pytest.mark.parametrize("written", [
    "10.1234/ABC", "doi:10.1234/abc", "DOI: 10.1234/Abc", "info:doi/10.1234/ABC",
    "https://doi.org/10.1234/ABC", "http://dx.doi.org/10.1234%2Fabc", "urn:doi:10.1234/abc.",
])
def test_a_doi_written_any_way_gives_one_link(written):
    assert doi_link(written) == DoiLink("https://doi.org/10.1234/abc", "10.1234/abc")


@pytest.mark.parametrize("written", [
    None, "", "https://evil.example/10.1234/abc", "javascript:alert(1)", "10.12/abc",
    "see the publisher",
])
def test_what_is_not_a_doi_gives_no_link(written):
    assert doi_link(written) is None


def test_a_doi_is_percent_encoded_in_the_url_but_for_its_slashes():
    link = doi_link("10.1002/(SICI)1097-4571(199806)49:8<693::AID-ASI4>3.0.CO;2-O")
    assert link is not None
    assert link.url == ("https://doi.org/10.1002/%28sici%291097-4571%28199806%2949%3A8%3C693"
                        "%3A%3Aaid-asi4%3E3.0.co%3B2-o")


def _rec(n: int, *, urls: list[str], doi: str | None = "10.1234/abc", access: str = "restricted",
         repository: str = "ctu-ojs") -> Record:
    return Record(id=f"{repository}-{n}", oai_identifier=f"oai:x:{n}", repository=repository,
                  institution="ctu", titles=["T"], doi=doi, urls=urls, access=access)


def _targets(records: list[Record], citation_doi: str | None = None):  # type: ignore[no-untyped-def]
    return member_targets(
        records, citation_doi=citation_doi,
        owns=lambda url, repo: repo == "ctu-ojs" and url.startswith("https://sj.ctu.edu.vn/"),
        names=lambda repo: ("Đại học Cần Thơ", "Can Tho University")
        if repo == "ctu-ojs" else None)


def test_member_targets_of_restricted_records_only():
    got = _targets([
        _rec(1, urls=["https://sj.ctu.edu.vn/1"], access="open"),
        _rec(2, urls=["https://hdl.handle.net/1/2", "https://sj.ctu.edu.vn/2"]),
        _rec(3, urls=["https://sj.ctu.edu.vn/2"]),  # the same page again: offered once
    ])
    assert got.pages == (RecordPage("https://sj.ctu.edu.vn/2", "Đại học Cần Thơ",
                                    "Can Tho University"),)
    assert got.dois == (DoiLink("https://doi.org/10.1234/abc", "10.1234/abc"),)
    assert got.withheld == ()


def test_member_targets_withhold_foreign_pages_and_say_so():
    got = _targets([_rec(4, urls=["https://evil.example/x", "https://doi.org/10.1234/abc"]),
                    _rec(5, urls=["https://sj.ctu.edu.vn/5"], repository="gone")])
    assert got.pages == ()
    assert [(w.record_id, w.host) for w in got.withheld] == [("ctu-ojs-4", "evil.example"),
                                                             ("gone-5", "sj.ctu.edu.vn")]
    vi, en = got.withheld[0].note()
    assert "evil.example" in vi and "ctu-ojs" in vi and "not offered" in en


def test_a_record_found_by_title_with_another_doi_gives_no_doi_link():
    got = _targets([_rec(6, urls=["https://sj.ctu.edu.vn/6"], doi="10.9999/other")],
                   citation_doi="10.1234/abc")
    assert got.dois == () and len(got.pages) == 1


def test_usage_reports_name_every_kind_of_target():
    """A click's kind is shown in the usage reports in words, not as a code."""
    targets = rank_targets(
        CIT, "VNU", [Holding("SD", [Grant("VNU")], COVERED, "https://sd.example/a")],
        [OpenCopy("https://o.example/", "O")], [CatalogueLink("https://c.example/", "C")],
        [DeliveryOption("/d")], today=TODAY, record_pages=[PAGE], doi_links=[DOI])
    assert {t.kind for t in targets} <= set(KIND_LABELS)


def test_withheld_pages_are_noted_a_few_times_at_most():
    got = _targets([_rec(7, urls=[f"https://evil{i}.example/x" for i in range(50)]
                         + ["https://sj.ctu.edu.vn@evil.example/x"])])
    assert [w.host for w in got.withheld] == [f"evil{i}.example" for i in range(5)]
    got = _targets([_rec(8, urls=["https://sj.ctu.edu.vn@evil.example/x"])])
    assert [w.host for w in got.withheld] == ["sj.ctu.edu.vn@evil.example"]
