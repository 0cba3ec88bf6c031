"""resolver.web.services: the one home of the app's per-app objects."""

from __future__ import annotations

import re
import threading

import pytest
from itsdangerous import BadSignature
from sqlalchemy import text

from resolver import db
from resolver.web import services
from tests.support.paths import ROOT

RESOLVER = ROOT / "resolver"

#: Modules still writing their own per-app object (to move to services with their owner).
NOT_YET: set[str] = set()


def test_only_services_writes_the_app_objects():
    writes = re.compile(r"""(extensions\[[^\]]+\]|\["lienhop\.[\w.]+"\])\s*=(?!=)""")
    found = []
    for path in RESOLVER.rglob("*.py"):
        rel = path.relative_to(RESOLVER).as_posix()
        if rel == "web/services.py" or rel in NOT_YET:
            continue
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if writes.search(line) or "extensions.setdefault" in line:
                found.append(f"resolver/{rel}:{n}: {line.strip()}")
    assert found == []


def test_the_app_gets_its_database_through_services(app):
    assert services.engine(app) is app.extensions["lienhop.engine"]
    assert services.sessions(app) is app.extensions["lienhop.sessions"]
    assert db.current_revision(services.engine(app)) == db.head_revision()


def test_one_session_per_request_closed_at_the_end(app):
    pool = services.engine(app).pool
    with app.test_request_context("/"):
        first = services.session()
        assert services.session() is first
        first.execute(text("SELECT 1"))
        assert pool.checkedout() == 1
    assert pool.checkedout() == 0


def test_provide_replaces_an_object_for_the_accessors(app):
    class FakeQueue:
        pass

    fake = FakeQueue()
    services.provide(app, "queue", fake)
    with app.app_context():
        assert services.job_queue() is fake


def test_the_job_queue_uses_the_apps_database(app):
    with app.app_context():
        queue = services.job_queue()
        assert services.job_queue() is queue
        assert queue.sessions() is services.sessions(app)


def test_per_app_objects_are_made_once_whatever_the_threads(app):
    made = []
    barrier = threading.Barrier(8)

    def ask() -> None:
        with app.app_context():
            barrier.wait()
            made.append(services.recent_clicks(600.0))

    threads = [threading.Thread(target=ask) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(made) == 8 and all(m is made[0] for m in made)


def test_go_signers_follow_the_secret_key(app):
    with app.app_context():
        first = services.go_serializers("a", "b")
        assert services.go_serializers("a", "b") is first
        token = first.timed.dumps(["x"])
        app.secret_key = "another-secret"
        second = services.go_serializers("a", "b")
        assert second is not first
        with pytest.raises(BadSignature):
            second.timed.loads(token)
