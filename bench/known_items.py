"""Known-item corpus for the search benchmark: targets hidden among look-alikes, and MRR.

Issue 14 asks that a title in any written form, or an author's full name, keep the right
record on top among many look-alike records. This module makes ``k`` target records, each
with ``per_target`` look-alikes, and the queries that must find each target:

Targets
    A Vietnamese title of 6–10 syllables with at least one open oa/oe/uy syllable (so the
    old tone placement is a different spelling), by a person whose four-syllable name
    (surname, middle, two given syllables; the last one an oa/uy syllable) no other record
    carries. 80 % are stored in NFC with the tone placement lienhop normalises to, 10 % in
    the old placement ("hoà", "thuỷ"), 10 % in NFD.

Look-alikes (for 200 a target; scaled for fewer)
    ``permuted`` the title's words in another order · ``one_syllable`` one word replaced ·
    ``tone`` one tone mark changed or dropped (the same title once folded) · ``same_title``
    the same title in another year, type and by other authors · ``longer`` the title with a
    subtitle or inside a longer title · ``other_middle`` the same surname and given names
    with another middle name · ``spread_authors`` the name's syllables over several
    authors (half of them with the name split across two neighbouring author values,
    "Lê Trần Thị | Diệu Thủy Phạm") · ``spread_fields`` surname and middle on an author, the
    given names side by side in the title · ``title_elsewhere`` the title quoted in an
    abstract, or split between title and abstract.

Queries (one per target and form)
    ``title``, ``title-nfd``, ``title-folded`` (no diacritics), ``title-old-tone``; the same
    four for the author's name (``name…``); ``title+name`` and ``title+name-folded``.

Relevance
    Only the target, except where a look-alike is the same text for that form: the
    ``same_title`` records for the title forms, and also the ``tone`` records for
    ``title-folded`` (no ranking can tell them apart). A search's reciprocal rank is 1/rank
    of the first hit holding a relevant record (a hit may be a work of several records),
    0 when none is in the top :data:`TOP`.
"""

from __future__ import annotations

import random
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass, field

from bench.vi_records import (
    INSTITUTIONS,
    MIDDLES,
    SURNAMES,
    TYPES,
    WORD,
    Chain,
    chain_texts,
    corpus_rows,
    person,
    subject_pool,
)
from index import Record

TOP = 10
FORMS = ("title", "title-nfd", "title-folded", "title-old-tone",
         "name", "name-nfd", "name-folded", "name-old-tone",
         "title+name", "title+name-folded")
#: Look-alikes of each kind for 200 a target (scaled proportionally for fewer).
MIX = {"permuted": 30, "one_syllable": 40, "tone": 6, "same_title": 2, "longer": 20,
       "other_middle": 30, "spread_authors": 30, "spread_fields": 20, "title_elsewhere": 22}
#: First given syllables no generated record's name uses (vi_records.GIVEN), so a target's
#: full name is its own.
GIVEN_1 = ["Diệu", "Bích", "Khánh", "Uyên", "Phương", "Kim", "Bảo", "Gia", "Tường", "Vĩnh",
           "Thiên", "Đăng", "Mỹ", "Quỳnh", "Nhật", "Khải"]
#: Second given syllables: open oa/uy rhymes with a tone, spelled two ways.
GIVEN_2 = ["Hòa", "Thủy", "Thùy", "Thụy", "Túy", "Hỏa"]
#: Words that give a title an oa/oe/uy syllable when the chain made none.
TONE_WORDS = ["hòa", "hóa", "thủy", "khỏe", "tùy", "họa", "xóa", "lũy"]
_TONES = "\u0300\u0301\u0303\u0309\u0323"


def old_tone(text: str) -> str:
    """The old tone placement of every open oa/oe/uy syllable: "hòa" → "hoà", "Thủy" →
    "Thuỷ" (the inverse of the rule index/analysis.py applies; "quý" stays)."""
    return WORD.sub(lambda m: _old_syllable(m.group()), unicodedata.normalize("NFC", text))


def _old_syllable(syl: str) -> str:
    parts: list[list[str]] = []
    for ch in unicodedata.normalize("NFD", syl):
        if unicodedata.combining(ch) and parts:
            parts[-1].append(ch)
        else:
            parts.append([ch])
    if len(parts) < 2:
        return syl
    first, second = parts[-2], parts[-1]
    if (first[0] + second[0]).lower() not in ("oa", "oe", "uy") or len(second) > 1:
        return syl
    if len(parts) >= 3 and parts[-3][0].lower() == "q":
        return syl
    tones = [m for m in first[1:] if m in _TONES]
    if not tones or len(first) != 2:
        return syl
    first[1:] = []
    second.extend(tones)
    return unicodedata.normalize("NFC", "".join("".join(p) for p in parts))


def strip_marks(text: str) -> str:
    """Text as typed without diacritics (case kept; đ → d)."""
    out = "".join(c for c in unicodedata.normalize("NFD", text) if not unicodedata.combining(c))
    return out.replace("đ", "d").replace("Đ", "D")


def _retone(word: str, rng: random.Random) -> str | None:
    """``word`` with its tone mark replaced by another one or dropped; None without one."""
    nfd = unicodedata.normalize("NFD", word)
    at = [i for i, c in enumerate(nfd) if c in _TONES]
    if not at:
        return None
    new = rng.choice([t for t in _TONES if t != nfd[at[0]]] + [""])
    return unicodedata.normalize("NFC", nfd[:at[0]] + new + nfd[at[0] + 1:])


def _sentence_case(words: list[str]) -> str:
    text = " ".join(words)
    return text[:1].upper() + text[1:]


@dataclass
class Target:
    index: int
    title: str  # canonical: NFC, the tone placement lienhop normalises to
    name: str
    record_id: str = ""
    same_title: list[str] = field(default_factory=list)  # ids of look-alikes, same text
    same_folded: list[str] = field(default_factory=list)

    def queries(self) -> list[dict]:
        forms = {
            "title": self.title, "title-nfd": unicodedata.normalize("NFD", self.title),
            "title-folded": strip_marks(self.title), "title-old-tone": old_tone(self.title),
            "name": self.name, "name-nfd": unicodedata.normalize("NFD", self.name),
            "name-folded": strip_marks(self.name), "name-old-tone": old_tone(self.name),
            "title+name": f"{self.title} {self.name}",
            "title+name-folded": strip_marks(f"{self.title} {self.name}"),
        }
        out = []
        for form, q in forms.items():
            relevant = [self.record_id]
            if not form.startswith("name") and "+" not in form:
                relevant += self.same_title
                if form == "title-folded":
                    relevant += self.same_folded
            out.append({"form": form, "q": q, "target": self.record_id, "relevant": relevant})
        return out


def mix(per_target: int) -> dict[str, int]:
    """:data:`MIX` scaled to ``per_target`` look-alikes (one_syllable takes the rest)."""
    counts = {k: round(v * per_target / 200) for k, v in MIX.items()}
    counts["one_syllable"] += per_target - sum(counts.values())
    if counts["one_syllable"] < 0:  # rounding up the small kinds overshot a tiny budget
        counts = dict.fromkeys(MIX, 0) | {"one_syllable": per_target}
    return counts


class KnownItems:
    """The targets and their look-alikes, one group (target + look-alikes, shuffled) at a
    time: :meth:`groups` yields ``(records, queries)``."""

    def __init__(self, k: int, per_target: int, seed: int = 14):
        self.k, self.per_target, self.seed = k, per_target, seed
        rows = corpus_rows()
        self.rng = random.Random(seed)
        self.chain = Chain(chain_texts(rows, "vi"), self.rng)
        self.subjects = subject_pool(rows)
        names = [(s, m, g1, g2) for s in SURNAMES for m in MIDDLES for g1 in GIVEN_1
                 for g2 in GIVEN_2]
        self.names = random.Random(seed).sample(names, k)
        self.counts = mix(per_target)
        self.tones_made: dict[int, set[str]] = {}  # target index -> tone-variant titles

    def size(self) -> int:
        return self.k * (self.per_target + 1)

    # -- pieces

    def title_words(self) -> list[str]:
        words = [w.lower() for w in self.chain.sentence(self.rng.randint(6, 10))]
        if old_tone(" ".join(words)) == " ".join(words):
            words.insert(self.rng.randrange(len(words) + 1), self.rng.choice(TONE_WORDS))
        return words

    def filler(self, rid: str, title: str, creators: list[str]) -> Record:
        rng = self.rng
        abstract = ". ".join(" ".join(self.chain.sentence(rng.randint(10, 25)))
                             for _ in range(rng.randint(5, 9)))
        year = rng.choices(range(1990, 2026), weights=[1 + k for k in range(36)])[0]
        return Record(
            id=rid, oai_identifier=f"oai:known:{rid}", repository="known",
            institution=rng.choice(INSTITUTIONS), titles=[title], creators=creators,
            subjects=rng.sample(self.subjects, rng.randint(1, 3)), abstract=abstract,
            year=year, type=rng.choice(TYPES), language="vie",
            access="open" if rng.random() < 0.6 else "restricted")

    def others(self, n: int) -> list[str]:
        return [person(self.rng) for _ in range(n)]

    # -- the corpus

    def groups(self) -> Iterator[tuple[list[Record], list[dict]]]:
        for i, (s, m, g1, g2) in enumerate(self.names):
            yield self.group(i, s, m, g1, g2)

    def group(self, i: int, s: str, m: str, g1: str, g2: str
              ) -> tuple[list[Record], list[dict]]:
        rng = self.rng
        words = self.title_words()
        target = Target(i, _sentence_case(words), f"{s} {m} {g1} {g2}", f"known-{i:04d}")
        creators = self.others(rng.randint(0, 2))
        creators.insert(0 if rng.random() < 0.7 else len(creators), target.name)
        rec = self.filler(target.record_id, target.title, creators)
        rec.doi = None
        written = rng.random()
        if written < 0.1:
            rec.titles, rec.creators = [old_tone(rec.title)], [old_tone(c) for c in creators]
        elif written < 0.2:
            rec.titles = [unicodedata.normalize("NFD", rec.title)]
            rec.creators = [unicodedata.normalize("NFD", c) for c in creators]
        records = [rec]
        n = 0
        for kind, count in self.counts.items():
            for _ in range(count):
                n += 1
                look = self.lookalike(kind, f"known-{i:04d}-{n:03d}", target, words, rec)
                if look is None:  # no variant of this kind left: one syllable instead
                    look = self.lookalike("one_syllable", f"known-{i:04d}-{n:03d}", target,
                                          words, rec)
                assert look is not None
                records.append(look)
        rng.shuffle(records)  # no engine may win by breaking ties in document order
        return records, target.queries()

    def lookalike(self, kind: str, rid: str, target: Target, words: list[str],
                  rec: Record) -> Record | None:
        rng = self.rng
        s, m, g1, g2 = target.name.split()
        title = _sentence_case(self.chain.sentence(rng.randint(6, 12)))
        creators = self.others(rng.randint(1, 3))
        if kind == "permuted":
            shuffled = list(words)
            for _ in range(10):
                rng.shuffle(shuffled)
                if shuffled != words:
                    break
            title = _sentence_case(shuffled)
        elif kind == "one_syllable":
            changed = list(words)
            at = rng.randrange(len(words))
            while strip_marks(changed[at]).lower() == strip_marks(words[at]).lower():
                changed[at] = rng.choice(self.chain.vocab).lower()
            title = _sentence_case(changed)
        elif kind == "tone":
            title = self.tone_variant(words, target)
            if title is None:
                return None
        elif kind == "same_title":
            title = target.title
        elif kind == "longer":
            extra = [w.lower() for w in self.chain.sentence(rng.randint(3, 6))]
            title = (_sentence_case(words) + ": " + " ".join(extra) if rng.random() < 0.5
                     else _sentence_case(extra + words))
        elif kind == "other_middle":
            other = rng.choice([x for x in MIDDLES if x != m])
            creators.insert(rng.randrange(len(creators) + 1), f"{s} {other} {g1} {g2}")
        elif kind == "spread_authors":
            if rng.random() < 0.5:  # the name across the boundary of two author values
                creators = [f"{rng.choice(SURNAMES)} {s} {m}", f"{g1} {g2} {rng.choice(SURNAMES)}"]
            else:
                creators = [f"{s} {rng.choice(MIDDLES)} {g1}", person(rng),
                            f"{rng.choice(SURNAMES)} {m} {g2}"]
                rng.shuffle(creators)
        elif kind == "spread_fields":
            creators[0] = f"{s} {m} {person(rng).split()[-1]}"
            body = [w.lower() for w in self.chain.sentence(rng.randint(5, 10))]
            at = rng.randrange(len(body) + 1)
            title = _sentence_case(body[:at] + [g1.lower(), g2.lower()] + body[at:])
        elif kind == "title_elsewhere":
            pass  # the abstract is set below
        else:
            raise ValueError(kind)
        look = self.filler(rid, title, creators)
        if kind == "same_title":
            target.same_title.append(rid)
            look.year = (rec.year or 2000) - rng.randint(1, 10)
            look.type = rng.choice([t for t in set(TYPES) if t != rec.type])
        elif kind == "tone":
            target.same_folded.append(rid)
        elif kind == "title_elsewhere":
            if rng.random() < 0.5:
                look.abstract = f"{look.abstract}. Xem thêm: {target.title}."
            else:
                half = len(words) // 2
                look.titles = [_sentence_case(words[:half] + self.chain.sentence(3))]
                look.abstract = " ".join(words[half:]) + ". " + look.abstract
        return look

    def tone_variant(self, words: list[str], target: Target) -> str | None:
        """A title that differs from the target's only by one tone mark, not made before."""
        taken = self.tones_made.setdefault(target.index, {target.title})
        for _ in range(20):
            at = self.rng.randrange(len(words))
            new = _retone(words[at], self.rng)
            if new is None:
                continue
            title = _sentence_case(words[:at] + [new] + words[at + 1:])
            if title not in taken:
                taken.add(title)
                return title
        return None


def reciprocal_rank(hits: list[list[str]], relevant: list[str]) -> float:
    """1/rank of the first of ``hits`` (each a list of record ids) holding a relevant id."""
    want = set(relevant)
    for rank, ids in enumerate(hits[:TOP], 1):
        if want.intersection(ids):
            return 1.0 / rank
    return 0.0
