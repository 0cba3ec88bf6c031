"""Vietnamese first, English by switch: Flask-Babel wiring.

Message ids in code and templates are English (``_("Search")``); the ``vi`` catalogue
translates every one of them (a test fails on any missing translation), and ``en`` falls
back to the ids. The reader's choice comes from ``?lang=vi|en`` (remembered in a cookie),
then the cookie, then Vietnamese: a consortium site defaults to the consortium's language,
not to the browser's.

Catalogues (``.po``) are compiled to ``.mo`` when the ``.po`` is newer, at start-up, so a
fresh clone needs no separate build step.
"""

from __future__ import annotations

import logging
from pathlib import Path

from babel import Locale
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from flask import Flask, Response, g, request
from flask_babel import Babel, get_locale

from resolver.web import labels, ordering, times
from resolver.web.query import arg_absent

LOCALES = ("vi", "en")
DEFAULT_LOCALE = "vi"
COOKIE = "lang"
TRANSLATIONS = Path(__file__).resolve().parent.parent / "translations"

log = logging.getLogger("lienhop.i18n")


def compile_catalogues(directory: Path = TRANSLATIONS) -> list[Path]:
    """Compile every ``.po`` under ``directory`` whose ``.mo`` is missing or older."""
    compiled = []
    for po in sorted(directory.glob("*/LC_MESSAGES/*.po")):
        mo = po.with_suffix(".mo")
        if mo.exists() and mo.stat().st_mtime >= po.stat().st_mtime:
            continue
        with po.open("rb") as f:
            catalog = read_po(f, locale=po.parts[-3])
        tmp = mo.with_suffix(".mo.tmp")
        with tmp.open("wb") as f:
            write_mo(f, catalog, use_fuzzy=False)
        tmp.replace(mo)  # atomic: a concurrent worker never reads half a catalogue
        compiled.append(mo)
    return compiled


def select_locale() -> str:
    """``?lang=``, then the remembered cookie, then Vietnamese."""
    # an OpenURL's dozen parameters are decoded only when one may be ``lang``
    asked = "" if arg_absent("lang") else request.args.get("lang", "")
    if asked in LOCALES:
        g.set_lang_cookie = asked
        return asked
    remembered = request.cookies.get(COOKIE, "")
    return remembered if remembered in LOCALES else DEFAULT_LOCALE


def _remember_choice(response: Response) -> Response:
    chosen = g.pop("set_lang_cookie", None)
    if chosen:
        response.set_cookie(COOKIE, chosen, max_age=365 * 24 * 3600, samesite="Lax",
                            httponly=True, secure=request.is_secure)
    return response


def init_app(app: Flask) -> None:
    try:
        compile_catalogues()
    except OSError as exc:  # a read-only install: use whatever .mo files are there
        log.warning("could not compile message catalogues: %s", exc)
    app.config.setdefault("BABEL_DEFAULT_LOCALE", DEFAULT_LOCALE)
    app.config.setdefault("BABEL_DEFAULT_TIMEZONE", times.ZONE_NAME)
    app.config["BABEL_TRANSLATION_DIRECTORIES"] = str(TRANSLATIONS)
    # The selector hands Flask-Babel a ready Locale: parsing "vi" again on every request
    # looked its data file up on disk each time.
    locales = {code: Locale.parse(code) for code in LOCALES}
    Babel(app, locale_selector=lambda: locales[select_locale()])
    app.jinja_env.globals["get_locale"] = get_locale
    # what every template shows as the reader reads it: stored codes as words
    # (resolver/web/labels.py), institutions by name (ordering.py), times in Vietnam time
    # (times.py; ``admin_time`` is the same filter under the admin pages' older name)
    app.jinja_env.globals.update(
        harvest_status_label=labels.harvest_status_label,
        schedule_label=labels.schedule_label,
        note_label=labels.note_label,
        display_name=ordering.institution_name,
    )
    app.jinja_env.filters["local_time"] = times.local_time
    app.after_request(_remember_choice)
