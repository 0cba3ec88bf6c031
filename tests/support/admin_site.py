"""A lienhop instance with one member (Đại học Huế) and its one repository, served by real
`lienhop` processes: what the admin browser tests log in to. One home for its settings, its
registry and how its processes start and stop."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tests.support.net import free_port, wait_for_port

LIENHOP = str(Path(sys.executable).with_name("lienhop"))
ADMIN = "chief"
PASSWORD = "browser admin password"

_REGISTRY = """
[[institution]]
code = "hue"
name_vi = "Đại học Huế"
status = "member"

[[institution.repository]]
code = "hue-dspace"
oai_url = "{oai_url}"
schedule = "manual"
"""


def instance_env(tmp_path: Path, secret: str, retries: int) -> dict[str, str]:
    """The environment of an instance in ``tmp_path`` whose first administrator is
    :data:`ADMIN` / :data:`PASSWORD`, harvesting from loopback (refused unless allowed)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("LIENHOP_")}
    env.update(LIENHOP_HOME=str(tmp_path / "instance"), LIENHOP_ENV="testing",
               LIENHOP_SECRET_KEY=secret, LIENHOP_HARVEST_DELAY="0",
               LIENHOP_HARVEST_RETRIES=str(retries), LIENHOP_ADMIN_USER=ADMIN,
               LIENHOP_ADMIN_PASSWORD=PASSWORD,
               LIENHOP_HARVEST_ALLOWED_NETWORKS="127.0.0.0/8")
    return env


def import_hue_repository(env: dict[str, str], tmp_path: Path, oai_url: str) -> None:
    """Register Đại học Huế and its repository ``hue-dspace`` at ``oai_url``."""
    registry = tmp_path / "registry.toml"
    registry.write_text(_REGISTRY.format(oai_url=oai_url), encoding="utf-8")
    subprocess.run([LIENHOP, "registry", "import", str(registry)], env=env, check=True,
                   capture_output=True, timeout=120)


@contextmanager
def serve(env: dict[str, str], *, worker: bool = False) -> Iterator[str]:
    """`lienhop run` (and, if asked, one `lienhop worker`) until the block ends; yields the
    site's base URL."""
    port = free_port()
    procs = [subprocess.Popen([LIENHOP, "run", "--port", str(port), "--no-reload"], env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)]
    if worker:
        procs.append(subprocess.Popen([LIENHOP, "worker", "--workers", "1"], env=env,
                                      stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
    try:
        wait_for_port(port)
        yield f"http://127.0.0.1:{port}"
    finally:
        for proc in procs:
            proc.terminate()
            proc.wait(timeout=15)
