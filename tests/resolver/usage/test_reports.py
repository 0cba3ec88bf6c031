"""Report figures against hand-computed values, on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import insert, select

from resolver import db
from resolver.db.base import utcnow
from resolver.usage import rollup
from resolver.usage.counts import clicks, requests, turnaways
from resolver.usage.models import ClickLog, ResolveLog, UsageMonth
from resolver.usage.tables import pivot
from tests.support.usage import MONTHS

D = dt.date
START, END = D(2023, 11, 1), D(2024, 12, 1)


def by_key(rows, *dims):  # type: ignore[no-untyped-def]
    return {(r.month, *(getattr(r, d) for d in dims)): r.count for r in rows}


def test_clicks_by_package_per_month(seeded):
    with seeded() as s:
        rows = clicks(s, start=START, end=END, by=("package",), kinds=["fulltext"])
    got = by_key(rows, "package")
    # package sd (i=0): hue 1 + k, ctu 2 + k -> 3 + 2k a month; k = 2 is January 2024.
    assert got[(D(2024, 1, 1), "sd")] == 7
    assert got[(D(2023, 11, 1), "springer")] == 6  # (2 + 0) + (4 + 0)
    assert got[(D(2024, 12, 1), "ieee")] == 35  # (3 + 13) + (6 + 13)
    totals = {p: sum(n for (_m, q), n in got.items() if q == p) for p in ("sd", "springer",
                                                                            "ieee")}
    assert totals == {"sd": 224, "springer": 266, "ieee": 308}
    assert len(rows) == 3 * 14


def test_clicks_by_kind_and_institution(seeded):
    with seeded() as s:
        kinds = by_key(clicks(s, start=D(2024, 3, 1), end=D(2024, 3, 31),
                              by=("kind",)), "kind")
        insts = by_key(clicks(s, start=START, end=END, by=("institution",),
                              kinds=["fulltext"]), "institution")
        detail = clicks(s, start=D(2024, 3, 1), end=D(2024, 3, 1),
                        by=("institution", "package", "kind"))
    # March 2024 is k = 4: full text = sum over i, j of (i+1)(j+1) + 4 = 18 + 24 = 42.
    assert kinds == {(D(2024, 3, 1), "fulltext"): 42, (D(2024, 3, 1), "open"): 2,
                     (D(2024, 3, 1), "delivery"): 1}
    # hue (j=0): sum over i of (i+1) + k = 6 + 3k a month -> 84 + 3·91 = 357
    assert sum(n for (_m, i), n in insts.items() if i == "hue") == 357
    assert sum(n for (_m, i), n in insts.items() if i == "ctu") == 441  # 12 + 3k: 168 + 273
    open_hue = [r for r in detail if r.kind == "open" and r.institution == "hue"]
    assert [(r.package, r.count) for r in open_hue] == [(None, 1)]


def test_rollup_and_live_log_agree(seeded):
    with seeded() as s:
        live = rollup.monthly_counts(s, "click", START, END, by=("package", "kind"))
        assert s.execute(select(UsageMonth)).first() is None
        done = rollup.refresh(s)
        assert done["click"] >= 14
        rolled = rollup.monthly_counts(s, "click", START, END, by=("package", "kind"))
        assert rolled == live
        assert rollup.refresh(s) == {"click": 0, "resolve": 0}  # nothing left to do
        # A click now is counted live, on top of the roll-up.
        s.add(ClickLog(kind="fulltext", package="sd", institution="hue"))
        s.commit()
        now = utcnow()
        this = rollup.month_start(now)
        rows = clicks(s, start=this, end=this, by=("package",))
        assert by_key(rows, "package")[(this, "sd")] >= 1


def test_rollup_rebuild_sees_backfilled_rows(seeded):
    with seeded() as s:
        rollup.refresh(s)
        s.execute(insert(ClickLog), [{"at": dt.datetime(2024, 1, 15), "institution": "hue",
                                      "package": "sd", "kind": "fulltext"}])
        s.commit()
        before = by_key(clicks(s, start=D(2024, 1, 1), end=D(2024, 1, 1)), "package")
        assert before[(D(2024, 1, 1), "sd")] == 7  # the roll-up does not see the past change
        rollup.rebuild(s)
        after = by_key(clicks(s, start=D(2024, 1, 1), end=D(2024, 1, 1)), "package")
        assert after[(D(2024, 1, 1), "sd")] == 8


def test_requests_and_turnaways(sessions):
    rows = []
    for outcome, inst, pkg, n, month in (
        ("fulltext", "hue", None, 5, 1), ("turnaway", "hue", "wiley", 3, 1),
        ("turnaway", "ctu", "wiley", 2, 1), ("turnaway", "ctu", "ieee", 4, 2),
        ("open", "ctu", "wiley", 1, 2), ("nomatch", None, None, 6, 2),
    ):
        rows += [{"at": dt.datetime(2024, month, 10), "institution": inst, "outcome": outcome,
                  "package": pkg, "packages": pkg or ""}] * n
    with db.transaction(sessions) as s:
        s.execute(insert(ResolveLog), rows)
    with sessions() as s:
        req = by_key(requests(s, start=D(2024, 1, 1), end=D(2024, 2, 1)), "kind")
        turn = by_key(turnaways(s, start=D(2024, 1, 1), end=D(2024, 2, 1)), "package")
        turn_ctu = by_key(turnaways(s, start=D(2024, 1, 1), end=D(2024, 2, 1),
                                    by=("institution",), institutions=["ctu"]),
                          "institution")
        unknown = requests(s, start=D(2024, 2, 1), end=D(2024, 2, 1),
                           by=("institution",), institutions=[None])
    assert req == {(D(2024, 1, 1), "fulltext"): 5, (D(2024, 1, 1), "turnaway"): 5,
                   (D(2024, 2, 1), "turnaway"): 4, (D(2024, 2, 1), "open"): 1,
                   (D(2024, 2, 1), "nomatch"): 6}
    assert turn == {(D(2024, 1, 1), "wiley"): 5, (D(2024, 2, 1), "ieee"): 4}
    assert turn_ctu == {(D(2024, 1, 1), "ctu"): 2, (D(2024, 2, 1), "ctu"): 4}
    assert [(r.institution, r.count) for r in unknown] == [(None, 6)]


def test_pivot_fills_missing_months(seeded):
    with seeded() as s:
        rows = clicks(s, start=D(2023, 10, 1), end=D(2023, 12, 1), by=("package",),
                      kinds=["fulltext"])
    months, series = pivot(rows, "package", D(2023, 10, 1), D(2023, 12, 1))
    assert months == [D(2023, 10, 1), D(2023, 11, 1), D(2023, 12, 1)]
    assert series["sd"] == [0, 3, 5]
    assert list(series) == ["ieee", "sd", "springer"]
    assert pivot(rows, None, D(2023, 11, 1), D(2023, 11, 1))[1] == {"total": [18]}


def test_unknown_dimension_is_refused(sessions):
    with sessions() as s, pytest.raises(ValueError):
        clicks(s, start=START, end=END, by=("ip",))


def test_seed_is_what_the_docstring_says():
    assert len(MONTHS) == 14 and MONTHS[-1] == D(2024, 12, 1)
