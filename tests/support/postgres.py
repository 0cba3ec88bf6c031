"""A throw-away PostgreSQL cluster for the test session, from Debian's binaries.

``tests/conftest.py`` starts one for the ``db_url`` fixture (``make test`` installs the
``postgresql`` package when missing); ``LIENHOP_TEST_POSTGRES_URL`` names an existing server
instead.
"""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import shutil
import signal
import subprocess
import tempfile
import time
import uuid
from pathlib import Path

from tests.support.net import free_port


class PostgresServer:
    """A throw-away PostgreSQL cluster on 127.0.0.1, owned by this test session."""

    def __init__(self) -> None:
        self.url: str | None = None
        self.reason = ""
        self._datadir: str | None = None
        self._bindir: str | None = None
        self._as_user: list[str] = []

    def start(self) -> None:
        external = os.environ.get("LIENHOP_TEST_POSTGRES_URL")
        if external:
            self.url = external
            return
        initdbs = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
        if not initdbs:
            self.reason = ("PostgreSQL server binaries not found under /usr/lib/postgresql "
                           "(run `make test`, which installs Debian's postgresql package)")
            return
        self._bindir = os.path.dirname(initdbs[-1])
        self._datadir = tempfile.mkdtemp(prefix="lienhop-pg-")
        if os.geteuid() == 0:
            # PostgreSQL refuses to run as root; Debian's package creates a postgres user.
            try:
                pw = pwd.getpwnam("postgres")
            except KeyError:
                self.reason = "running as root and there is no 'postgres' user to run the server"
                return
            os.chown(self._datadir, pw.pw_uid, pw.pw_gid)
            self._as_user = ["runuser", "-u", "postgres", "--"]
        port = free_port()
        try:
            subprocess.run(
                [*self._as_user, f"{self._bindir}/initdb", "-D", self._datadir, "-U", "lienhop",
                 "--auth=trust", "--encoding=UTF8", "--locale=C.UTF-8", "-N"],
                check=True, capture_output=True, timeout=120,
            )
            opts = (f"-p {port} -k {self._datadir} -c listen_addresses=127.0.0.1 "
                    "-c fsync=off -c synchronous_commit=off -c full_page_writes=off")
            subprocess.run(
                [*self._as_user, f"{self._bindir}/pg_ctl", "-D", self._datadir, "-o", opts,
                 "-l", f"{self._datadir}/server.log", "-w", "-t", "60", "start"],
                check=True, capture_output=True, timeout=90,
            )
        except (subprocess.SubprocessError, OSError) as exc:
            out = getattr(exc, "stderr", b"") or b""
            self.reason = f"could not start PostgreSQL: {exc} {out.decode(errors='replace')[-500:]}"
            return
        self.url = f"postgresql+psycopg://lienhop@127.0.0.1:{port}/postgres"

    def new_database(self) -> str:
        import psycopg

        assert self.url
        name = "t_" + uuid.uuid4().hex[:12]
        admin = self.url.replace("postgresql+psycopg://", "postgresql://")
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.url.rsplit("/", 1)[0] + "/" + name

    def stop(self) -> None:
        if self._datadir and self._bindir and self.url:
            pidfile = Path(self._datadir) / "postmaster.pid"
            pid = int(pidfile.read_text().split()[0]) if pidfile.exists() else None
            # Don't let pg_ctl wait (up to 60 s) on stragglers: ask, then make sure.
            subprocess.run(
                [*self._as_user, f"{self._bindir}/pg_ctl", "-D", self._datadir, "-m", "immediate",
                 "-W", "stop"], capture_output=True, timeout=30, check=False,
            )
            deadline = time.monotonic() + 5
            while pid and time.monotonic() < deadline:
                try:
                    os.kill(pid, 0)
                except ProcessLookupError:
                    break
                time.sleep(0.05)
            else:
                if pid:
                    with contextlib.suppress(ProcessLookupError):
                        os.kill(pid, signal.SIGKILL)
        if self._datadir:
            shutil.rmtree(self._datadir, ignore_errors=True)
