"""``lienhop index rebuild --engine`` converts an instance Whoosh → tantivy → Whoosh from the
raw archive, and ``LIENHOP_INDEX_ENGINE`` chooses the engine of a new index (issue 14)."""

from __future__ import annotations

import os
import pty
import re
import subprocess
import sys
from pathlib import Path

import pytest

import index
from harvesters.demo_server import OAIDevServer
from resolver.demo import FORMATS, demo_records
from resolver.settings import ConfigError, load_settings
from tests.support.harvesting import registry_for

QUERIES = ["", "thu vien", "lu song Huong", "du bao", "nghiên cứu"]


@pytest.fixture
def cli(runner, tmp_path, monkeypatch):  # type: ignore[no-untyped-def]
    monkeypatch.setenv("LIENHOP_DATABASE_URL", f"sqlite:///{tmp_path / 'db.sqlite3'}")
    _, records = demo_records("hue-dspace")
    with OAIDevServer(records, page_size=2, formats={"oai_dc": FORMATS["oai_dc"]}) as srv:
        reg = tmp_path / "reg.toml"
        reg.write_text(registry_for(srv.url), encoding="utf-8")
        assert runner.invoke("registry", "import", str(reg)).exit_code == 0
        assert runner.invoke("harvest", "hue-dspace").exit_code == 0
    return runner


def answers() -> list[tuple[int, list[str], list[str]]]:
    ix = index.open_index(load_settings().index_dir, readonly=True)
    out = []
    for q in QUERIES:
        res = ix.search(q, size=50)
        out.append((res.total, [h.record.id for h in res.hits],
                    [f"{f.value}={f.count}" for f in res.facets.get("institution", [])]))
    return out


def test_rebuild_converts_between_engines_with_the_same_answers(cli):
    path = load_settings().index_dir
    assert index.index_engine(path) == "whoosh"  # the default
    before = answers()
    assert before[0][0] == 5
    res = cli.invoke("index", "rebuild", "--engine", "tantivy")
    assert res.exit_code == 0, res.output
    assert index.index_engine(path) == "tantivy"
    assert answers() == before
    res = cli.invoke("index", "rebuild")  # no option: the current engine
    assert res.exit_code == 0 and index.index_engine(path) == "tantivy"
    assert answers() == before
    res = cli.invoke("index", "rebuild", "--engine", "whoosh")
    assert res.exit_code == 0, res.output
    assert index.index_engine(path) == "whoosh"
    assert answers() == before


def test_a_new_index_gets_the_configured_engine(runner, tmp_path, monkeypatch):  # type: ignore[no-untyped-def]
    monkeypatch.setenv("LIENHOP_INDEX_ENGINE", "tantivy")
    monkeypatch.setenv("LIENHOP_DATABASE_URL", f"sqlite:///{tmp_path / 'db.sqlite3'}")
    _, records = demo_records("hue-dspace")
    with OAIDevServer(records, page_size=2, formats={"oai_dc": FORMATS["oai_dc"]}) as srv:
        reg = tmp_path / "reg.toml"
        reg.write_text(registry_for(srv.url), encoding="utf-8")
        assert runner.invoke("registry", "import", str(reg)).exit_code == 0
        assert runner.invoke("harvest", "hue-dspace").exit_code == 0
    path = load_settings().index_dir
    assert index.index_engine(path) == "tantivy"
    assert index.open_index(path, readonly=True).search("").total == 5


def test_an_unknown_engine_is_a_clear_config_error(lienhop_env, monkeypatch):  # type: ignore[no-untyped-def]
    monkeypatch.setenv("LIENHOP_INDEX_ENGINE", "lucene")
    with pytest.raises(ConfigError, match="INDEX_ENGINE must be whoosh or tantivy"):
        load_settings()


def test_rebuild_reports_progress_in_lines_when_not_on_a_terminal(cli):  # type: ignore[no-untyped-def]
    res = cli.invoke("index", "rebuild", "--engine", "tantivy")
    assert res.exit_code == 0, res.output
    assert re.search(r"^rebuilding: 5 / 5 records \(100 %\), [\d,]+ rec/s$", res.output, re.M)
    assert "rebuilt " in res.output and "5 records, 0 failed" in res.output


def test_rebuild_shows_a_progress_bar_on_a_terminal(cli):  # type: ignore[no-untyped-def]
    """The real command, its stderr a pseudo-terminal."""
    master, slave = pty.openpty()
    lienhop = Path(sys.executable).with_name("lienhop")
    proc = subprocess.Popen([str(lienhop), "index", "rebuild", "--engine", "whoosh"],
                            stdout=subprocess.PIPE, stderr=slave, text=True)
    os.close(slave)
    terminal = b""
    while True:
        try:
            chunk = os.read(master, 4096)
        except OSError:  # the command ended and its terminal output is all read
            break
        if not chunk:
            break
        terminal += chunk
    out, _ = proc.communicate(timeout=120)
    os.close(master)
    assert proc.returncode == 0, out
    shown = terminal.decode()
    assert re.search(r"rebuilding\s+\[#+\]\s+5/5", shown), shown
    assert "rec/s" in shown and "rebuilding: " not in shown  # a bar, not lines
    assert "5 records, 0 failed" in out
