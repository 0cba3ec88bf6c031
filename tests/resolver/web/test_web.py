"""/healthz and the home page."""

from sqlalchemy import create_engine

from resolver import db
from resolver.registry.models import Institution
from resolver.web import services


def test_healthz_fails_without_an_index(client):
    res = client.get("/healthz")
    assert res.status_code == 503
    body = res.get_json()
    assert body["checks"]["database"] == {"ok": True}
    assert body["checks"]["index"]["ok"] is False
    assert "lienhop" in body["checks"]["index"]["error"]


def test_healthz_ok_with_database_and_index(app, client):
    import index

    index.open_index(app.config["LIENHOP"].index_dir)  # an empty index is a readable index
    res = client.get("/healthz")
    assert res.status_code == 200, res.get_json()
    assert res.get_json()["status"] == "ok"
    assert res.get_json()["checks"]["index"]["records"] == 0


def test_healthz_reports_a_dead_database(app, client):
    services.provide(app, "engine", create_engine(
        "postgresql+psycopg://nobody@127.0.0.1:1/none", connect_args={"connect_timeout": 1}))
    res = client.get("/healthz")
    assert res.status_code == 503
    assert res.get_json()["checks"]["database"]["ok"] is False


def test_home_lists_institutions_escaped(app, client):
    with db.transaction(app.extensions["lienhop.sessions"]) as s:
        s.add(Institution(code="x", name_vi="<script>alert(1)</script> Thư viện", status="member"))
        s.add(Institution(code="bd", name_vi="Thư viện tỉnh Bình Định", status="observer",
                          since=__import__("datetime").date(2020, 1, 1)))
    res = client.get("/")
    html = res.get_data(as_text=True)
    assert res.status_code == 200
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt; Thư viện" in html
    assert "Thư viện tỉnh Bình Định" in html
    assert "đủ điều kiện trở thành thành viên" in html
