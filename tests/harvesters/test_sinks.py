"""The sinks (harvesters.sinks): one protocol, one buffer, the last change to an id winning."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import pytest

from harvesters.sinks import BufferedSink, Changes, MemorySink, WriterSink
from index.record import Record


def rec(rid: str, title: str = "Luận văn") -> Record:
    return Record(id=rid, oai_identifier=f"oai:x:{rid}", repository="hue", institution="hue",
                  titles=[title])


class FakeIndex:
    """A writer factory like ``ix.writer``: the writer applies adds, then deletes, on exit."""

    def __init__(self) -> None:
        self.records: dict[str, Record] = {}
        self.calls: list[tuple[str, list[str]]] = []

    @contextlib.contextmanager
    def writer(self) -> Iterator[FakeIndex]:
        self._adds: list[Record] = []
        self._deletes: list[str] = []
        yield self
        for r in self._adds:
            self.records[r.id] = r
        for rid in self._deletes:
            self.records.pop(rid, None)

    def add(self, records: list[Record]) -> int:
        self.calls.append(("add", [r.id for r in records]))
        self._adds.extend(records)
        return len(records)

    def delete(self, ids: list[str]) -> int:
        self.calls.append(("delete", list(ids)))
        self._deletes.extend(ids)
        return len(ids)


def test_changes_keep_the_last_change_per_id_in_call_order():
    changes = Changes()
    changes.add([rec("a"), rec("b")])
    changes.delete(["a", "c"])
    changes.add([rec("c", "khác")])
    assert len(changes) == 3 and changes
    taken = changes.take()
    assert list(taken) == ["b", "a", "c"]
    assert taken["a"] is None and taken["c"] is not None and taken["c"].titles == ["khác"]
    assert not changes and changes.take() == {}
    adds, deletes = Changes.split(taken)
    assert [r.id for r in adds] == ["b", "c"] and deletes == ["a"]


def test_memory_sink_restores_a_record_deleted_then_added_before_a_commit():
    # Fails on the sink before harvesters.sinks: it applied every add, then every delete.
    sink = MemorySink()
    sink.add([rec("a")])
    sink.commit()
    sink.delete(["a"])
    sink.add([rec("a", "sửa")])
    sink.commit()
    assert sink.records["a"].titles == ["sửa"] and sink.commits == 2


def test_memory_sink_deletes_a_record_added_then_deleted_before_a_commit():
    sink = MemorySink()
    sink.add([rec("a"), rec("b")])
    sink.delete(["a", "never-seen"])
    sink.commit()
    assert list(sink.records) == ["b"]


def test_writer_sink_sends_the_index_the_outcome_not_both_changes():
    # Fails on the sink before harvesters.sinks: the writer got the add and then the delete,
    # so a record restored within one batch was deleted from the index.
    ix = FakeIndex()
    sink = WriterSink(ix.writer)
    sink.delete(["a"])
    sink.add([rec("a")])
    sink.commit()
    assert ix.calls == [("add", ["a"])] and "a" in ix.records
    sink.commit()  # nothing pending: no writer opened
    assert sink.commits == 1


def test_a_failed_write_drops_its_changes_instead_of_leaking_them_into_the_next_commit():
    class Flaky(BufferedSink):
        def __init__(self) -> None:
            super().__init__()
            self.fail = True
            self.written: list[list[str]] = []

        def write(self, changes: dict[str, Record | None]) -> None:
            if self.fail:
                self.fail = False
                raise OSError("disk full")
            self.written.append(list(changes))

    sink = Flaky()
    sink.add([rec("a")])
    with pytest.raises(OSError):
        sink.commit()
    sink.add([rec("b")])
    sink.commit()
    assert sink.written == [["b"]]
