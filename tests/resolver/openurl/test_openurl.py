"""Spec for resolver.openurl: each test pins one real-world repair or rule."""

import contextlib
import time
from datetime import date

import pytest

from resolver.openurl import (
    CitationError,
    citation_to_dict,
    citation_to_kev,
    normalize_doi,
    normalize_isbn,
    normalize_issn,
    parse_coins,
    parse_date,
    parse_openurl,
)

KEV10 = (
    "url_ver=Z39.88-2004&ctx_ver=Z39.88-2004&rfr_id=info%3Asid%2FElsevier%3ASD"
    "&rft_val_fmt=info%3Aofi%2Ffmt%3Akev%3Amtx%3Ajournal&rft.genre=article"
    "&rft.atitle=Postural+Pseudoanemia&rft.jtitle=Mayo+Clinic+Proceedings"
    "&rft.aulast=Jacob&rft.aufirst=Grace&rft.date=2005-05&rft.volume=80&rft.issue=5"
    "&rft.spage=611&rft.epage=614&rft.issn=0025-6196&rft_id=info%3Adoi%2F10.4065%2F80.5.611"
)


def test_openurl_10_journal_article():
    c = parse_openurl(KEV10)
    assert (c.genre, c.format, c.version) == ("article", "journal", "1.0")
    assert c.atitle == "Postural Pseudoanemia"
    assert c.jtitle == c.title == "Mayo Clinic Proceedings"
    assert c.authors == ["Jacob, Grace"]
    assert (c.year, c.month, c.day) == (2005, 5, None)
    assert (c.volume, c.issue, c.spage, c.epage) == ("80", "5", "611", "614")
    assert c.issn == "0025-6196" and c.issn_valid is True
    assert c.doi == "10.4065/80.5.611"
    assert c.rfr_id == "info:sid/Elsevier:SD" and c.sid == "Elsevier:SD"
    assert c.warnings == []


def test_openurl_01_with_id_doi_and_sid():
    c = parse_openurl(
        "sid=google&aulast=Madsbad&atitle=Mechanisms&id=doi:10.1016/S2213-8587(13)70218-3"
        "&title=The+Lancet+Diabetes+%26+Endocrinology&volume=2&issue=2&date=2014"
        "&spage=152&issn=2213-8587&id=pmid:12345"
    )
    assert c.version == "0.1"
    assert c.genre == "article"  # inferred: atitle + journal title
    assert c.jtitle == "The Lancet Diabetes & Endocrinology"
    assert c.doi == "10.1016/s2213-8587(13)70218-3"
    assert c.pmid == "12345"
    assert c.rfr_id == "info:sid/google"


def test_full_url_and_leading_double_question_mark():
    c = parse_openurl("getit.library.nyu.edu/resolve??ctx_ver=Z39.88-2004&rft.title=Nature")
    assert c.jtitle == "Nature"
    assert any("??" in w for w in c.warnings)
    assert parse_openurl("??issn=0028-0836").issn == "0028-0836"


def test_missing_ctx_ver_is_accepted_with_note():
    c = parse_openurl("url_ver=Z39.88-2004&rft.genre=book&rft.btitle=Smart+Testing&rft.date=2006")
    assert c.format == "book" and c.btitle == "Smart Testing"
    assert any("ctx_ver" in w for w in c.warnings)


def test_book_10_with_isbn_urn_and_place():
    c = parse_openurl(
        "ctx_ver=Z39.88-2004&rft_val_fmt=info:ofi/fmt:kev:mtx:book&rft.genre=bookitem"
        "&rft.btitle=Minimalist+Program&rft.atitle=Chapter+One&rft_id=urn:isbn:0262531283"
        "&rft.pub=MIT+Press&rft.place=Cambridge%2C+Mass+%3A&rft.edition=2nd"
    )
    assert (c.genre, c.format) == ("bookitem", "book")
    assert c.btitle == "Minimalist Program" and c.atitle == "Chapter One"
    assert c.isbn == "9780262531283" and c.isbn_valid is True
    assert c.place == "Cambridge, Mass"  # ISBD " :" stripped
    assert c.publisher == "MIT Press"


def test_dissertation_keeps_degree_inst_apart_from_inst_parameter():
    c = parse_openurl(
        "rft_val_fmt=info:ofi/fmt:kev:mtx:dissertation&rft.title=Lu%E1%BA%ADn+%C3%A1n"
        "&rft.inst=%C4%90HQG+H%C3%A0+N%E1%BB%99i&rft.au=Nguy%E1%BB%85n+V%C4%83n+A&inst=VNU"
    )
    assert (c.genre, c.format) == ("dissertation", "dissertation")
    assert c.title == "Luận án"
    assert c.degree_inst == "ĐHQG Hà Nội"
    assert c.inst == "VNU"


def test_genre_variants_normalised():
    assert parse_openurl("genre=dissertations+&title=X").genre == "dissertation"
    assert parse_openurl("genre=Book&title=X").format == "book"
    assert parse_openurl("genre=chapter&title=X&atitle=Y").genre == "bookitem"
    c = parse_openurl("genre=citedby&title=X&atitle=Y")
    assert c.genre == "article" and any("citedby" in w for w in c.warnings)


def test_jtitle_beats_title_beats_stitle_and_10_beats_01():
    c = parse_openurl("rft.title=Legacy&rft.jtitle=Proper&rft.stitle=Short&title=Zero")
    assert c.jtitle == "Proper" and c.stitle == "Short"
    c = parse_openurl("rft.title=Legacy&title=Zero")
    assert c.jtitle == "Legacy"
    c = parse_openurl("rft.stitle=Short&title=Zero")
    assert c.jtitle == "Zero"  # 0.1 title fills the gap before falling back to stitle
    assert parse_openurl("rft.stitle=Short").jtitle == "Short"


def test_hybrid_10_wins_01_fills_gaps():
    c = parse_openurl(
        "rft.atitle=One&rft.volume=275&volume=999&issue=4&rft.jtitle=Science&sid=x:y"
        "&rfr_id=info:sid/myid.com:mydb"
    )
    assert c.version == "hybrid"
    assert c.volume == "275"  # 1.0 wins
    assert c.issue == "4"  # 0.1 fills the gap
    assert c.rfr_id == "info:sid/myid.com:mydb" and c.sid == "x:y"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("2019", (2019, None, None, None)),
        ("2019-03", (2019, 3, None, None)),
        ("2019-03-07", (2019, 3, None, 7)),
        ("2017-5-6", (2017, 5, None, 6)),
        ("20180205", (2018, 2, None, 5)),
        ("20170101", (2017, None, None, None)),  # EBSCO padding, not really 1 January
        ("July 28, 2012", (2012, 7, None, 28)),
        ("24 October 2019", (2019, 10, None, 24)),
        ("Spring 2019", (2019, 3, 5, None)),
        ("Autumn+2020".replace("+", " "), (2020, 9, 11, None)),
        ("1994; 1998", (1994, None, None, None)),
        ("1982.", (1982, None, None, None)),
        ("tháng 3 năm 2020", (2020, 3, None, None)),
        ("2019-13", (2019, None, None, None)),
        ("nd(n.d.)", (None, None, None, None)),
        ("0", (None, None, None, None)),
    ],
)
def test_parse_date_shapes(raw, expected):
    p = parse_date(raw)
    assert (p.year, p.month, p.month_end, p.day) == expected


def test_several_years_noted_in_warnings():
    c = parse_openurl("title=X&date=1994; 1998")
    assert c.year == 1994 and any("several years" in w for w in c.warnings)


def test_season_param_and_date_bounds():
    c = parse_openurl("title=X&date=2019&ssn=summer")
    assert (c.month, c.month_end) == (6, 8)
    assert c.date_bounds() == (date(2019, 6, 1), date(2019, 8, 31))
    assert parse_openurl("title=X&date=2020").date_bounds() == (date(2020, 1, 1),
                                                               date(2020, 12, 31))
    assert parse_openurl("title=X&date=2020-02").date_bounds()[1] == date(2020, 2, 29)
    assert parse_openurl("title=X&date=2020-02-03").date_precision == "day"


def test_issn_forms():
    assert normalize_issn("00256196").value == "0025-6196"
    assert normalize_issn("0000-006x").value == "0000-006X"
    bad = normalize_issn("0025-6197")
    assert bad.value == "0025-6197" and bad.valid is False
    c = parse_openurl("title=X&issn=0025-6197")
    assert c.issn == "0025-6197" and c.issn_valid is False
    assert any("check digit" in w for w in c.warnings)


def test_issn_with_role_labels_and_isbn_in_issn():
    c = parse_openurl("title=X&issn=1860-1839(ELECTRONIC),15937879(PRINT)")
    assert c.issn == "1593-7879" and c.eissn == "1860-1839"
    c = parse_openurl("title=X&issn=9780715630402")
    assert c.issn is None and c.isbn == "9780715630402"
    c = parse_openurl("title=X&issn=edseee.IEEEConferenc")
    assert c.issn is None


def test_isbn_normalised_to_13_and_bad_check_flagged():
    assert normalize_isbn("0-262-53128-3").value == "9780262531283"
    assert normalize_isbn("978-3-16-148410-0").valid is True
    assert normalize_isbn("978-3-16-148410-9").valid is False
    assert normalize_isbn("9999999999AA") is None
    c = parse_openurl("genre=book&title=X&isbn=0715630407")
    assert c.isbn == "9780715630402"


@pytest.mark.parametrize(
    "raw",
    [
        "10.1000/ABC.1",
        "doi:10.1000/abc.1",
        "DOI: 10.1000/abc.1",
        "https://doi.org/10.1000/abc.1",
        "http://dx.doi.org/10.1000/abc.1",
        "info:doi/10.1000/abc.1",
        "info:doi/10.1000%2Fabc.1",
        "Org/10.1000/abc.1",
    ],
)
def test_doi_prefixes_stripped_and_lowercased(raw):
    assert normalize_doi(raw) == "10.1000/abc.1"


def test_doi_from_http_rft_id_and_garbage_rejected():
    assert parse_openurl("title=T&rft_id=https%3A%2F%2Fdoi.org%2F10.1/X").doi is None
    assert parse_openurl("rft_id=https%3A%2F%2Fdoi.org%2F10.1234%2FX").doi == "10.1234/x"
    c = parse_openurl("title=T&rft_id=info:doi/&rft_id=info:pmid/&rft_id=info:oclcnum/653483714")
    assert c.doi is None and c.pmid is None and c.oclcnum == "653483714"
    c = parse_openurl("rft.btitle=About&rft_id=https%3A%2F%2Fwww.mozilla.org%2F")
    assert c.other_ids == ["https://www.mozilla.org/"]


def test_doi_rft_id_in_any_written_form():
    c = parse_openurl("rft.atitle=T&rft_id=doi:10.1234/ABC%252Fdef")
    assert c.doi == "10.1234/abc/def" and c.other_ids == []
    # A soft hyphen (a line-break hint copied from a web page) is dropped, not read as a
    # space that would cut the DOI short; the unbalanced ")" is the sentence's.
    c = parse_openurl("rft.atitle=T&rft_id=https%3A%2F%2Fdx.doi.org%2F10.1234%2Fa%C2%ADbc)")
    assert c.doi == "10.1234/abc"
    assert parse_openurl("rft.atitle=T&rft.doi=10.1234.5/X").doi == "10.1234.5/x"


def test_double_encoded_values():
    c = parse_openurl("title=Journal%2520of%2520Physics&issn=1234%252D5679")
    assert c.jtitle == "Journal of Physics"
    assert any("twice" in w for w in c.warnings)


def test_latin1_bytes_and_percent_escapes():
    c = parse_openurl(b"title=D\xe9pendances&issn=0025-6196")
    assert c.jtitle == "Dépendances"
    assert any("Latin-1" in w for w in c.warnings)
    assert parse_openurl("title=D%E9pendances").jtitle == "Dépendances"
    c = parse_openurl("ctx_enc=info:ofi/enc:ISO-8859-1&rft.jtitle=Caf%E9")
    assert c.jtitle == "Café"


def test_mojibake_repaired_and_nfc():
    mangled = "Tạp chí Khoa học Thư viện".encode().decode("cp1252", errors="ignore")
    c = parse_openurl({"title": ["ThÆ° viá»‡n"], "issn": ["0866-7152"]})
    assert c.jtitle == "Thư viện"
    assert any("mojibake" in w for w in c.warnings)
    assert mangled  # sanity: the fixture really is mangled text
    decomposed = "Th\u01b0 vi\u00ea\u0323n"  # NFD-ish input
    assert parse_openurl({"title": [decomposed]}).jtitle == "Thư viện"
    # Genuine Latin-1 text must not be "repaired".
    assert parse_openurl({"title": ["Ã‰tudes"]}).jtitle == "Études"
    assert parse_openurl({"title": ["Étude à Hué"]}).jtitle == "Étude à Hué"


def test_literal_unicode_escapes():
    c = parse_openurl(r"title=\u6cd5\u5236\u4e0e\u793e\u4f1a&issn=10090592")
    assert c.jtitle == "法制与社会"
    assert c.issn == "1009-0592"


def test_unfilled_templates_and_empty_format_ignored():
    c = parse_openurl(
        "rft_val_fmt=info:ofi/fmt:kev:mtx:&rft.genre=article&rft.atitle=A&rft.jtitle=J"
        "&rft_%3Cprovider_id%3E={{control/%3Cprovider_id%3E}}&rft.volume={{volume}}"
    )
    assert c.format == "journal" and c.volume is None
    assert any("template" in w for w in c.warnings)
    assert any("rft_val_fmt" in w for w in c.warnings)


def test_raw_ampersand_in_half_decoded_title_is_kept():
    c = parse_openurl(
        "getit/resolve??charset=utf-8&atitle=The impact&jtitle=Mind & Society=&title=Mind & "
        "Society=&issn=1860-1839&genre=article"
    )
    assert c.jtitle == "Mind & Society"
    c = parse_openurl("title=Journal%20of%20the%20Gilded%20Age%20&%20Progressive%20Era&volume=20")
    assert c.jtitle == "Journal of the Gilded Age & Progressive Era" and c.volume == "20"


def test_plus_is_literal_when_encoder_uses_percent20():
    c = parse_openurl("rft.atitle=pages%3A%20vi+394&rft.jtitle=A%20B")
    assert c.atitle == "pages: vi+394"
    assert parse_openurl("rft.atitle=a+b").atitle == "a b"


def test_repeated_keys_keep_all_authors():
    c = parse_openurl(
        "rft.jtitle=J&rft.au=Nguy%E1%BB%85n%2C+An&rft.au=Tr%E1%BA%A7n%2C+B%C3%ACnh"
        "&rft.au=Nguy%E1%BB%85n%2C+An&rft.au=%2C&rft.aulast=Nguy%E1%BB%85n&rft.aufirst=An"
    )
    assert c.authors == ["Nguyễn, An", "Trần, Bình"]  # duplicate and "," dropped


def test_ebsco_aulast_with_given_name_and_role():
    c = parse_openurl("title=X&aulast=Brljak%2c+Vladimir&atitle=A")
    assert (c.aulast, c.aufirst) == ("Brljak", "Vladimir")
    c = parse_openurl("title=X&aulast=Shanna%20Smith%20Jaggars,%20author")
    assert c.authors == ["Shanna Smith Jaggars"]


def test_pages_split_into_spage_epage():
    c = parse_openurl("title=X&pages=66-74")
    assert (c.spage, c.epage) == ("66", "74")
    c = parse_openurl("rft.btitle=X&rft.pages=p.+274%2C+%C2%A7+7.19")
    assert c.spage is None and c.pages == "p. 274, § 7.19"


def test_genre_format_disagreement_noted_not_fatal():
    c = parse_openurl("rft_val_fmt=info:ofi/fmt:kev:mtx:book&rft.genre=article&rft.atitle=A"
                      "&rft.jtitle=J")
    assert c.format == "journal" and any("disagrees" in w for w in c.warnings)


def test_coins_title_attribute_is_html_unescaped():
    attr = (
        "ctx_ver=Z39.88-2004&amp;rfr_id=info%3Asid%2Fen.wikipedia.org%3AMozilla&amp;"
        "rft.btitle=%5B%5BThe+UNIX+Programming+Environment%5D%5D&amp;rft.genre=book&amp;"
        "rft.isbn=9781404207196&amp;rft_val_fmt=info%3Aofi%2Ffmt%3Akev%3Amtx%3Abook"
    )
    c = parse_coins(attr)
    assert c.btitle == "The UNIX Programming Environment"
    assert c.isbn == "9781404207196"
    assert c.rfr_id == "info:sid/en.wikipedia.org:Mozilla"
    span = f'<span title="{attr}" class="Z3988">'
    assert parse_coins(span).btitle == c.btitle


def test_hopeless_input_raises_citation_error():
    for q in ("", "foo=bar", "sid=x:y&aulast=Smith&date=2001", b"\xff\xfe\x00",
              "rft_id=info:doi/&rft.object_id=99104"):
        with pytest.raises(CitationError):
            parse_openurl(q)


def test_garbage_never_raises_anything_else():
    for q in ("=&=&&==", "%", "%%%%25%2", "title=%ZZ%", "\\u12", "\\uD83D\\uDE00title=x",
              "rft.date=99999999999&title=x", "a" * 5000, "?" * 100, "title=" + "\x00" * 10):
        with contextlib.suppress(CitationError):
            parse_openurl(q)


def test_huge_query_is_capped_and_fast():
    q = "title=X&" + "&".join(f"k{i}=" + "v" * 50 for i in range(2000)) + "&volume=9"
    q += "&atitle=" + "A" * 200_000
    assert len(q) > 100_000
    t = time.perf_counter()
    c = parse_openurl(q)
    assert time.perf_counter() - t < 0.5
    assert c.jtitle == "X" and c.volume is None  # keys beyond the cap are dropped
    assert any("cut" in w or "ignored" in w for w in c.warnings)
    long_value = parse_openurl("title=" + "B" * 5000)
    assert len(long_value.jtitle) <= 1000


def test_mapping_input_decoded_by_framework():
    c = parse_openurl({"rft.jtitle": ["Nature"], "rft.volume": ["5"], "inst": ["HUST"],
                       "rft.atitle": ["A%20B"]})
    assert c.jtitle == "Nature" and c.volume == "5" and c.inst == "HUST"
    assert c.atitle == "A B"  # still double-encoded after the framework decoded once


def test_inst_parameter_must_look_like_a_code():
    assert parse_openurl("title=X&inst=VNU-HCM").inst == "VNU-HCM"
    assert parse_openurl("title=X&inst=<script>").inst is None


def test_kev_round_trip():
    c = parse_openurl(KEV10 + "&rft.au=Smith%2C+J")
    kev = citation_to_kev(c)
    assert kev.startswith("url_ver=Z39.88-2004&ctx_ver=Z39.88-2004")
    assert "rft.date=2005-05" in kev and "rfr_id=info%3Asid%2FElsevier%3ASD" in kev
    assert " " not in kev and "+" not in kev
    back = parse_openurl(kev)
    for name in ("genre", "format", "atitle", "jtitle", "doi", "issn", "volume", "issue",
                 "spage", "epage", "year", "month", "authors"):
        assert getattr(back, name) == getattr(c, name), name


def test_kev_for_book_and_default_referrer():
    c = parse_openurl("genre=book&title=S%C3%A1ch+hay&isbn=0715630407&date=2000")
    kev = citation_to_kev(c)
    assert "rft_val_fmt=info%3Aofi%2Ffmt%3Akev%3Amtx%3Abook" in kev
    assert "rft.btitle=S%C3%A1ch%20hay" in kev and "rft.isbn=9780715630402" in kev
    assert "rfr_id=info%3Asid%2Flienhop" in kev
    assert "rfr_id=info%3Asid%2Fme" in citation_to_kev(c, rfr_id="info:sid/me")


def test_citation_to_dict_is_json_ready():
    import json

    d = citation_to_dict(parse_openurl(KEV10))
    assert d["date_iso"] == "2005-05" and d["doi"] == "10.4065/80.5.611"
    assert "btitle" not in d  # empty values dropped
    json.dumps(d, ensure_ascii=False)


def test_html_escaped_separators_outside_coins():
    c = parse_openurl("ctx_ver=Z39.88-2004&amp;rft.atitle=A&amp;rft.jtitle=J&amp;rft.volume=3")
    assert (c.atitle, c.jtitle, c.volume) == ("A", "J", "3")


def test_genre_with_several_words_and_article_format_slip():
    assert parse_openurl("genre=dissertations+%26+theses&title=X").genre == "dissertation"
    c = parse_openurl("rft_val_fmt=info:ofi/fmt:kev:mtx:article&rft.atitle=A&rft.jtitle=J")
    assert c.format == "journal" and c.warnings == ["ctx_ver missing (accepted)"]
