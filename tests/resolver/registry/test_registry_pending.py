"""`lienhop registry import|export` with ranges waiting for approval (SQLite and PostgreSQL):
a file is the consortium's word, so what it lists is in force and no longer waits."""

from sqlalchemy import select

from resolver import db
from resolver.registry.models import Institution, IpRange, PendingIpRange

REGISTRY = """
[[institution]]
code = "hue"
name_vi = "Đại học Huế"
ip_ranges = [{ranges}]
"""


def test_import_grants_waiting_ranges_it_lists_and_export_leaves_the_others_out(
        runner, db_url, monkeypatch, tmp_path):
    monkeypatch.setenv("LIENHOP_DATABASE_URL", db_url)
    path = tmp_path / "reg.toml"
    path.write_text(REGISTRY.format(ranges='"203.0.113.0/24"'), encoding="utf-8")
    assert runner.invoke("registry", "import", str(path)).exit_code == 0
    engine = db.make_engine(db_url)
    sessions = db.session_factory(engine)
    with db.transaction(sessions) as s:
        hue = s.scalar(select(Institution.id).where(Institution.code == "hue"))
        s.add_all([PendingIpRange(institution_id=hue, cidr="192.0.3.0/24"),
                   PendingIpRange(institution_id=hue, cidr="192.0.4.0/24")])
    res = runner.invoke("registry", "export", "-")
    assert "192.0.3.0/24" not in res.output and "waiting" in res.output

    path.write_text(REGISTRY.format(ranges='"203.0.113.0/24", "192.0.3.0/24"'),
                    encoding="utf-8")
    res = runner.invoke("registry", "import", str(path))
    assert res.exit_code == 0, res.output
    with sessions() as s:
        assert set(s.scalars(select(IpRange.cidr))) == {"203.0.113.0/24", "192.0.3.0/24"}
        assert list(s.scalars(select(PendingIpRange.cidr))) == ["192.0.4.0/24"]
