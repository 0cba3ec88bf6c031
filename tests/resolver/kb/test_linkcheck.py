"""The link check job against a local HTTP server: 200s, 404s, HEAD refused, a timeout."""

from __future__ import annotations

import pytest
import requests
from huey import MemoryHuey, SqliteHuey
from sqlalchemy import select

from resolver import db
from resolver.kb.linkcheck import (
    LINKCHECK_TASK,
    NO_LINK,
    _Polite,
    enqueue_link_check,
    register,
    run_link_check,
)
from resolver.kb.models import KbTitle, LinkCheck, Package

pytestmark = pytest.mark.usefixtures("cheap_hashes")


def add_package(sessions, base: str, code: str = "sd",  # type: ignore[no-untyped-def]
                paths: tuple[str, ...] = ("/ok/a", "/gone/b", "/nohead/c", "/slow/d"),
                template: str = "{title_url}") -> None:
    with db.transaction(sessions) as s:
        pkg = Package(code=code, name=code, title_template=template)
        s.add(pkg)
        s.flush()
        for i, path in enumerate(paths, 1):
            s.add(KbTitle(package_id=pkg.id, row=i, title=f"T{i} {path}", title_norm=f"t{i}",
                          title_id=path.rsplit("/", 1)[-1], title_url=base + path))


def results(sessions, code: str = "sd") -> dict[str, tuple[int | None, str]]:  # type: ignore[no-untyped-def]
    with sessions() as s:
        return {r.url.rsplit("/", 2)[-2] if r.url else "": (r.status, r.error)
                for r in s.scalars(select(LinkCheck).where(LinkCheck.package == code))}


def test_checks_sampled_links_and_records_dead_ones(sessions, link_server):
    base, seen = link_server
    add_package(sessions, base)
    summary = run_link_check(sessions, per_package=10, timeout=0.5, delay=0, seed=1)
    assert summary == {"sd": (4, 2)}
    got = results(sessions)
    assert got["ok"] == (200, "") and got["nohead"] == (200, "")
    assert got["gone"] == (404, "")
    assert got["slow"][0] is None and "timeout" in got["slow"][1]
    # HEAD first; GET only where HEAD was refused; a 404 is believed at once
    assert ("HEAD", "/nohead/c") in seen and ("GET", "/nohead/c") in seen
    assert ("GET", "/gone/b") not in seen and ("GET", "/ok/a") not in seen
    assert ("GET", "/slow/d") not in seen  # a timeout is not waited for twice


def test_sample_size_and_replacement_of_earlier_results(sessions, link_server):
    base, _seen = link_server
    add_package(sessions, base, paths=("/ok/1", "/ok/2", "/ok/3", "/gone/4", "/ok/5"))
    assert run_link_check(sessions, per_package=2, delay=0, seed=3)["sd"][0] == 2
    run_link_check(sessions, per_package=3, delay=0, seed=4)
    with sessions() as s:
        assert len(s.scalars(select(LinkCheck)).all()) == 3  # the latest check only


def test_links_are_built_from_the_package_template(sessions, link_server):
    base, seen = link_server
    add_package(sessions, base, code="tpl", paths=("/x/a", "/x/b"),
                template=base + "/ok/{title_id}")
    with db.transaction(sessions) as s:
        s.add(KbTitle(package_id=s.scalar(select(Package.id).where(Package.code == "tpl")),
                      row=9, title="No id", title_norm="no id"))
    run_link_check(sessions, per_package=10, delay=0)
    with sessions() as s:
        rows = {r.title: (r.url, r.status, r.error) for r in s.scalars(select(LinkCheck))}
    assert rows["T1 /x/a"] == (base + "/ok/a", 200, "")
    assert rows["No id"] == ("", None, NO_LINK)  # no link can be built: reported as dead


def test_politeness_delay_per_host():
    now = [0.0]
    slept: list[float] = []

    def sleep(s: float) -> None:
        slept.append(round(s, 3))
        now[0] += s

    polite = _Polite(1.0, sleep, clock=lambda: now[0])
    polite.wait("http://a.example/1")
    polite.wait("http://b.example/1")  # another host: no wait
    now[0] += 0.25
    polite.wait("http://a.example/2")
    assert slept == [0.75]


class _Queue:
    """What register() needs from resolver.harvesting.queue.JobQueue: a huey, settings, sessions."""

    def __init__(self, sessions, huey=None):  # type: ignore[no-untyped-def]
        self.huey = huey or MemoryHuey("test-linkcheck", immediate=True)
        self._sessions = sessions
        self.settings = type("S", (), {"harvest_delay": 0.0})()

    def sessions(self):  # type: ignore[no-untyped-def]
        return self._sessions


def test_task_is_registered_once_on_the_queue_huey(sessions, link_server):
    base, _seen = link_server
    add_package(sessions, base, paths=("/ok/a", "/gone/b"))
    queue = _Queue(sessions)
    task = register(queue)
    assert register(queue) is task and task.name == LINKCHECK_TASK
    enqueue_link_check(queue, ["sd"], 5)  # immediate mode: runs now, as the worker would
    assert results(sessions) == {"ok": (200, ""), "gone": (404, "")}


def test_a_worker_process_runs_what_the_web_process_sent(sessions, link_server, tmp_path):
    """Two huey instances over one queue file, as the web process and lienhop worker have."""
    base, _seen = link_server
    add_package(sessions, base, paths=("/gone/x",))
    path = str(tmp_path / "queue.sqlite3")
    web = _Queue(sessions, SqliteHuey("lienhop", filename=path, results=False))
    worker = _Queue(sessions, SqliteHuey("lienhop", filename=path, results=False))
    register(worker)
    enqueue_link_check(web, None, 3)
    assert results(sessions) == {}  # nothing ran in the web process
    message = worker.huey.dequeue()
    assert message is not None
    worker.huey.execute(message)
    assert results(sessions) == {"gone": (404, "")}


def test_link_check_pages(admin_app, boss, hue_admin, sessions, link_server):
    base, _seen = link_server
    add_package(sessions, base, paths=("/ok/a", "/gone/b"))
    admin_app.extensions["lienhop.queue"] = _Queue(sessions)
    res = boss.post("/admin/kb/linkcheck", {"package": "sd", "per_package": "5"})
    assert res.status_code == 302
    page = boss.get("/admin/kb/linkcheck").get_data(as_text=True)
    dead = page.split("<h2>")[1].split("<h2>")[0]
    assert base + "/gone/b" in dead and base + "/ok/a" not in dead
    packages = boss.get("/admin/kb/packages").get_data(as_text=True)
    assert '<td class="num">1</td><td>' in packages  # one dead link for sd
    assert hue_admin.get("/admin/kb/linkcheck").status_code == 403
    assert hue_admin.post("/admin/kb/linkcheck", {}).status_code == 403


def test_a_queue_without_huey_is_reported_not_crashed(boss, sessions):
    res = boss.post("/admin/kb/linkcheck", {}, follow_redirects=True)  # FakeQueue: no huey
    assert 'class="flash-error"' in res.get_data(as_text=True)


def test_a_refused_connection_is_an_error_not_a_crash(sessions):
    with db.transaction(sessions) as s:
        pkg = Package(code="closed", name="closed")
        s.add(pkg)
        s.flush()
        s.add(KbTitle(package_id=pkg.id, row=1, title="X", title_norm="x",
                      title_url="http://127.0.0.1:9/nothing"))
    assert run_link_check(sessions, delay=0, timeout=1, http=requests.Session()) == {
        "closed": (1, 1)}
    with sessions() as s:
        row = s.scalars(select(LinkCheck)).one()
        assert row.status is None and "ConnectionError" in row.error
