"""Bounded decompression (harvesters.inflate) on its own; test_http_bounds covers it over HTTP."""

from __future__ import annotations

import gzip
import zlib

import pytest
import requests

from harvesters.inflate import BodyDecoder, BodyTooLarge, UnsupportedEncoding

XML = "<OAI-PMH>Thư viện số</OAI-PMH>".encode()


def decode(body: bytes, encoding: str = "", limit: int = 1 << 20, step: int = 7) -> bytes:
    decoder = BodyDecoder(encoding, limit, "http://x/oai")
    for i in range(0, len(body), step):
        decoder.feed(body[i : i + step])
    return decoder.finish()


@pytest.mark.parametrize("body,encoding", [
    (XML, ""), (XML, "identity"), (gzip.compress(XML), "gzip"), (gzip.compress(XML), "x-gzip"),
    (zlib.compress(XML), "deflate"), (zlib.compress(XML)[2:-4], "deflate"),  # raw deflate
    (gzip.compress(XML), ""),  # recognised by its magic bytes
    (gzip.compress(gzip.compress(XML)), "gzip"),  # a .gz file served with gzip encoding
    (gzip.compress(XML[:10]) + gzip.compress(XML[10:]), "gzip"),  # concatenated members
])
def test_every_layer_is_undone_in_small_chunks(body, encoding):
    assert decode(body, encoding) == XML


def test_a_bomb_stops_at_the_cap():
    bomb = gzip.compress(bytes(8 << 20), 9)
    with pytest.raises(BodyTooLarge, match="gzip body expands beyond it"):
        decode(bomb, "gzip", limit=1 << 20, step=4096)


def test_corrupt_and_unknown_encodings():
    with pytest.raises(requests.exceptions.ContentDecodingError, match="corrupt gzip"):
        decode(b"\x1f\x8bnot gzip at all", "gzip")
    with pytest.raises(UnsupportedEncoding, match="br"):
        BodyDecoder("br", 100, "http://x/oai")
    assert decode(b"", "gzip") == b""  # an empty body (HEAD, 204) is no error
