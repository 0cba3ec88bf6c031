"""An OJS article's dc:source through the crosswalk into every citation export and OpenURL.

Issue 15: "Tạp chí Khoa học Trà Vinh; Số 40 (2021)" became volume 40, issue 2021 in APA,
RIS, BibTeX, CSL and OpenURLs (the parsing rule: tests/harvesters/test_source_citations.py).
"""

from __future__ import annotations

from urllib.parse import parse_qs

from lxml import etree

from harvesters.crosswalk import Header, crosswalk
from resolver.discovery import citations as export

OAI_DC = """<oai_dc:dc xmlns:oai_dc="http://www.openarchives.org/OAI/2.0/oai_dc/"
  xmlns:dc="http://purl.org/dc/elements/1.1/">
  <dc:title>Đánh giá chất lượng nước mặt tại tỉnh Trà Vinh</dc:title>
  <dc:creator>Nguyễn Văn An</dc:creator>
  <dc:type>info:eu-repo/semantics/article</dc:type>
  <dc:date>2021-06-30</dc:date>
  <dc:source>Tạp chí Khoa học Trà Vinh; Số 40 (2021)</dc:source>
  <dc:source>1859-4816</dc:source>
  <dc:language>vie</dc:language>
</oai_dc:dc>"""


def test_ojs_issue_and_year_reach_every_citation_export() -> None:
    record = crosswalk("oai_dc", etree.fromstring(OAI_DC),
                       Header("oai:tvu.edu.vn:article/1", "2021-07-01T00:00:00Z"),
                       repository="tvu-ojs", institution="tvu")
    assert (record.journal, record.volume, record.issue, record.year) == (
        "Tạp chí Khoa học Trà Vinh", "", "40", 2021)
    ris = export.to_ris(record).split("\r\n")
    assert "IS  - 40" in ris and not any(line.startswith("VL") for line in ris)
    bib = export.to_bibtex(record)
    assert "number = {40}" in bib and "volume" not in bib and "2021}" in bib
    csl = export.to_csl(record)
    assert csl["issue"] == "40" and "volume" not in csl
    assert csl["issued"] == {"date-parts": [[2021]]}
    kev = parse_qs(export.to_kev(record))
    assert kev["rft.issue"] == ["40"] and "rft.volume" not in kev
    assert kev["rft.date"] == ["2021"]
    apa = str(export.apa(record))
    assert "<i>Tạp chí Khoa học Trà Vinh</i>(40)." in apa and "2021)" in apa
