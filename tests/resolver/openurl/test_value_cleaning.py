"""How the parser decodes and cleans keys and values: the rules its shortcuts for plain ASCII
text (most of every OpenURL) must keep."""

from __future__ import annotations

from urllib.parse import parse_qs, quote

import pytest

from resolver.openurl import Citation, citation_to_kev, parse_openurl

ISSN = "&rft.issn=0022-1694"


@pytest.mark.parametrize(("query", "atitle"), [
    # every run of whitespace is one space, whatever its kind, and the ends are trimmed
    ("rft.atitle=A%20%20%20b%09c%0Ad", "A b c d"),
    ("rft.atitle=A%C2%A0b%E2%80%83c", "A b c"),
    ("rft.atitle=%20%20padded%20%20", "padded"),
    ("rft.atitle=A+++b", "A b"),
    # '+' is a space, unless the encoder wrote spaces as %20
    ("rft.atitle=C++ in practice", "C in practice"),
    ("rft.atitle=C++%20in%20practice", "C++ in practice"),
    # HTML entities, once decoded
    ("rft.atitle=Tom%20%26amp%3B%20Jerry", "Tom & Jerry"),
    # a percent-encoded key is decoded; keys are read in any case
    ("%72ft.atitle=Encoded%20key", "Encoded key"),
    ("RFT.ATITLE=Upper%20key", "Upper key"),
])
def test_values_are_decoded_and_cleaned(query: str, atitle: str) -> None:
    c = parse_openurl(query + ISSN)
    assert c.atitle == atitle and c.issn == "0022-1694"


@pytest.mark.parametrize("segment", ["+Society=", "%20Society"])
def test_a_segment_whose_key_starts_with_a_space_belongs_to_the_value_before(segment: str
                                                                              ) -> None:
    c = parse_openurl("rft.atitle=Mind&" + segment + ISSN)
    assert c.atitle == "Mind& Society"
    assert "stray '&' inside a value was kept as text" in c.warnings


def test_a_key_starting_with_an_encoded_letter_is_a_key() -> None:
    c = parse_openurl("rft.atitle=Mind&%41nd=x" + ISSN)
    assert c.atitle == "Mind" and not any("stray" in w for w in c.warnings)


def test_only_whole_templates_are_ignored() -> None:
    c = parse_openurl("rft.atitle=$5%20and%20{x}&rft.jtitle=${journal}&rft.volume={{volume}}"
                      + ISSN)
    assert c.atitle == "$5 and {x}" and c.jtitle is None and c.volume is None
    assert "unfilled template in 'rft.jtitle' ignored" in c.warnings
    assert "unfilled template in 'rft.volume' ignored" in c.warnings


def test_a_decoded_mapping_is_not_decoded_again_unless_still_encoded() -> None:
    c = parse_openurl({"rft.atitle": ["C++ in practice"], "rft.jtitle": ["A%20B"],
                       "rft.issn": ["0022-1694"]})
    assert c.atitle == "C++ in practice" and c.jtitle == "A B"


def test_kev_escapes_as_quote_does_and_round_trips() -> None:
    text = "".join(chr(c) for c in range(32, 127)) + " Hóa học – Việt Nam"
    kev = citation_to_kev(Citation(atitle=text, jtitle="J", issn="0022-1694"))
    assert f"rft.atitle={quote(text, safe='')}&" in kev
    assert parse_qs(kev)["rft.atitle"] == [text]
