"""Target ordering, entitlement dates and direct-redirect choice."""

from datetime import date

from resolver.kb.coverage import Coverage, covers_citation
from resolver.linking.ranking import (
    CatalogueLink,
    DeliveryOption,
    Grant,
    Holding,
    OpenCopy,
    best_redirect,
    is_entitled,
    rank_targets,
)
from resolver.openurl import parse_openurl

TODAY = date(2024, 6, 15)
CIT = parse_openurl("rft.jtitle=J&rft.issn=0025-6196&rft.date=2010-05&rft.volume=80")
COV1995 = Coverage.from_kbart("1995")


def holding(pkg, *, inst="VNU", cov=COV1995, article=None, title="https://t.example/",
            start=None, end=None):
    return Holding(pkg, [Grant(inst, start, end)], covers_citation(cov, CIT, TODAY),
                   article, title)


def test_is_entitled_inclusive_dates_and_mid_year_join():
    ents = [Grant("CTU", date(2024, 7, 1), None), Grant("VNU", None,
                                                                    date(2024, 6, 15))]
    assert is_entitled(ents, "VNU", TODAY)
    assert not is_entitled(ents, "VNU", date(2024, 6, 16))
    assert not is_entitled(ents, "CTU", date(2024, 6, 30))
    assert is_entitled(ents, "CTU", date(2024, 7, 1))
    assert not is_entitled(ents, None, TODAY)
    assert not is_entitled([], "VNU", TODAY)


def test_full_order():
    targets = rank_targets(
        CIT, "VNU",
        [
            holding("Title-level pkg"),
            holding("Not entitled", inst="CTU", article="https://a.example/ne"),
            holding("ScienceDirect", article="https://sd.example/a"),
            holding("Not covered", cov=Coverage.from_kbart("2015"),
                    article="https://nc.example/"),
        ],
        [OpenCopy("https://repo.example/x", "Repo", "platform"),
         OpenCopy("https://lienhop.example/oa/1", "Lienhop", "index")],
        [CatalogueLink("https://opac.example/?isbn=1", "VNU")],
        [DeliveryOption("https://dd.example/?kev", "VNU")],
        today=TODAY,
    )
    kinds = [(t.kind, t.package or t.url, t.available) for t in targets]
    assert kinds == [
        ("fulltext", "ScienceDirect", True),  # article level first
        ("fulltext", "Title-level pkg", True),
        ("open", "https://lienhop.example/oa/1", True),  # own index first
        ("open", "https://repo.example/x", True),
        ("catalogue", "https://opac.example/?isbn=1", True),
        ("delivery", "https://dd.example/?kev", True),
        ("fulltext", "Not entitled", False),
        ("fulltext", "Not covered", False),
    ]
    ne = targets[6]
    assert ne.reason_en == ("Not entitled covers 1995–present, but your institution is not "
                            "in the sub-consortium")
    assert "không tham gia" in ne.reason_vi and "1995–nay" in ne.reason_vi
    nc = targets[7]
    assert "before the range" in nc.reason_en and "2015" in nc.reason_vi
    assert all(t.label_vi and t.label_en for t in targets)


def test_unknown_institution_explains():
    t = rank_targets(CIT, None, [holding("SD", article="https://sd.example/a")], today=TODAY)
    assert not t[0].available and "which library" in t[0].reason_en


def test_entitlement_expired_makes_target_unavailable():
    t = rank_targets(CIT, "VNU", [holding("SD", article="https://sd.example/a",
                                          end=date(2023, 12, 31))], today=TODAY)
    assert not t[0].available


def test_best_redirect_prefers_article_fulltext_then_open():
    t = rank_targets(CIT, "VNU", [holding("SD", article="https://sd.example/a")],
                     [OpenCopy("https://repo.example/x", "Repo")], today=TODAY)
    assert best_redirect(t).url == "https://sd.example/a"
    t = rank_targets(CIT, "VNU", [holding("Title only")],
                     [OpenCopy("https://repo.example/x", "Repo")], today=TODAY)
    assert best_redirect(t).url == "https://repo.example/x"  # title level is not a redirect
    t = rank_targets(CIT, "VNU", [holding("Title only")],
                     catalogue=[CatalogueLink("https://opac.example/")], today=TODAY)
    assert best_redirect(t) is None


def test_partial_coverage_is_available_but_not_redirected():
    year_only = parse_openurl("rft.jtitle=J&rft.date=1995")
    cov = Coverage.from_kbart("1995-06-01")
    h = Holding("SD", [Grant("VNU")], covers_citation(cov, year_only, TODAY),
                "https://sd.example/a", None)
    t = rank_targets(year_only, "VNU", [h], today=TODAY)
    assert t[0].available and t[0].partial and "check the issue" in t[0].reason_en
    assert best_redirect(t) is None
