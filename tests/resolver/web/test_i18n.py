"""Vietnamese by default, English by switch, the choice remembered; no string left untranslated."""

from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from resolver.web.i18n import TRANSLATIONS

ROOT = TRANSLATIONS.parents[1]


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
    with (TRANSLATIONS / "vi" / "LC_MESSAGES" / "messages.po").open("rb") as f:
        catalog = read_po(f)
    translated = {m.id for m in catalog if m.id and m.string}
    method_map = [("resolver/**.py", "python"), ("templates/**.html", "jinja2")]
    missing = set()
    for _file, _line, message, _comments, _ctx in extract_from_dir(ROOT, method_map=method_map):
        msgid = message[0] if isinstance(message, tuple) else message
        if msgid and msgid not in translated:
            missing.add(msgid)
    assert not missing, f"no Vietnamese translation for: {sorted(missing)}"
