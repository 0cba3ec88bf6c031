"""Stored codes as words of the reader's language (resolver/web/labels.py): every note the
OpenURL parser can leave is translated, schedules read as words, unknown codes pass through."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import resolver.openurl
from resolver.web.labels import harvest_status_label, note_label, schedule_label

OPENURL = Path(resolver.openurl.__file__).parent


def _sample(node: ast.expr) -> str | None:
    """The text a string or f-string node makes, with ``'v'`` for each value in it."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.JoinedStr):
        return "".join(v.value if isinstance(v, ast.Constant) else "'v'" for v in node.values)
    return None


def parser_notes() -> list[str]:
    """Every note resolver/openurl writes: ``notes.add(…)``, ``ParsedDate(…, note)`` and
    ``note = …``, each as a sample text."""
    found: list[ast.expr] = []
    for path in sorted(OPENURL.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) \
                    and node.func.attr == "add" and isinstance(node.func.value, ast.Name) \
                    and node.func.value.id == "notes":
                found.extend(node.args[:1])
            elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name) \
                    and node.func.id == "ParsedDate":
                found.extend(node.args[4:5])
                found.extend(k.value for k in node.keywords if k.arg == "note")
            elif isinstance(node, ast.Assign) and any(
                    isinstance(t, ast.Name) and t.id == "note" for t in node.targets):
                found.append(node.value)
    values: list[ast.expr] = []
    for expr in found:  # `note or f"season …"`
        values.extend(expr.values if isinstance(expr, ast.BoolOp) else [expr])
    return [s for s in map(_sample, values) if s is not None]


def test_the_scan_finds_the_parsers_notes():
    notes = parser_notes()
    assert "ctx_ver missing (accepted)" in notes and len(notes) >= 25
    assert "date 'v' names several years; using 'v'" in notes


def test_every_note_the_parser_writes_is_translated(app):
    with app.test_request_context("/?lang=vi"):
        untranslated = [n for n in parser_notes() if note_label(n) == n]
    assert not untranslated, "add these to OPENURL_NOTES and the catalogue: " + repr(
        untranslated)


def test_notes_keep_their_values_and_read_as_written_in_english(app):
    note = "not a DOI, ignored: '10.x/<b>'"
    with app.test_request_context("/?lang=vi"):
        assert note_label(note) == "không phải DOI, bỏ qua: '10.x/<b>'"
        assert note_label("a note nobody listed") == "a note nobody listed"
    with app.test_request_context("/?lang=en"):
        assert note_label(note) == note


@pytest.mark.parametrize(("schedule", "vi", "en"), [
    ("manual", "thủ công", "manual"),
    ("hourly", "hằng giờ", "hourly"),
    (" Daily ", "hằng ngày", "daily"),
    ("weekly", "hằng tuần", "weekly"),
    ("monthly", "hằng tháng", "monthly"),
    ("every 30m", "mỗi 30 phút", "every 30 minutes"),
    ("every 1h", "mỗi 1 giờ", "every 1 hour"),
    ("every 6h", "mỗi 6 giờ", "every 6 hours"),
    ("every 2d", "mỗi 2 ngày", "every 2 days"),
    ("30 2 * * *", "cron 30 2 * * * (giờ Việt Nam)", "cron 30 2 * * * (Vietnam time)"),
    ("nonsense", "nonsense", "nonsense"),
])
def test_schedules_as_words(app, schedule, vi, en):
    with app.test_request_context("/?lang=vi"):
        assert schedule_label(schedule) == vi
    with app.test_request_context("/?lang=en"):
        assert schedule_label(schedule) == en


def test_harvest_states_as_words(app):
    with app.test_request_context("/?lang=vi"):
        assert [harvest_status_label(s) for s in ("ok", "failed", "queued", "odd")] == \
            ["thành công", "thất bại", "đang chờ", "odd"]
    with app.test_request_context("/?lang=en"):
        assert harvest_status_label("ok") == "ok"
