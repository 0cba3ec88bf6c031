"""Harvesting for real in tests: a one-repository registry file, a worker's environment."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from harvesters.demo_server import OAIDevServer
from resolver.demo import FORMATS, demo_records


def registry_for(url: str) -> str:
    """A registry TOML with one member, ``hue``, whose ``hue-dspace`` repository is ``url``."""
    return f"""
[[institution]]
code = "hue"
name_vi = "Đại học Huế"
status = "member"

[[institution.repository]]
code = "hue-dspace"
oai_url = "{url}"
metadata_prefix = "oai_dc"
"""


def worker_env(extra: dict[str, str]) -> dict[str, str]:
    """This process's environment without its LIENHOP_* variables, plus ``extra``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("LIENHOP_")}
    env.update(extra)
    return env


@pytest.fixture
def server() -> Iterator[OAIDevServer]:
    """The demo repository hue-dspace on a local OAI-PMH server, two records a page."""
    _, records = demo_records("hue-dspace")
    with OAIDevServer(records, page_size=2, formats={"oai_dc": FORMATS["oai_dc"]},
                      deleted_record="transient") as srv:
        yield srv


@pytest.fixture
def cli(runner, server, tmp_path, monkeypatch):  # type: ignore[no-untyped-def]
    """The ``lienhop`` runner on a fresh SQLite database whose registry lists ``server``."""
    monkeypatch.setenv("LIENHOP_DATABASE_URL", f"sqlite:///{tmp_path / 'db.sqlite3'}")
    reg = tmp_path / "reg.toml"
    reg.write_text(registry_for(server.url), encoding="utf-8")
    assert runner.invoke("registry", "import", str(reg)).exit_code == 0
    return runner
