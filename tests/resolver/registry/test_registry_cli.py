"""`lienhop registry import|export` against a real database (SQLite and PostgreSQL)."""

import textwrap

import pytest
from sqlalchemy import func, select

from resolver import db
from resolver.demo import DEMO_DIR
from resolver.registry.models import Institution, IpRange, Repository


@pytest.fixture
def cli(runner, db_url, monkeypatch):
    monkeypatch.setenv("LIENHOP_DATABASE_URL", db_url)
    return runner


@pytest.fixture
def sessions(db_url):
    engine = db.make_engine(db_url)
    db.upgrade(engine)
    return db.session_factory(engine)


def counts(sessions):
    with sessions() as s:
        return tuple(s.scalar(select(func.count()).select_from(m))
                     for m in (Institution, IpRange, Repository))


def test_import_then_reimport_is_unchanged(cli, sessions):
    res = cli.invoke("registry", "import", str(DEMO_DIR / "registry.toml"))
    assert res.exit_code == 0, res.output
    assert "6 were created" in res.output
    assert counts(sessions) == (6, 12, 4)
    res = cli.invoke("registry", "import", str(DEMO_DIR / "registry.toml"))
    assert "0 were created, 0 updated, 6 unchanged" in res.output
    assert counts(sessions) == (6, 12, 4)


def test_malformed_file_reports_line_and_changes_nothing(cli, sessions, tmp_path):
    cli.invoke("registry", "import", str(DEMO_DIR / "registry.toml"))
    before = counts(sessions)
    bad = tmp_path / "bad.toml"
    bad.write_text(textwrap.dedent("""\
        [[institution]]
        code = "hue"
        name_vi = "Đại học Huế (đổi tên)"
        status = "member"
        ip_ranges = ["192.0.2.64/26"

        [[institution]]
        code = "new"
        name_vi = "Mới"
        """), encoding="utf-8")
    res = cli.invoke("registry", "import", str(bad))
    assert res.exit_code == 2
    assert f"{bad}:" in res.output and "nothing was changed" in res.output
    assert counts(sessions) == before
    with sessions() as s:
        assert s.scalar(select(Institution.name_vi).where(Institution.code == "hue")) == \
            "Đại học Huế"


def test_invalid_values_change_nothing_even_when_most_of_the_file_is_good(cli, sessions,
                                                                          tmp_path):
    text = (DEMO_DIR / "registry.toml").read_text(encoding="utf-8")
    bad = tmp_path / "reg.toml"
    bad.write_text(text.replace('"198.51.100.0/25"', '"192.0.2.10/32"'), encoding="utf-8")
    res = cli.invoke("registry", "import", str(bad))
    assert res.exit_code == 2
    line = next(n for n, t in enumerate(bad.read_text().splitlines(), 1) if "192.0.2.10/32" in t)
    assert f"{bad}:{line}: institution 'tvu': ip_ranges: 192.0.2.10/32 overlaps " \
           "192.0.2.0/26 of institution 'nasati'" in res.output
    assert counts(sessions) == (0, 0, 0)


def test_import_refuses_a_schedule_the_scheduler_cannot_run(cli, sessions, tmp_path):
    text = (DEMO_DIR / "registry.toml").read_text(encoding="utf-8")
    bad = tmp_path / "reg.toml"
    bad.write_text(text.replace('schedule = "every 6h"', 'schedule = "99 * * * *"'),
                   encoding="utf-8")
    res = cli.invoke("registry", "import", str(bad))
    assert res.exit_code == 2
    line = next(n for n, t in enumerate(bad.read_text().splitlines(), 1) if "99 * * * *" in t)
    assert f"{bad}:{line}: " in res.output and "'99'" in res.output
    assert "nothing was changed" in res.output
    assert counts(sessions) == (0, 0, 0)


def test_export_import_round_trip(cli, sessions, tmp_path):
    cli.invoke("registry", "import", str(DEMO_DIR / "registry.toml"))
    out = tmp_path / "exported.toml"
    assert cli.invoke("registry", "export", str(out)).exit_code == 0
    exported = out.read_text(encoding="utf-8")
    assert "Đại học Huế" in exported  # stored and written NFC, diacritics intact
    res = cli.invoke("registry", "import", str(out))
    assert "6 unchanged" in res.output, res.output
    out2 = tmp_path / "again.toml"
    cli.invoke("registry", "export", str(out2))
    assert out2.read_text(encoding="utf-8") == exported


def test_changes_and_prune(cli, sessions, tmp_path):
    cli.invoke("registry", "import", str(DEMO_DIR / "registry.toml"))
    small = tmp_path / "small.toml"
    small.write_text(textwrap.dedent("""\
        [[institution]]
        code = "hue"
        name_vi = "Đại học Huế"
        status = "member"
        since = 2004-10-01
        ip_ranges = ["192.0.2.64/26"]
        """), encoding="utf-8")
    res = cli.invoke("registry", "import", str(small))
    assert "1 updated" in res.output and "kept; use --prune" in res.output
    assert counts(sessions)[0] == 6
    res = cli.invoke("registry", "import", "--prune", str(small))
    assert "5 removed" in res.output
    assert counts(sessions) == (1, 1, 0)


def test_dry_run_changes_nothing(cli, sessions):
    res = cli.invoke("registry", "import", "--dry-run", str(DEMO_DIR / "registry.toml"))
    assert "6 would be created" in res.output
    assert counts(sessions) == (0, 0, 0)
