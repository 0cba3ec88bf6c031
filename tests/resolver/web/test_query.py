"""resolver.web.query: "this parameter is not in the query string" is never said wrongly."""

from __future__ import annotations

import random

import pytest
from flask import Flask, request

from resolver.web.query import arg_absent

QUERIES = [
    b"", b"lang=en", b"lang", b"lang=", b"x=1&lang", b"x=1&lang=vi&y=2", b"x=1&&lang=en",
    b"%6Cang=en", b"%6cang=en", b"l%61ng=en", b"la%6Eg=en", b"lan%67=en", b"%6C%61%6E%67=en",
    b"flang=en", b"langs=en", b"LANG=en", b"%4Cang=en", b"lang%3Den", b"la+ng=en", b"+lang=en",
    b"lang+=en", b"x=lang", b"x=1%26lang%3Den", b"a=b;lang=en", b"inst=hue", b"INST=hue",
    b"%69nst=hue", b"in%73t=x&lang=en", b"rft.inst=hue", b"inst", b"=lang", b"lang=%zz",
    b"url_ver=Z39.88-2004&rft.atitle=Lang%20%26%20language&rft.issn=1234-5678",
    "rft.atitle=Ngôn ngữ&lang=en".encode(),
]


@pytest.fixture(scope="module")
def bare() -> Flask:
    return Flask(__name__)


@pytest.mark.parametrize("query", QUERIES)
@pytest.mark.parametrize("name", ["lang", "inst"])
def test_absent_only_when_args_lacks_the_name(bare: Flask, query: bytes, name: str) -> None:
    with bare.test_request_context("/", environ_overrides={"QUERY_STRING":
                                                          query.decode("latin-1")}):
        if arg_absent(name):
            assert name not in request.args
        if name in request.args:
            assert not arg_absent(name)


def test_an_openurl_without_the_name_is_not_decoded(bare: Flask) -> None:
    kev = "url_ver=Z39.88-2004&rft.atitle=Lang%20and%20language&rft.issn=1234-5678&inst=hue"
    with bare.test_request_context("/", query_string=kev):
        assert arg_absent("lang")
        assert not arg_absent("inst")


def test_a_query_string_args_cannot_decode_is_left_to_args(bare: Flask) -> None:
    # Werkzeug's args fails on a query string that is not UTF-8; so it still does
    with bare.test_request_context("/", environ_overrides={"QUERY_STRING": "title=Caf\xe9"}):
        assert not arg_absent("lang")
        with pytest.raises(UnicodeDecodeError):
            request.args.get("lang")


@pytest.mark.parametrize("name", ["", "a+b", "a b", "a%b", "a&b", "a=b", "tên"])
def test_only_plain_names(bare: Flask, name: str) -> None:
    with bare.test_request_context("/", query_string="x=1"), pytest.raises(ValueError):
        arg_absent(name)


def test_an_encoded_lang_still_chooses_the_language(app) -> None:  # type: ignore[no-untyped-def]
    assert '<html lang="en">' in app.test_client().get("/?%6Cang=en").get_data(as_text=True)
    assert '<html lang="vi">' in app.test_client().get("/?flang=en").get_data(as_text=True)


def test_never_wrong_on_random_query_strings(bare: Flask) -> None:
    rng = random.Random(14)
    pieces = ["l", "a", "n", "g", "i", "s", "t", "%6C", "%6c", "%61", "%6E", "%67", "%69",
              "%73", "%74", "%", "%4C", "=", "&", "+", "x", "%C3%A9", "%FF", "é"]
    for _ in range(5000):
        query = "".join(rng.choice(pieces) for _ in range(rng.randint(0, 14)))
        raw = query.encode().decode("latin-1")  # the bytes, as a WSGI server hands them on
        with bare.test_request_context("/", environ_overrides={"QUERY_STRING": raw}):
            for name in ("lang", "inst"):
                if arg_absent(name):
                    assert name not in request.args, query
