"""Migration 0007 (ranges waiting for approval) on an instance made by the previous version:
its ranges stay in force, on SQLite and PostgreSQL."""

from sqlalchemy import func, inspect, select

from resolver import db
from resolver.linking.service import load_registry
from resolver.registry.models import Institution, IpRange, PendingIpRange


def test_an_instance_of_0006_upgrades_and_its_ranges_stay_in_force(db_url):
    engine = db.make_engine(db_url)
    db.upgrade(engine, "0006")
    assert "pending_ip_range" not in inspect(engine).get_table_names()
    with engine.begin() as conn:
        inst_id = conn.execute(Institution.__table__.insert().values(
            code="hue", name_vi="Đại học Huế")).inserted_primary_key[0]
        conn.execute(IpRange.__table__.insert().values(institution_id=inst_id,
                                                       cidr="203.0.113.0/24"))
    db.upgrade(engine)
    # at head, which is 0007 or a later migration
    assert db.current_revision(engine) == db.head_revision() >= "0007"
    sessions = db.session_factory(engine)
    with sessions() as s:
        assert s.scalar(select(func.count()).select_from(PendingIpRange)) == 0
        assert load_registry(s).institution_for_ip("203.0.113.9") == "hue"
        # and a request can be stored beside it
        s.add(PendingIpRange(institution_id=inst_id, cidr="192.0.3.0/24", requested_by="x"))
        s.commit()
        assert load_registry(s).institution_for_ip("192.0.3.9") is None
