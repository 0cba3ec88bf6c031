"""A rebuild answers exactly as an index written session by session from the same records
(the rebuild's own write path: worker processes, one tantivy writer, clusters resolved
batch by batch against what it has written, spelling tables from the finished vocabulary),
and it reports its progress."""

from __future__ import annotations

import itertools
import random
import unicodedata

from index import Record, open_index, rebuild
from index.api import PROGRESS_EVERY
from index.collation import sort_key
from index.results import MAX_PAGE_SIZE

WORDS = ["thư", "viện", "số", "đại", "học", "nghiên", "cứu", "nông", "nghiệp", "Hòa", "Bình",
         "thuỷ", "lợi", "miền", "Trung", "kinh", "tế", "Việt", "Nam", "văn", "hóa", "Hà", "Nội",
         "giáo", "dục", "môi", "trường", "sông", "Hương", "biến", "đổi", "khí", "hậu"]
NAMES = ["Nguyễn Văn Nam", "Trần Thị Lan", "Lê Hoàng Phúc", "Smith, John", "Phạm Thu Hương"]
INSTITUTIONS = ["Đại học Huế", "Đại học Cần Thơ", "Đại học Thái Nguyên"]
QUERIES = ["", "thu vien", "thư viện", '"nông nghiệp"', "author:nguyen", "title:kinh te",
           "hoa binh -hue", "subject:moi truong", "doi:10.9999/shared.1", "Nguyễn Văn Nam",
           "thu vein", "year:2010-2015", "khi hau OR song huong"]


def _records(n: int, seed: int = 5) -> list[Record]:
    """Records with everything a rebuild must get right: works spread over batches (a
    shared DOI, the same title, year and author), ids given twice (the last wins), NFD
    text, values that must not pair ("A | B"), sentence ends, empty fields."""
    rng = random.Random(seed)
    out = []
    for i in range(n):
        title = " ".join(rng.choice(WORDS) for _ in range(rng.randint(2, 7)))
        if i % 7 == 0:
            title += ". " + " ".join(rng.choice(WORDS) for _ in range(3))
        if i % 11 == 0:
            title = unicodedata.normalize("NFD", title)
        kw: dict = {}
        if i % 13 == 0:
            kw["doi"] = f"10.9999/shared.{i % 3}"  # works across batches
        if i % 17 == 0:
            title, kw["year"], creators = "Kinh tế nông nghiệp Hòa Bình", 2012, [NAMES[0]]
        else:
            creators = rng.sample(NAMES, rng.randint(0, 2))
            kw["year"] = rng.choice([None, *range(2000, 2024)])
        rid = f"r{i % (n - 15):04d}"  # the last 15 records replace earlier ones
        out.append(Record(
            id=rid, oai_identifier=f"oai:t:{i}", repository="t",
            institution=rng.choice(INSTITUTIONS), titles=[title, "Phụ đề"] if i % 5 else [title],
            creators=creators, contributors=[NAMES[4]] if i % 9 == 0 else [],
            subjects=rng.sample(["Môi trường", "Nông nghiệp", "Giáo dục, đào tạo"],
                                rng.randint(0, 2)),
            abstract=" ".join(rng.choice(WORDS) for _ in range(rng.randint(0, 30))),
            publisher=rng.choice(["", "NXB Đại học Huế"]), language=rng.choice(["vie", "eng"]),
            type=rng.choice(["article", "thesis", "book"]),
            access=rng.choice(["open", "restricted"]), **kw))
    return out


def _ranked(hits, sort: str) -> list[frozenset]:  # type: ignore[no-untyped-def]
    """Hits as runs of equal rank. The engines order ties by where a record was written,
    which differs between sessions and a rebuild: so does the member a work is shown by
    when its members rank equal (its text is compared for works of one record)."""
    def rank(h):  # type: ignore[no-untyped-def]
        return {"relevance": h.score, "newest": h.record.year,
                "title": sort_key(h.record.title)}[sort]

    def hit(h):  # type: ignore[no-untyped-def]
        shown = (h.record.id, h.title_html, h.snippet_html) if len(h.member_ids) == 1 else None
        return (h.cluster_key, h.score, tuple(sorted(h.member_ids)),
                tuple(sorted(h.institutions)), shown)

    return [frozenset(map(hit, run)) for _rank, run in itertools.groupby(hits, key=rank)]


def _answers(ix) -> list:  # type: ignore[no-untyped-def]
    out: list = []
    for q in QUERIES:
        for sort in ("relevance", "newest", "title"):
            res = ix.search(q, sort=sort, size=MAX_PAGE_SIZE)
            assert res.total <= MAX_PAGE_SIZE
            out.append((q, sort, res.total, res.suggestions, _ranked(res.hits, sort),
                        {k: [(f.value, f.count) for f in v] for k, v in res.facets.items()}))
    ids = sorted(ix.iter_ids())
    out.append([ix.get(rid) for rid in ids])
    out.append([[r.id for r in ix.cluster_of(rid)] for rid in ids])
    out.append(sorted(r.id for r in ix.lookup(title="Kinh tế nông nghiệp Hòa Bình", year=2012)))
    out.append(ix.suggest("nong nghiep thu vein"))
    return out


def test_rebuild_answers_as_sessions_do(tmp_path, engine):  # type: ignore[no-untyped-def]
    records = _records(160)
    written = open_index(tmp_path / "written", engine=engine)
    for start in range(0, len(records), 30):
        with written.writer() as w:
            w.add(records[start:start + 30])
    expected = _answers(written)
    assert written.count() == len(records) - 15
    # Small batches: works meet across commits; tantivy's worker processes (procs) start
    # after the first batch.
    for procs in (0, 1) if engine == "tantivy" else (None,):
        path = tmp_path / f"rebuilt-{procs}"
        rebuild(path, records, batch=40, procs=procs, engine=engine)
        rebuilt = open_index(path, readonly=True)
        assert rebuilt.count() == len(records) - 15
        assert _answers(rebuilt) == expected


def test_rebuild_reports_progress(tmp_path, engine):
    seen: list[int] = []
    n = 2 * PROGRESS_EVERY + 5
    records = (Record(id=f"p{i}", oai_identifier=f"oai:{i}", repository="t", institution="x",
                      titles=[f"Bản ghi {i}"]) for i in range(n))
    rebuild(tmp_path / "ix", records, engine=engine, batch=500, progress=seen.append)
    assert seen == [PROGRESS_EVERY, 2 * PROGRESS_EVERY, n]
    assert open_index(tmp_path / "ix", readonly=True).count() == n


def test_a_record_replaced_in_a_later_batch_leaves_its_work(tmp_path, engine):
    """``a`` and ``b`` are one work through their ISBN, keyed by ``a``'s DOI; ``a`` comes
    again two batches later without either: ``b`` is a work of its own, keyed by its ISBN."""
    def r(rid: str, **kw) -> Record:  # type: ignore[no-untyped-def]
        return Record(id=rid, oai_identifier=rid, repository="t", institution="x",
                      titles=[f"Tài liệu {rid}"], **kw)

    records = [r("a", doi="10.1234/x", isbn=["9780306406157"]), r("b", isbn=["9780306406157"]),
               r("f1"), r("f2"), r("a", doi="10.1234/y"), r("f3")]
    written = open_index(tmp_path / "written", engine=engine)
    for rec in records:
        with written.writer() as w:
            w.add([rec])
    rebuild(tmp_path / "rebuilt", records, batch=2, procs=0, engine=engine)
    rebuilt = open_index(tmp_path / "rebuilt", readonly=True)
    for ix in (written, rebuilt):
        assert [x.id for x in ix.cluster_of("b")] == ["b"]
    assert _answers(rebuilt) == _answers(written)
