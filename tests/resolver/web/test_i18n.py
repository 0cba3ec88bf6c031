"""Vietnamese by default, English by switch, the choice remembered; no string left untranslated.

"Untranslated" is what ``pybabel extract`` with the project's ``babel.cfg`` would find in the
sources and the ``vi`` catalogue lacks: every ``_()``/``gettext``/``ngettext``/``pgettext``/
``N_`` call and Flask-Babel's ``lazy_*`` forms, in Python and in templates, each message with
its context and its plural. (Pages rendered in Vietnamese are searched for English words in
tests/resolver/views/test_vietnamese_pages.py.)
"""

from __future__ import annotations

import re
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po

from resolver.web.i18n import TRANSLATIONS

ROOT = TRANSLATIONS.parents[1]
VI = TRANSLATIONS / "vi" / "LC_MESSAGES" / "messages.po"
#: pybabel's keywords plus Flask-Babel's lazy forms (``pybabel extract -k lazy_gettext …``)
KEYWORDS = {**DEFAULT_KEYWORDS, "lazy_gettext": None, "lazy_pgettext": ((1, "c"), 2),
            "lazy_ngettext": (1, 2), "lazy_npgettext": ((1, "c"), 2, 3)}
_PLACEHOLDER = re.compile(r"%\((\w+)\)[sdr]")


def vietnamese() -> Catalog:
    with VI.open("rb") as f:
        return read_po(f, locale="vi")


def untranslated(root: Path, catalog: Catalog) -> list[str]:
    """``file:line: message`` for every message extracted from ``root`` (as ``babel.cfg``
    says) that ``catalog`` does not translate: missing, empty, fuzzy (left out of the
    compiled catalogue), with another context, or without its plural."""
    with (ROOT / "babel.cfg").open() as f:
        method_map, options_map = parse_mapping_cfg(f)
    missing = []
    for filename, lineno, message, _comments, context in extract_from_dir(
            root, method_map, options_map, keywords=KEYWORDS):
        msgid = message[0] if isinstance(message, tuple) else message
        if not msgid:
            continue
        plural = isinstance(message, tuple) and len(message) > 1 and bool(message[1])
        entry = catalog.get(msgid, context=context)
        strings = () if entry is None else (
            entry.string if isinstance(entry.string, tuple) else (entry.string,))
        if (entry is None or entry.fuzzy or not strings or not all(strings)
                or plural != entry.pluralizable):
            where = f" (context {context!r})" if context else ""
            missing.append(f"{filename}:{lineno}: {msgid!r}{where}")
    return missing


def test_vietnamese_is_the_default(client):
    html = client.get("/").get_data(as_text=True)
    assert '<html lang="vi">' in html
    assert "Thành viên và quan sát viên" in html


def test_english_by_switch_and_remembered(client):
    html = client.get("/?lang=en").get_data(as_text=True)
    assert '<html lang="en">' in html and "Members and observers" in html
    again = client.get("/").get_data(as_text=True)  # the cookie remembers the choice
    assert "Members and observers" in again
    back = client.get("/?lang=vi").get_data(as_text=True)
    assert "Thành viên và quan sát viên" in back


def test_unknown_language_falls_back_to_vietnamese(client):
    assert '<html lang="vi">' in client.get("/?lang=fr").get_data(as_text=True)


def test_every_message_has_a_vietnamese_translation():
    missing = untranslated(ROOT, vietnamese())
    assert not missing, "no Vietnamese translation for:\n" + "\n".join(missing)


def test_the_check_finds_every_kind_of_untranslated_message(tmp_path):
    """What the check above would catch: a plain call, a lazy one, a known message asked
    with an unknown context, a singular known only without its plural, in Python and in
    templates; translated messages pass."""
    (tmp_path / "resolver").mkdir()
    (tmp_path / "templates").mkdir()
    (tmp_path / "resolver" / "page.py").write_text(
        'from flask_babel import gettext as _, lazy_gettext, ngettext, pgettext\n'
        'A = _("Home")\n'
        'B = lazy_gettext("A label nobody translated")\n'
        'C = pgettext("membership", "Status")\n'
        'D = pgettext("nowhere", "Status")\n'
        'E = ngettext("every %(num)s hour", "every %(num)s hours", 2)\n'
        'F = ngettext("Home", "Homes", 2)\n', encoding="utf-8")
    (tmp_path / "templates" / "page.html").write_text(
        '<p>{{ _("Search") }} {{ _("A template string nobody translated") }}</p>\n'
        '<p>{{ pgettext("harvest", "queued") }} {{ pgettext("harvest", "never heard") }}</p>\n',
        encoding="utf-8")
    missing = "\n".join(untranslated(tmp_path, vietnamese()))
    for caught in ("'A label nobody translated'", "'Status' (context 'nowhere')", "'Home'",
                   "'A template string nobody translated'", "'never heard' (context 'harvest')"):
        assert caught in missing
    assert len(missing.splitlines()) == 5  # and nothing else


def test_translations_keep_every_placeholder():
    """A translation that drops or renames ``%(name)s`` would fail or lose a value on the
    page: the placeholders of each translation are those of its message id."""
    catalog = vietnamese()
    assert not [(m.id, errors) for m, errors in catalog.check()]
    wrong = []
    for m in catalog:
        if not m.id or not m.string:
            continue
        ids = m.id if isinstance(m.id, tuple) else (m.id,)
        strings = m.string if isinstance(m.string, tuple) else (m.string,)
        want = set(_PLACEHOLDER.findall(ids[-1]))
        wrong += [(ids[0], s) for s in strings if set(_PLACEHOLDER.findall(s)) != want]
    assert not wrong
