"""The user query language → an engine-neutral tree. ``parse`` never raises.

Supported: words, "phrases", AND / OR / NOT (upper case, as in most catalogues; "-word"
too), parentheses, ``title:`` ``author:`` ``subject:`` ``year:2010-2020`` ``doi:`` ``isbn:``
``issn:``. Adjacent plain words stay one :class:`Words` group so the engine can use the
bigram field for them. Anything malformed falls back to a plain word search over every
word the user typed; :func:`read` says when it did. :func:`unparse` writes a tree back as a
query.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from index.analysis import SYLLABLE_RE, fold_tokens
from index.identifiers import normalise_doi, normalise_isbn, normalise_issn


@dataclass(frozen=True)
class Words:
    text: str
    field: str | None = None  # None = everything; "title" | "author" | "subject"
    phrase: bool = False


@dataclass(frozen=True)
class Ident:
    kind: str  # "doi" | "isbn" | "issn"
    value: str  # normalised


@dataclass(frozen=True)
class YearRange:
    start: int | None
    end: int | None


@dataclass(frozen=True)
class And:
    children: tuple[Node, ...]


@dataclass(frozen=True)
class Or:
    children: tuple[Node, ...]


@dataclass(frozen=True)
class Not:
    child: Node


@dataclass(frozen=True)
class MatchAll:
    pass


@dataclass(frozen=True)
class NoMatch:
    """A fielded identifier that is not a valid identifier: matches nothing."""


Node = Words | Ident | YearRange | And | Or | Not | MatchAll | NoMatch

_FIELDS = {
    "title": "title", "ti": "title",
    "author": "author", "au": "author", "creator": "author",
    "subject": "subject", "su": "subject",
    "year": "year", "doi": "doi", "isbn": "isbn", "issn": "issn",
}
_TOKEN = re.compile(r'\s*(?:(?P<phrase>"[^"]*(?:"|$))|(?P<paren>[()])|(?P<word>[^\s()"]+))')
_FIELD_PREFIX = re.compile(r"^(?P<f>[A-Za-z]+):(?P<rest>.*)$", re.DOTALL)
_YEAR = re.compile(r"^(\d{4})?\s*(?:-|–|\.\.)?\s*(\d{4})?$")


class QuerySyntaxError(ValueError):
    pass


def _phrase_end(q: str, start: int) -> int | None:
    """Index of the quote that closes the phrase opened at ``q[start]``, or None.

    Titles hold quotes, and a title copied between quotes is one phrase:
    ``"Bài thơ "Tây Tiến" của Quang Dũng"``. A quote after a space or an opening bracket
    and before a word opens an inner quotation; any other quote closes the innermost open
    one. When inner quotes do not balance, the next quote ends the phrase (the plain rule).
    """
    depth = 0
    i = q.find('"', start + 1)
    while i != -1:
        before, after = q[i - 1], q[i + 1:i + 2]
        if (before.isspace() or before in "([{") and after and not after.isspace() \
                and after not in '")]}':
            depth += 1
        elif depth:
            depth -= 1
        else:
            return i
        i = q.find('"', i + 1)
    i = q.find('"', start + 1)
    return i if i != -1 else None


def _tokens(q: str) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    pos = 0
    while pos < len(q):
        m = _TOKEN.match(q, pos)
        if not m or m.end() == pos:
            break
        pos = m.end()
        if m.group("phrase") is not None:
            start = m.start("phrase")
            end = _phrase_end(q, start)
            if end is None:
                raise QuerySyntaxError("unterminated phrase")
            out.append(("phrase", q[start + 1:end]))
            pos = end + 1
        elif m.group("paren"):
            out.append((m.group("paren"), m.group("paren")))
        elif m.group("word"):
            w = m.group("word")
            out.append(("op", w) if w in ("AND", "OR", "NOT") else ("word", w))
    return out


def _year_node(value: str) -> Node:
    m = _YEAR.match(value.strip())
    if not m or not (m.group(1) or m.group(2)):
        raise QuerySyntaxError("bad year")
    start = int(m.group(1)) if m.group(1) else None
    end = int(m.group(2)) if m.group(2) else None
    if start is not None and end is None and "-" not in value and ".." not in value:
        end = start  # "year:2010" is one year, "year:2010-" is open-ended
    return YearRange(start, end)


def year_range(value: str) -> tuple[int | None, int | None] | None:
    """The years a ``year`` filter value names, as ``year:`` in a query reads them
    ("2010", "2010-2020", "2010-", "-1989", "2010..2020"); None when it names no years
    ("abc", "0", "-", "..", a 20-digit number)."""
    try:
        node = _year_node(value)
    except QuerySyntaxError:
        return None
    return (node.start, node.end) if isinstance(node, YearRange) else None


def _ident_node(kind: str, value: str) -> Node:
    norm = {"doi": normalise_doi, "isbn": normalise_isbn, "issn": normalise_issn}[kind](value)
    return Ident(kind, norm) if norm else NoMatch()


def _plain_word_node(word: str) -> Node:
    """A bare word that is clearly an identifier (a DOI URL, a valid ISBN) is looked up as one."""
    if doi := normalise_doi(word):
        return Ident("doi", doi)
    digits = re.sub(r"[\s\-]", "", word)
    if re.fullmatch(r"\d{9}[\dXx]|97[89]\d{10}", digits) and (isbn := normalise_isbn(word)):
        return Or((Ident("isbn", isbn), Words(word)))
    if re.fullmatch(r"\d{7}[\dXx]", digits) and "-" in word and (issn := normalise_issn(word)):
        return Or((Ident("issn", issn), Words(word)))
    return Words(word)


class _Parser:
    def __init__(self, toks: list[tuple[str, str]]):
        self.toks = toks
        self.i = 0

    def peek(self) -> tuple[str, str] | None:
        return self.toks[self.i] if self.i < len(self.toks) else None

    def take(self) -> tuple[str, str]:
        tok = self.peek()
        if tok is None:
            raise QuerySyntaxError("unexpected end")
        self.i += 1
        return tok

    def parse(self) -> Node:
        node = self.or_expr()
        if self.peek() is not None:
            raise QuerySyntaxError(f"unexpected {self.peek()}")
        return node

    def or_expr(self) -> Node:
        parts = [self.and_expr()]
        while self.peek() == ("op", "OR"):
            self.take()
            parts.append(self.and_expr())
        parts = list(dict.fromkeys(parts))  # "a OR a OR a …" asks once
        return parts[0] if len(parts) == 1 else Or(tuple(parts))

    def and_expr(self) -> Node:
        parts: list[Node] = []
        while True:
            tok = self.peek()
            if tok is None or tok[0] == ")" or tok == ("op", "OR"):
                break
            if tok == ("op", "AND"):
                self.take()
                if not parts:
                    raise QuerySyntaxError("AND without left side")
                parts.append(self.unary())
                continue
            parts.append(self.unary())
        if not parts:
            raise QuerySyntaxError("empty expression")
        # Punctuation between two phrases ('"…University" : "Part II"') asks for nothing.
        merged = _merge_words(parts)
        parts = [p for p in merged if not _no_words(p)] or merged
        parts = list(dict.fromkeys(parts))  # "-a -a -a …" costs one pass, not hundreds
        return parts[0] if len(parts) == 1 else And(tuple(parts))

    def unary(self) -> Node:
        kind, val = self.take()
        if (kind, val) == ("op", "NOT"):
            return _negate(self.unary())
        if kind == "word" and val.startswith("-") and len(val) > 1:
            self.toks.insert(self.i, ("word", val[1:]))
            return _negate(self.unary())
        return self.primary(kind, val)

    def primary(self, kind: str, val: str) -> Node:
        if kind == "(":
            node = self.or_expr()
            if self.take()[0] != ")":
                raise QuerySyntaxError("missing )")
            return node
        if kind == "phrase":
            return Words(val, phrase=True) if val.strip() else MatchAll()
        if kind == "word":
            m = _FIELD_PREFIX.match(val)
            if m and m.group("f").lower() in _FIELDS:
                return self.fielded(_FIELDS[m.group("f").lower()], m.group("rest"))
            return _plain_word_node(val)
        raise QuerySyntaxError(f"unexpected {val!r}")

    def fielded(self, field: str, rest: str) -> Node:
        if rest:
            value, phrase = rest, False
        else:
            kind, value = self.take()
            if kind not in ("word", "phrase"):
                raise QuerySyntaxError("field without value")
            phrase = kind == "phrase"
        if field == "year":
            return _year_node(value)
        if field in ("doi", "isbn", "issn"):
            return _ident_node(field, value)
        return Words(value, field=field, phrase=phrase)


def _negate(node: Node) -> Node:
    """NOT of ``node``; two cancel out. Each NOT costs a pass over every document, and
    "-----…x" or "NOT NOT … x" would otherwise make hundreds of them."""
    return node.child if isinstance(node, Not) else Not(node)


def _no_words(node: Node) -> bool:
    """A word group with no syllable in it, such as a lone ":" or "–"."""
    return isinstance(node, Words) and SYLLABLE_RE.search(node.text) is None


def _merge_words(parts: list[Node]) -> list[Node]:
    """Join adjacent unfielded non-phrase words into one group (for bigram matching)."""
    out: list[Node] = []
    for p in parts:
        prev = out[-1] if out else None
        if (isinstance(p, Words) and isinstance(prev, Words) and not p.phrase
                and not prev.phrase and p.field == prev.field):
            out[-1] = Words(prev.text + " " + p.text, field=p.field)
        else:
            out.append(p)
    return out


def fallback(q: str) -> Node:
    """Every word of ``q`` as plain words, operators and punctuation ignored."""
    words = [w for w in re.findall(r"[^\s()\"]+", q) if w not in ("AND", "OR", "NOT")]
    words = [w.lstrip("-").split(":", 1)[-1] if ":" in w else w.lstrip("-") for w in words]
    text = " ".join(w for w in words if w)
    return Words(text) if text.strip() else MatchAll()


@dataclass(frozen=True)
class Reading:
    """How a query was read: its tree, and whether it followed the query language.

    ``fell_back``: it did not (an unclosed quote or bracket, an operator or a field without
    its word), so ``node`` is :func:`fallback`'s plain words — or :class:`MatchAll` when no
    word was left, and the search lists everything. The results page says so."""

    node: Node
    fell_back: bool = False

    @property
    def words(self) -> str:
        """The words searched instead, when the query fell back ("" when none were left)."""
        return self.node.text if self.fell_back and isinstance(self.node, Words) else ""


def read(q: str | None) -> Reading:
    """Parse the query language; on any syntax error, fall back to plain words (and say so)."""
    q = (q or "").strip()
    if not q:
        return Reading(MatchAll())
    try:
        return Reading(_Parser(_tokens(q)).parse())
    except Exception:  # noqa: BLE001 - the contract is "never raises"
        return Reading(fallback(q), fell_back=True)


def parse(q: str | None) -> Node:
    """Parse the query language; on any syntax error, fall back to plain words."""
    return read(q).node


def unknown_field(word: str) -> bool:
    """Whether a word is written as ``name:value`` with a name that is no field ("foo:bar"):
    the query language searches it as plain words, but the reader meant something else.

    >>> unknown_field("foo:bar"), unknown_field("title:x"), unknown_field("Huế:")
    (True, False, False)
    """
    m = _FIELD_PREFIX.match(word)
    return bool(m and m.group("rest") and m.group("f").lower() not in _FIELDS)


def map_word_groups(node: Node, change: Callable[[Words], Words]) -> Node:
    """``node`` with each of its :func:`word_groups` replaced by ``change(group)``."""
    if isinstance(node, Words):
        return change(node)
    if isinstance(node, And):
        return And(tuple(map_word_groups(c, change) for c in node.children))
    if isinstance(node, Or):
        return Or(tuple(map_word_groups(c, change) for c in node.children))
    return node


def unparse(node: Node) -> str:
    """The query text of a tree, in the query language: ``parse(unparse(parse(q)))`` is
    ``parse(q)`` (tests/index/test_querylang.py). A spelling suggestion is the reader's
    query with a word changed, fields, phrases and operators kept.

    >>> unparse(parse('title:"thư viện" -số OR year:2010-2020'))
    'title:"thư viện" -số OR year:2010-2020'
    """
    if isinstance(node, Words):
        if node.phrase:
            return (f"{node.field}:" if node.field else "") + f'"{node.text}"'
        if node.field:
            return " ".join(f"{node.field}:{w}" for w in node.text.split())
        return node.text
    if isinstance(node, Ident):
        return f"{node.kind}:{node.value}"
    if isinstance(node, YearRange):
        if node.start == node.end:
            return f"year:{node.start}"
        return f"year:{node.start or ''}-{node.end or ''}"
    if isinstance(node, And):
        return " ".join(_grouped(c, (Or, And)) for c in node.children)
    if isinstance(node, Or):
        return " OR ".join(_grouped(c, (Or,)) for c in node.children)
    if isinstance(node, Not):
        child = node.child
        if isinstance(child, Words) and not (child.phrase or child.field) \
                and len(child.text.split()) == 1:
            return "-" + child.text
        return "NOT " + _grouped(child, (Or, And, Words))
    if isinstance(node, NoMatch):
        return "isbn:0"  # a fielded identifier that is none: matches nothing, as NoMatch
    return '""'  # MatchAll: the empty phrase


def _grouped(node: Node, kinds: tuple[type, ...]) -> str:
    """``node``'s text, in brackets when it is one of ``kinds`` and holds several parts."""
    text = unparse(node)
    several = not isinstance(node, Words) or (not node.phrase and len(text.split()) > 1)
    return f"({text})" if isinstance(node, kinds) and several else text


def word_groups(node: Node) -> list[Words]:
    """The word groups of a query, negated ones left out: what ranking weighs and spelling
    suggestions look at (identifiers and years are never misspelt words)."""
    if isinstance(node, Words):
        return [node]
    if isinstance(node, (And, Or)):
        return [w for c in node.children for w in word_groups(c)]
    return []


def query_terms(node: Node) -> set[str]:
    """Folded syllables of the positive word groups: what highlighting marks."""
    return {t for g in word_groups(node) for t in fold_tokens(g.text)}
