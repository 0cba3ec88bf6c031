"""Generated Vietnamese catalogue records for the benchmarks, streamed and seeded.

Titles and abstracts come from a syllable bigram chain trained on ../shared/data/vi-corpus
(its Vietnamese and English text), so adjacency and frequency look like real abstracts;
~5 % of the records are copies of the same work at another institution (same DOI), ~5 %
of the titles are in old tone placement and ~2 % in NFD. :func:`base_records` yields the
records one at a time, so a million of them never sit in memory together; the same seed
gives the same records (bench/search.py, bench/web.py, bench/suggest.py and
bench/hostile_load.py rely on that).

Records also travel through a JSON-lines file (:func:`write_jsonl`, :func:`read_jsonl`):
the search benchmark writes the corpus once and every engine, each in its own process,
rebuilds from it as a rebuild from the raw archive would.
"""

from __future__ import annotations

import dataclasses
import json
import random
import re
import unicodedata
from collections.abc import Iterable, Iterator
from pathlib import Path

from index import Record

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT.parent / "shared" / "data" / "vi-corpus" / "records.jsonl"
INSTITUTIONS = [
    "Đại học Quốc gia Hà Nội", "Đại học Bách khoa Hà Nội", "Đại học Huế", "Đại học Cần Thơ",
    "Đại học Đà Nẵng", "Đại học Quốc gia TP. Hồ Chí Minh", "Đại học Thái Nguyên",
    "Viện Hàn lâm KH&CN Việt Nam", "Đại học Kinh tế Quốc dân", "Đại học Tôn Đức Thắng",
    "Đại học Vinh", "Đại học Nông Lâm Huế", "Học viện Nông nghiệp Việt Nam",
    "Đại học Y Hà Nội", "Đại học Sư phạm Hà Nội", "Trung tâm Thông tin KH&CN Quốc gia",
]
TYPES = ["article"] * 6 + ["thesis"] * 2 + ["dissertation", "book", "report", "conference paper"]
SURNAMES = ["Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Huỳnh", "Phan", "Vũ", "Võ", "Đặng",
            "Bùi", "Đỗ", "Hồ", "Ngô", "Dương", "Lý"]
MIDDLES = ["Văn", "Thị", "Minh", "Hữu", "Đức", "Thanh", "Ngọc", "Quốc", "Xuân", "Hoàng"]
GIVEN = ["An", "Bình", "Cường", "Dũng", "Hà", "Hải", "Hòa", "Hùng", "Lan", "Linh", "Long",
         "Mai", "Nam", "Nga", "Phong", "Quân", "Sơn", "Thảo", "Thủy", "Trang", "Tuấn", "Việt"]
OLD_STYLE = {"hòa": "hoà", "Hòa": "Hoà", "thủy": "thuỷ", "khỏe": "khoẻ", "tùy": "tuỳ",
             "hóa": "hoá", "Hóa": "Hoá", "họa": "hoạ", "xóa": "xoá"}
WORD = re.compile(r"[^\W\d_]+", re.UNICODE)
_FIELDS = [f.name for f in dataclasses.fields(Record)]


class Chain:
    """Syllable bigram chain: realistic neighbours and a Zipf-like frequency."""

    def __init__(self, texts: list[str], rng: random.Random):
        self.rng = rng
        self.next: dict[str, list[str]] = {}
        self.starts: list[str] = []
        for t in texts:
            words = WORD.findall(unicodedata.normalize("NFC", t))
            if not words:
                continue
            self.starts.append(words[0])
            for a, b in zip(words, words[1:], strict=False):
                self.next.setdefault(a.lower(), []).append(b.lower())
        self.vocab = [w for ws in self.next.values() for w in ws]

    def sentence(self, n: int) -> list[str]:
        w = self.rng.choice(self.starts)
        out = [w]
        for _ in range(n - 1):
            nxt = self.next.get(w.lower())
            w = self.rng.choice(nxt) if nxt and self.rng.random() > 0.08 else \
                self.rng.choice(self.vocab)
            out.append(w)
        return out


def corpus_rows() -> list[dict]:
    return [json.loads(line) for line in CORPUS.read_text(encoding="utf-8").splitlines()]


def chain_texts(rows: list[dict], language: str) -> list[str]:
    return [r["title"] + ". " + (r["abstract"] or "") for r in rows if r["language"] == language]


def subject_pool(rows: list[dict]) -> list[str]:
    return sorted({s for r in rows for s in r["subjects"]})[:60] + [
        "Khoa học máy tính", "Nông nghiệp", "Y học", "Kinh tế", "Giáo dục", "Môi trường"]


def person(rng: random.Random) -> str:
    return f"{rng.choice(SURNAMES)} {rng.choice(MIDDLES)} {rng.choice(GIVEN)}"


def base_records(n: int, seed: int = 42) -> Iterator[Record]:
    """``n`` records, one at a time (the same records as the list :func:`generate` makes)."""
    rng = random.Random(seed)
    rows = corpus_rows()
    vi = Chain(chain_texts(rows, "vi"), rng)
    en = Chain(chain_texts(rows, "en"), rng)
    subjects = subject_pool(rows)
    made = 0
    i = 0
    while made < n:
        i += 1
        lang_vi = rng.random() < 0.7
        ch = vi if lang_vi else en
        title_words = ch.sentence(rng.randint(8, 16))
        if rng.random() < 0.05:
            title_words = [OLD_STYLE.get(w, w) for w in title_words]
        title = " ".join(title_words)
        title = title[0].upper() + title[1:]
        if rng.random() < 0.02:
            title = unicodedata.normalize("NFD", title)
        abstract = ". ".join(" ".join(ch.sentence(rng.randint(10, 25)))
                             for _ in range(rng.randint(5, 9)))
        creators = [person(rng) for _ in range(rng.randint(1, 4))]
        year = rng.choices(range(1990, 2026), weights=[1 + k for k in range(36)])[0]
        inst = rng.choice(INSTITUTIONS)
        rec = Record(
            id=f"bench-{i:07d}", oai_identifier=f"oai:bench:{i}", repository="bench",
            institution=inst, titles=[title], creators=creators,
            subjects=rng.sample(subjects, rng.randint(1, 3)), abstract=abstract, year=year,
            type=rng.choice(TYPES), language="vie" if lang_vi else "eng",
            access="open" if rng.random() < 0.6 else "restricted",
            doi=f"10.{rng.randint(1000, 9999)}/b{i}" if rng.random() < 0.5 else None,
        )
        made += 1
        yield rec
        if rec.doi and rng.random() < 0.1 and made < n:  # same work, another member
            dup = Record(**record_dict(rec))
            dup.id, dup.oai_identifier = rec.id + "-dup", rec.oai_identifier + "-dup"
            dup.institution = rng.choice([x for x in INSTITUTIONS if x != inst])
            made += 1
            yield dup


def generate(n: int, seed: int = 42) -> list[Record]:
    """``n`` records in a list (small corpora: tests of the other benchmarks)."""
    return list(base_records(n, seed))


def record_dict(rec: Record) -> dict:
    """Every field, lists copied (``dataclasses.asdict`` deep-copies: 5× slower)."""
    return {f: (list(v) if isinstance(v := getattr(rec, f), list) else v) for f in _FIELDS}


def write_jsonl(records: Iterable[Record], path: Path) -> int:
    n = 0
    with path.open("w", encoding="utf-8") as out:
        for rec in records:
            out.write(json.dumps(record_dict(rec), ensure_ascii=False))
            out.write("\n")
            n += 1
    return n


def read_jsonl(path: Path) -> Iterator[Record]:
    with path.open(encoding="utf-8") as f:
        for line in f:
            yield Record(**json.loads(line))
