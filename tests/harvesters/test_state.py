"""The checkpoint (harvesters.state): where a run starts, where the next one will, what is saved."""

from __future__ import annotations

from datetime import timedelta

from harvesters.state import (
    Checkpoint,
    MemoryCheckpointStore,
    clear_run,
    next_high_water,
    next_list,
    start_run,
    track_datestamp,
)

MARK = "2024-05-10T08:00:00Z"


def test_incremental_run_starts_at_the_mark_minus_the_overlap_of_its_granularity():
    seconds = Checkpoint("hue", high_water=MARK, granularity="seconds")
    start_run(seconds, full=False, from_=None, started="2024-05-11T00:00:00Z")
    assert seconds.run_from == seconds.list_from == "2024-05-10T07:00:00Z"
    day = Checkpoint("hue", high_water=MARK, granularity="day")
    start_run(day, full=False, from_=None, started="2024-05-11T00:00:00Z")
    assert day.run_from == "2024-05-09"
    own = Checkpoint("hue", high_water=MARK, granularity="seconds")
    start_run(own, full=False, from_=None, started="x", overlap=timedelta(minutes=5))
    assert own.run_from == "2024-05-10T07:55:00Z"


def test_full_and_explicit_runs_ignore_the_mark():
    st = Checkpoint("hue", high_water=MARK, granularity="seconds")
    start_run(st, full=True, from_=None, started="s")
    assert st.run_from is None and st.run_full and st.in_progress
    start_run(st, full=False, from_="2024-01-01", started="s")
    assert st.run_from == "2024-01-01T00:00:00Z" and not st.run_full


def test_a_new_run_forgets_the_previous_runs_progress_but_keeps_the_marks():
    st = Checkpoint("hue", high_water=MARK, last_full="2024-01-01T00:00:00Z", token="t",
                    pages=7, set_index=2, failed_from="2024-05-01", unknown_failures=1)
    start_run(st, full=False, from_=None, started="2024-05-11T00:00:00Z")
    assert (st.token, st.pages, st.set_index, st.failed_from, st.unknown_failures) == (
        None, 0, 0, None, 0)
    assert st.high_water == MARK and st.last_full == "2024-01-01T00:00:00Z"
    assert st.run_id and st.run_id.startswith("2024-05-11T00:00:00Z-")
    clear_run(st)
    assert not st.in_progress and st.high_water == MARK


def test_the_next_list_starts_from_the_runs_from_with_a_clean_datestamp_track():
    st = Checkpoint("hue", run_from="2024-05-01", list_from="2024-05-03", token="t",
                    list_complete=True, last_datestamp="2024-05-04", monotone=False)
    next_list(st)
    assert (st.set_index, st.list_from, st.token, st.list_complete) == (1, "2024-05-01", None,
                                                                        False)
    assert st.last_datestamp is None and st.monotone


def test_the_next_mark_is_pinned_by_a_failed_record():
    st = Checkpoint("hue", high_water=MARK, run_started="2024-05-11T00:00:00Z")
    assert next_high_water(st) == "2024-05-11T00:00:00Z"
    st.failed_from = "2024-05-10"  # day granularity: the start of that day
    assert next_high_water(st) == "2024-05-10T00:00:00Z"
    st.failed_from = "2024-06-01T00:00:00Z"  # after the run's start: the start wins
    assert next_high_water(st) == "2024-05-11T00:00:00Z"
    st.failed_undated = True  # a failure without a datestamp: the mark stays put
    assert next_high_water(st) == MARK


def test_datestamps_are_tracked_with_their_order():
    last, monotone = None, True
    for stamp in ("2024-01-01", "", "2024-01-03", "2024-01-02"):
        last, monotone = track_datestamp(last, monotone, stamp)
    assert (last, monotone) == ("2024-01-03", False)


def test_saved_checkpoints_read_back_and_unknown_keys_are_ignored():
    store = MemoryCheckpointStore()
    st = Checkpoint("hue", high_water=MARK, token="abc", pages=3)
    store.save(st)
    assert store.load("hue") == st and store.load("ctu") is None
    # a checkpoint saved by a newer version (an added key) still loads
    assert Checkpoint.from_dict({**st.to_dict(), "added_later": 1}) == st
