"""Harvesting for real in tests: a one-repository registry file, a worker's environment."""

from __future__ import annotations

import os


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
