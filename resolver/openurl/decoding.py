"""Decoding and repairing the raw query strings of real OpenURLs, into a KEV multi-dict.

Real OpenURLs are messy (see ``docs/reference/openurl.md``): half-decoded logs with stray
``&`` inside values, double percent-encoding, Latin-1 bytes, mojibake, literal
``\\uXXXX`` escapes, HTML-escaped separators, Primo's unfilled templates.
Every repair leaves a human-readable note (:class:`Notes`), so that support staff can see
why a link looked the way it did. The limits keep a hostile or broken 100 KB query cheap:
real OpenURLs are under 4 KB.
"""

from __future__ import annotations

import html
import re
import unicodedata
from collections.abc import Iterable, Mapping
from urllib.parse import unquote, unquote_to_bytes

from index.identifiers import INVISIBLE

__all__ = [
    "MAX_KEYS",
    "MAX_QUERY_CHARS",
    "MAX_VALUES_PER_KEY",
    "MAX_VALUE_CHARS",
    "Notes",
    "to_kev_dict",
]

MAX_QUERY_CHARS = 16_384
MAX_KEYS = 200
MAX_VALUE_CHARS = 1_000
MAX_VALUES_PER_KEY = 20

_PCT_RE = re.compile(r"%[0-9A-Fa-f]{2}")
_SPACES_RE = re.compile(r"\s+")
_UESC_RE = re.compile(r"\\u([0-9A-Fa-f]{4})")
_TEMPLATE_RE = re.compile(r"^\{\{.*\}\}$|^\$\{.*\}$")
# Characters that show up when UTF-8 bytes were read as cp1252/Latin-1 ("ThÆ°", "Ã©").
_MOJIBAKE_HINT = re.compile("[ÂÃÄÅÆÇáâãäåæçèéêëìíîïðñòóôõö][\x80-\xbf\u0152-\u2122]")
_CP1252_EXTRA = {ch: b for b in range(0x80, 0xA0)
                 if (ch := bytes([b]).decode("cp1252", errors="ignore"))}


class Notes(list[str]):
    """Warnings list that ignores repeats (one note per kind of repair is enough)."""

    def add(self, msg: str) -> None:
        if msg not in self and len(self) < 50:
            self.append(msg)


def _bytes_to_text(b: bytes, notes: Notes, latin1: bool = False) -> str:
    if latin1:
        return b.decode("latin-1")
    try:
        return b.decode("utf-8")
    except UnicodeDecodeError:
        notes.add("bytes that are not UTF-8 were read as Windows-1252/Latin-1")
        return b.decode("cp1252", errors="replace").replace("\ufffd", "")


def _fix_mojibake(s: str, notes: Notes) -> str:
    """Undo UTF-8-read-as-cp1252 ("ThÆ°" -> "Thư"); keep *s* unless the result is clean."""
    if s.isascii():  # the hint needs non-ASCII characters; most values are plain ASCII
        return s
    for _ in range(2):  # doubly mangled strings exist
        if not _MOJIBAKE_HINT.search(s):
            return s
        out = bytearray()
        for ch in s:
            o = ord(ch)
            if o < 0x100:
                out.append(o)
            elif ch in _CP1252_EXTRA:
                out.append(_CP1252_EXTRA[ch])
            else:
                return s
        try:
            fixed = out.decode("utf-8")
        except UnicodeDecodeError:
            return s
        if fixed == s:
            return s
        notes.add("repaired mojibake (UTF-8 read as Latin-1)")
        s = fixed
    return s


def _unescape_u(s: str, notes: Notes) -> str:
    if "\\u" not in s:
        return s
    notes.add("replaced literal \\uXXXX escapes")
    out = _UESC_RE.sub(lambda m: chr(int(m.group(1), 16)), s)
    # Rejoin surrogate pairs written as two escapes; drop lone halves.
    return out.encode("utf-16", "surrogatepass").decode("utf-16", errors="ignore")


def _clean_text(s: str, notes: Notes) -> str:
    if s.isascii() and s.isprintable() and "\\u" not in s and "&" not in s and "  " not in s:
        # Most values: nothing below would change them but the strip and the cut.
        s = s.strip()
        if len(s) > MAX_VALUE_CHARS:
            notes.add(f"a value longer than {MAX_VALUE_CHARS} characters was cut")
            s = s[:MAX_VALUE_CHARS]
        return s
    s = _unescape_u(s, notes)
    s = _fix_mojibake(s, notes)
    if "&" in s and ";" in s:
        s = html.unescape(s)
    if not s.isascii():  # ASCII text is NFC already
        s = unicodedata.normalize("NFC", s)
    if not s.isprintable():  # the per-character pass only when something needs replacing
        # Soft hyphens and zero-width characters are line-break hints inside long DOIs and
        # ISBNs copied from web pages: dropped, so the number stays whole (not a space).
        s = INVISIBLE.sub("", s)
        s = "".join(ch if ch.isprintable() else " " for ch in s)
    # Printable text has no whitespace but the plain space (every other kind is not
    # printable), so only a run of spaces needs collapsing.
    if "  " in s:
        s = _SPACES_RE.sub(" ", s)
    s = s.strip()
    if len(s) > MAX_VALUE_CHARS:
        notes.add(f"a value longer than {MAX_VALUE_CHARS} characters was cut")
        s = s[:MAX_VALUE_CHARS]
    return s


def _decode_component(
    raw: str, notes: Notes, latin1: bool, already: bool, plus_is_space: bool = True
) -> str:
    """Percent-decode once (unless *already* decoded), twice when %XX survives."""
    s = raw
    if not already:
        if plus_is_space:
            s = s.replace("+", " ")
        # Without '%', ASCII text decodes to itself (in UTF-8 and in Latin-1 alike).
        if "%" in s or not s.isascii():
            s = _bytes_to_text(unquote_to_bytes(s), notes, latin1)
    if "%" in s and _PCT_RE.search(s):
        notes.add("value was percent-encoded twice; decoded again")
        s = _bytes_to_text(unquote_to_bytes(s), notes, latin1)
    return s


def _split_query(text: str, notes: Notes) -> list[tuple[str, str]]:
    """Split a KEV string into raw (key, value) pairs, gluing stray '&' back into values.

    Logged OpenURLs are often half-decoded: "title=Mind & Society&issn=..." has an '&'
    that belongs to the title. A segment without '=' or whose key contains spaces is
    therefore appended to the previous value instead of becoming a bogus key.
    """
    text = text.strip()
    if len(text) > MAX_QUERY_CHARS:
        notes.add(f"query longer than {MAX_QUERY_CHARS} characters was cut")
        text = text[:MAX_QUERY_CHARS]
    q = text.find("?")
    eq = text.find("=")
    if q != -1 and (eq == -1 or q < eq):
        text = text[q:]
    if text.startswith("??"):
        notes.add("query started with '??'")
    text = text.lstrip("?&")
    if "&amp;" in text:
        # A KEV copied out of HTML (COinS-like) without unescaping.
        notes.add("HTML-escaped '&amp;' separators unescaped")
        text = text.replace("&amp;", "&")
    pairs: list[tuple[str, str]] = []
    for n, seg in enumerate(text.split("&")):
        if n > MAX_KEYS * 2 or len(pairs) >= MAX_KEYS:
            notes.add(f"more than {MAX_KEYS} parameters; the rest were ignored")
            break
        if not seg:
            continue
        key, sep, val = seg.partition("=")
        # A key that is empty or starts with a space after decoding is text, not a key
        # (only a first "%" needs decoding to tell: "+" decodes to a space).
        first = key[:1]
        glue = not sep or first in ("", " ", "\t", "+") or (
            first == "%" and unquote(key.replace("+", " "))[:1] in (" ", "\t"))
        if glue:
            if pairs:
                # "Mind & Society=" : the lone trailing '=' is a logging artefact.
                if seg.count("=") == 1 and seg.endswith("="):
                    seg = seg[:-1]
                notes.add("stray '&' inside a value was kept as text")
                pk, pv = pairs[-1]
                pairs[-1] = (pk, pv + "&" + seg)
            continue
        pairs.append((key, val))
    return pairs


def _collect(
    items: Iterable[tuple[str, str]],
    notes: Notes,
    latin1: bool,
    already: bool,
    plus_is_space: bool = True,
) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for rkey, rval in items:
        if already or ("%" not in rkey and "+" not in rkey and rkey.isascii()):
            key = rkey  # nothing to decode: most keys are plain ASCII
        else:
            key = _decode_component(rkey, notes, latin1, False)
        key = key.strip().lower()
        if not key or len(key) > 64:
            continue
        if "%" not in rval and (already or ("+" not in rval and rval.isascii())):
            val = rval  # nothing to decode
        else:
            val = _decode_component(rval, notes, latin1, already, plus_is_space)
        val = _clean_text(val, notes)
        if not val:
            continue
        if val[0] in "{$" and (val.startswith("{{") or _TEMPLATE_RE.match(val)):
            notes.add(f"unfilled template in {key!r} ignored")
            continue
        vals = out.setdefault(key, [])
        if len(vals) < MAX_VALUES_PER_KEY and val not in vals:
            vals.append(val)
        if len(out) >= MAX_KEYS:
            break
    return out


def to_kev_dict(
    query: str | bytes | Mapping[str, list[str]], notes: Notes
) -> dict[str, list[str]]:
    """The query as lower-case keys → decoded, cleaned, de-duplicated values."""
    if isinstance(query, Mapping):
        items: list[tuple[str, str]] = []
        for k, vs in list(query.items())[: MAX_KEYS]:
            vlist = [vs] if isinstance(vs, str) else list(vs)[:MAX_VALUES_PER_KEY]
            items.extend((str(k), str(v)[: MAX_VALUE_CHARS * 3]) for v in vlist)
        latin1 = any(
            "8859-1" in v for k, vs in items if k == "ctx_enc" for v in [vs]
        )
        return _collect(items, notes, latin1, already=True)
    if isinstance(query, bytes):
        query = _bytes_to_text(query[: MAX_QUERY_CHARS * 4], notes)
    pairs = _split_query(query, notes)
    latin1 = any(k == "ctx_enc" and "8859-1" in unquote(v) for k, v in pairs)
    # Encoders that write spaces as %20 leave '+' as a real plus ("vi+394 pages").
    plus_is_space = "%20" not in query
    return _collect(pairs, notes, latin1, already=False, plus_is_space=plus_is_space)
