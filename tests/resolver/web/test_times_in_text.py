"""Times written inside stored text (the audit log's details) and on the command line are
Vietnam time too (resolver/web/times.py): a page converts every UTC stamp it finds, never a
date alone or a time that already says another offset; the command line adds the offset."""

from __future__ import annotations

import datetime as dt

import pytest

from resolver.web.times import cli_time, in_vietnam, local_stamps


@pytest.mark.parametrize(("text", "shown"), [
    ("2024-02-01T20:00:00", "2024-02-02 03:00:00"),
    ("2024-02-01T20:00:00.123456", "2024-02-02 03:00:00"),
    ("until 2024-02-01T20:00:00Z, then", "until 2024-02-02 03:00:00, then"),
    ("2024-02-01T20:00:00+00:00", "2024-02-02 03:00:00"),
    ("2024-02-01T20:00", "2024-02-02 03:00"),
    ("2024-12-31T17:30:00", "2025-01-01 00:30:00"),
    ("a 2024-02-01T01:00:00 b 2024-02-01T02:00:00", "a 2024-02-01 08:00:00 b 2024-02-01 09:00:00"),
])
def test_utc_stamps_in_text_read_in_vietnam_time(app, text, shown):
    with app.test_request_context("/"):
        assert local_stamps(text) == shown


@pytest.mark.parametrize("text", [
    "2004-10-01", "2024-02-01T20:00:00+07:00", "2024-02-01 20:00", "192.0.2.0/24",
    "12024-02-01T20:00:00", "2024-02-01T20:00:00.1234567", "", "no time here",
    "v2024-02-01T20:00:00-05:00",
])
def test_anything_else_is_left_as_written(app, text):
    with app.test_request_context("/"):
        assert local_stamps(text) == text


def test_the_command_line_says_the_zone():
    assert cli_time(dt.datetime(2024, 2, 1, 20, 0)) == "2024-02-02 03:00 +07:00"
    assert cli_time(dt.datetime(2024, 2, 1, 20, 0, tzinfo=dt.UTC)) == "2024-02-02 03:00 +07:00"
    assert cli_time(None) == "never"
    assert in_vietnam(dt.datetime(2024, 12, 31, 17, 0)).date() == dt.date(2025, 1, 1)
