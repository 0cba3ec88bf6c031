"""The OAI-PMH provider's app: a registry (hue, ctu) and 7 items, and the same app served on
127.0.0.1 for real clients. Helpers are in tests/support/oai.py."""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Iterator

import pytest
from werkzeug.serving import make_server

from resolver import db
from resolver.registry.models import Institution, Repository
from tests.support.oai import T0, make_record, seed


@pytest.fixture
def oai_app(app):  # type: ignore[no-untyped-def]
    """The app with a registry (hue, ctu) and 7 items, pages of 3."""
    app.config["OAI_PAGE_SIZE"] = 3
    sessions = app.extensions["lienhop.sessions"]
    with db.transaction(sessions) as s:
        s.add(Institution(code="hue", name_vi="Đại học Huế", name_en="Hue University",
                          repositories=[Repository(code="hue-dspace",
                                                   oai_url="http://hue.edu.vn/oai")]))
        s.add(Institution(code="ctu", name_vi="Đại học Cần Thơ", name_en="Can Tho University",
                          repositories=[Repository(code="ctu-dspace",
                                                   oai_url="http://ctu.edu.vn/oai")]))
    recs = [make_record(i) for i in range(1, 5)]
    recs += [make_record(i, inst="ctu", rtype="article", access="restricted") for i in (5, 6)]
    seed(sessions, recs)
    seed(sessions, [make_record(7, inst="ctu", prefix="mods")], T0 + dt.timedelta(days=1))
    return app


@pytest.fixture
def live(oai_app) -> Iterator[str]:  # type: ignore[no-untyped-def]
    """The app served on 127.0.0.1 (threads) for real clients; yields the base URL."""
    server = make_server("127.0.0.1", 0, oai_app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/oai"
    server.shutdown()
    thread.join(5)
