"""Bounded decompression of HTTP bodies: a gzip or deflate bomb stops at the size cap.

:class:`harvesters.http.Transport` reads a body in chunks and feeds them to a
:class:`BodyDecoder`, which undoes the ``Content-Encoding`` layers (``gzip``, ``x-gzip``,
``deflate`` as zlib or raw deflate) and then un-gzips a body that starts with the gzip magic
bytes even when no header says so (``.gz`` files served as they are).  Every layer's output is
capped with ``zlib``'s ``max_length``, so memory never holds much more than the cap, however
small the compressed body.

Failures, which the transport turns into its own errors: :class:`BodyTooLarge` (the cap was
reached: not retried), :class:`UnsupportedEncoding`, and
:class:`requests.exceptions.ContentDecodingError` for corrupt data (what requests raises for
its own decoding, retried like a broken transfer).
"""

from __future__ import annotations

import logging
import zlib

import requests

log = logging.getLogger("lienhop.harvest")

_GZIP_MAGIC = b"\x1f\x8b"


class BodyTooLarge(Exception):
    """The decoded body grows past the cap; the message says which layer."""


class UnsupportedEncoding(Exception):
    """A ``Content-Encoding`` we do not decode (the message is its name)."""


def _looks_zlib(head: bytes) -> bool:
    """Whether ``head`` starts a zlib stream (RFC 1950 header) rather than raw deflate."""
    return len(head) >= 2 and head[0] & 0x0F == 8 and ((head[0] << 8) | head[1]) % 31 == 0


class Inflater:
    """One gzip or deflate layer; its output is capped at ``limit`` bytes in total.

    ``zlib``'s ``max_length`` keeps every step's output within what is left of the cap, so a
    bomb is stopped after producing ``limit + 1`` bytes, never more.  Concatenated gzip members
    are all decoded; garbage after a complete first member is ignored, as other clients do.
    """

    def __init__(self, kind: str, limit: int, url: str) -> None:
        self.kind, self.limit, self.url = kind, limit, url
        self.produced = 0
        self._obj: zlib._Decompress | None = None
        self._head = b""
        self._members = 0  # complete gzip members before the current one
        self._done = False

    def _fail(self, why: object) -> requests.exceptions.ContentDecodingError:
        return requests.exceptions.ContentDecodingError(f"corrupt {self.kind} body: {why}")

    def feed(self, data: bytes) -> bytes:
        if self._done or not data:
            return b""
        if self._obj is None:
            self._head += data
            if len(self._head) < 2:
                return b""
            data, self._head = self._head, b""
            if self.kind == "gzip":
                wbits = 16 + zlib.MAX_WBITS
            else:
                wbits = zlib.MAX_WBITS if _looks_zlib(data) else -zlib.MAX_WBITS
            self._obj = zlib.decompressobj(wbits)
        out: list[bytes] = []
        while data:
            room = self.limit - self.produced + 1
            try:
                piece = self._obj.decompress(data, room)
            except zlib.error as exc:
                if self._members:  # trailing garbage after a complete gzip member
                    log.warning("event=http_gzip_trailing_garbage url=%s", self.url)
                    self._done = True
                    break
                raise self._fail(exc) from exc
            self.produced += len(piece)
            if self.produced > self.limit:
                raise BodyTooLarge(f"{self.kind} body expands beyond it")
            out.append(piece)
            if self._obj.eof:
                self._members += 1
                if self.kind != "gzip":  # one deflate stream; anything after it is ignored
                    self._done = True
                    break
                # a gzip member ended; another may follow (concatenated members)
                data = self._obj.unused_data
                self._obj = zlib.decompressobj(16 + zlib.MAX_WBITS)
                continue
            data = self._obj.unconsumed_tail
        return b"".join(out)

    def flush(self) -> bytes:
        if self._done:
            return b""
        if self._obj is None:
            if self._head:  # a single byte cannot be a compressed body
                raise self._fail("body too short")
            return b""  # an empty body (HEAD, 204, an empty 503)
        if not self._obj.eof and not self._members:
            raise self._fail("compressed data ends early")
        return b""


class GzipSniffer:
    """Un-gzip a body that starts with the gzip magic bytes; pass anything else through."""

    def __init__(self, limit: int, url: str) -> None:
        self.limit, self.url = limit, url
        self._inner: Inflater | None = None
        self._plain = False
        self._head = b""

    def feed(self, data: bytes) -> bytes:
        if self._plain:
            return data
        if self._inner is None:
            self._head += data
            if len(self._head) < 2:
                return b""
            data, self._head = self._head, b""
            if data.startswith(_GZIP_MAGIC):
                self._inner = Inflater("gzip", self.limit, self.url)
            else:
                self._plain = True
                return data
        return self._inner.feed(data)

    def flush(self) -> bytes:
        if self._inner is None:
            return self._head
        return self._inner.flush()


class BodyDecoder:
    """The ``Content-Encoding`` layers (last applied, first undone), then gzip sniffing."""

    def __init__(self, content_encoding: str, limit: int, url: str) -> None:
        codings = [c.strip().lower() for c in content_encoding.split(",") if c.strip()]
        self.stages: list[Inflater | GzipSniffer] = []
        for coding in reversed(codings):
            if coding in ("gzip", "x-gzip"):
                self.stages.append(Inflater("gzip", limit, url))
            elif coding == "deflate":
                self.stages.append(Inflater("deflate", limit, url))
            elif coding != "identity":
                raise UnsupportedEncoding(coding)
        self.stages.append(GzipSniffer(limit, url))
        self._parts: list[bytes] = []

    def feed(self, data: bytes) -> None:
        for stage in self.stages:
            data = stage.feed(data)
        if data:
            self._parts.append(data)

    def finish(self) -> bytes:
        for i, stage in enumerate(self.stages):
            data = stage.flush()
            for later in self.stages[i + 1:]:
                data = later.feed(data)
            if data:
                self._parts.append(data)
        return b"".join(self._parts)
