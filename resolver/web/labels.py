"""What lienhop stores as a code, in words of the reader's language.

The database, the job queue and the OpenURL parser keep stable English codes (``queued``,
``ok``, ``every 6h``, "ctx_ver missing (accepted)"): scripts, logs and the JSON API read
them. A page shows the words from here instead, so no code leaks into the Vietnamese
interface; the English words are the message ids, so the English page reads as before.
"""

from __future__ import annotations

import re
from functools import cache

from flask_babel import gettext, ngettext, pgettext

from resolver.harvesting.models import CANCELLED, DONE, FAILED, PARTIAL, QUEUED, RUNNING
from resolver.registry.schedule import INTERVAL_RE, ScheduleError


def N_(message: str) -> str:
    """Marks a message for the catalogue (``pybabel extract`` reads ``N_``); translated when
    shown."""
    return message


# --- harvest jobs and runs ----------------------------------------------------------------------

def harvest_status_label(status: str) -> str:
    """A job's status (queued … cancelled) or a run's (running, ok, partial, failed,
    cancelled) in the reader's language; an unknown code as it is."""
    labels = {
        QUEUED: pgettext("harvest", "queued"),
        RUNNING: pgettext("harvest", "running"),
        DONE: pgettext("harvest", "done"),
        "ok": pgettext("harvest", "ok"),
        PARTIAL: pgettext("harvest", "partial"),
        FAILED: pgettext("harvest", "failed"),
        CANCELLED: pgettext("harvest", "cancelled"),
    }
    return str(labels.get(status, status))


# --- schedules ----------------------------------------------------------------------------------

def schedule_label(schedule: str | None) -> str:
    """A repository's schedule as words: "hằng ngày", "mỗi 6 giờ", a cron expression with
    its clock (resolver/registry/schedule.py reads cron in Vietnam time)."""
    value = (schedule or "").strip().lower()
    named = {
        "manual": gettext("manual"),
        "hourly": gettext("hourly"),
        "daily": gettext("daily"),
        "weekly": gettext("weekly"),
        "monthly": gettext("monthly"),
    }
    if value in named:
        return str(named[value])
    m = INTERVAL_RE.match(value)
    if m and len(m.group(1)) <= 9:
        n, unit = int(m.group(1)), m.group(2)
        if unit == "m":
            return str(ngettext("every %(num)s minute", "every %(num)s minutes", n))
        if unit == "h":
            return str(ngettext("every %(num)s hour", "every %(num)s hours", n))
        return str(ngettext("every %(num)s day", "every %(num)s days", n))
    if len(value.split()) == 5:
        return str(gettext("cron %(expr)s (Vietnam time)", expr=value))
    return schedule or ""


def schedule_error_text(error: ScheduleError) -> str:
    """Why a schedule cannot run, in the reader's language."""
    return error.message(lambda message: str(gettext(message)))


# --- the resolver's notes for library staff -------------------------------------------------------

#: Every note :mod:`resolver.openurl` leaves on a citation, its values as ``%(name)s``
#: (tests/resolver/web/test_labels.py checks that each note the parser can write is here).
OPENURL_NOTES = (
    N_("bytes that are not UTF-8 were read as Windows-1252/Latin-1"),
    N_("repaired mojibake (UTF-8 read as Latin-1)"),
    N_("replaced literal \\uXXXX escapes"),
    N_("a value longer than %(limit)s characters was cut"),
    N_("value was percent-encoded twice; decoded again"),
    N_("query longer than %(limit)s characters was cut"),
    N_("query started with '??'"),
    N_("HTML-escaped '&amp;' separators unescaped"),
    N_("more than %(limit)s parameters; the rest were ignored"),
    N_("stray '&' inside a value was kept as text"),
    N_("unfilled template in %(key)s ignored"),
    N_("aulast held 'Surname, Given'; split it"),
    N_("not a DOI, ignored: %(value)s"),
    N_("ISBN %(value)s has a wrong check digit (kept)"),
    N_("an ISBN was sent as ISSN; moved it"),
    N_("not an ISSN, ignored: %(value)s"),
    N_("%(label)s %(value)s has a wrong check digit (kept, flagged invalid)"),
    N_("rft_val_fmt %(value)s not usable; ignored"),
    N_("genre %(value)s not recognised"),
    N_("genre %(genre)s disagrees with rft_val_fmt %(format)s; genre wins"),
    N_("genre inferred as %(value)s"),
    N_("ctx_ver missing (accepted)"),
    N_("pid without sid (invalid in 0.1; ignored)"),
    N_("XML/by-reference ContextObject not supported; used the KEV keys only"),
    N_("date %(value)s: only the year is usable"),
    N_("date %(value)s has no year"),
    N_("date %(value)s names several years; using %(year)s"),
    N_("season %(value)s read as months %(first)s-%(last)s"),
)
_PLACEHOLDER = re.compile(r"%\((\w+)\)s")


@cache
def _note_patterns() -> tuple[tuple[re.Pattern[str], str], ...]:
    """Each note as a pattern whose groups are its values."""
    out = []
    for message in OPENURL_NOTES:
        parts = _PLACEHOLDER.split(message)  # text, name, text, name, …, text
        pattern = "".join(re.escape(part) if i % 2 == 0 else f"(?P<{part}>.*?)"
                          for i, part in enumerate(parts))
        out.append((re.compile(pattern + r"\Z", re.S), message))
    return tuple(out)


def note_label(note: str) -> str:
    """A resolver note for library staff in the reader's language (a note not listed in
    :data:`OPENURL_NOTES` as the parser wrote it)."""
    for pattern, message in _note_patterns():
        m = pattern.match(note)
        if m:
            return str(gettext(message, **m.groupdict()))
    return note
