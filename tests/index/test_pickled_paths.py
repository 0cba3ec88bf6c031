"""An index stays readable when modules move: only stable class paths are pickled into it.

Whoosh pickles the schema (with its tokenizer instances) and the segment list into every
index's TOC, and each document's stored fields into a pickle column; unpickling finds each
class by module path and name. index/analysis.py's docstring says which lienhop classes are
named there and why they never move; these tests keep it true.
"""

from __future__ import annotations

import io
import pickle
import subprocess
import sys
import textwrap
import types
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import whoosh.columns
import whoosh.filedb.structfile
import whoosh.index as windex

from index import open_index, rebuild
from tests.support.catalogue import CATALOGUE, rec

#: The only lienhop classes an index may name, for good: moving or renaming one makes every
#: index built before unreadable.
STABLE = {
    ("index.analysis", "ExactTokenizer"),
    ("index.analysis", "FoldTokenizer"),
    ("index.analysis", "BigramTokenizer"),
}
#: Modules of the standard library a pickle in the index may name (besides Whoosh's own);
#: ``__builtin__`` is Python 2's name, which protocol 2 pickles keep.
_STDLIB = {"builtins", "__builtin__", "copyreg", "_codecs", "array", "collections", "re"}


def _recording(found: set[tuple[str, str]]) -> Callable[[Any], Any]:
    class Recorder(pickle.Unpickler):
        def find_class(self, module: str, name: str) -> Any:
            found.add((module, name))
            return super().find_class(module, name)

    def load(file: Any) -> Any:
        return Recorder(io.BytesIO(file) if isinstance(file, bytes) else file).load()

    return load


def _pickled_globals(gen_dir: Path, monkeypatch: pytest.MonkeyPatch) -> set[tuple[str, str]]:
    """Every (module, name) the pickles of one generation directory refer to."""
    found: set[tuple[str, str]] = set()
    load = _recording(found)
    with monkeypatch.context() as m:
        # The TOC: the schema (pickle.loads in whoosh.index) and the segments (read_pickle).
        m.setattr(windex, "pickle", types.SimpleNamespace(loads=load))
        m.setattr(whoosh.filedb.structfile, "load_pickle", load)
        # Stored fields: a pickle column per document.
        m.setattr(whoosh.columns, "loads", load)
        ix = windex.open_dir(str(gen_dir), readonly=True)
        with ix.reader() as r:
            for d in range(r.doc_count_all()):
                r.stored_fields(d)
    return found


def _generations(root: Path) -> list[Path]:
    return sorted(p for p in root.iterdir() if p.is_dir() and p.name.startswith("g-"))


def test_an_index_names_only_whoosh_and_the_stable_tokenizers(tmp_path, monkeypatch):
    root = tmp_path / "ix"
    ix = open_index(root)
    with ix.writer() as w:
        w.add(CATALOGUE[:10])
    with ix.writer() as w:  # a second segment, a deletion, a cluster re-keyed
        w.add(CATALOGUE[10:] + [rec("copy", CATALOGUE[0].title, year=2021,
                                    creators=["Nguyễn Văn Nam"])])
        w.delete(["quy"])
    rebuild(tmp_path / "rebuilt", CATALOGUE, batch=7)  # unmerged segments, lean writer

    for gen in _generations(root) + _generations(tmp_path / "rebuilt"):
        found = _pickled_globals(gen, monkeypatch)
        ours = {g for g in found if g[0].split(".")[0] not in ("whoosh", *_STDLIB)}
        # Every name resolved (the recorder's find_class would have raised otherwise), and
        # the only lienhop ones are the stable tokenizers.
        assert ours == STABLE, f"{gen.name}: pickled lienhop classes {sorted(ours)}"


def test_an_index_opens_in_a_fresh_interpreter_without_the_engine(tmp_path):
    """A reader that never imported index.whoosh_engine (the engine may move, or be another one)
    still unpickles the schema and reads the index."""
    root = tmp_path / "ix"
    with open_index(root).writer() as w:
        w.add(CATALOGUE)
    gen = _generations(root)[0]
    script = textwrap.dedent(f"""
        import importlib.abc, sys

        class NoEngine(importlib.abc.MetaPathFinder):
            def find_spec(self, name, path=None, target=None):
                if name == "index.whoosh_engine" or name.startswith("index.whoosh_engine."):
                    raise ImportError("the engine must not be needed to read an index")
                return None

        sys.meta_path.insert(0, NoEngine())
        from whoosh import index as windex
        ix = windex.open_dir({str(gen)!r}, readonly=True)
        with ix.searcher() as s:
            assert type(ix.schema["title_f"].analyzer).__module__ == "index.analysis"
            assert s.doc_count() == {len(CATALOGUE)}, s.doc_count()
            assert s.document(id="thuvien")["cluster"]
            assert ("all_f", "thu") in s.reader()
        print("ok")
    """)
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                         cwd=Path(__file__).resolve().parents[2], timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "ok"
