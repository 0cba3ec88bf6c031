"""Destructive admin actions ask first, on a page that works without JavaScript.

Every admin POST that deletes something (a repository, an IP range, a waiting range
request, an entitlement), cancels a harvest job, deactivates an account or replaces a
package's titles with a KBART file that removes or changes some is answered, the first
time, with a confirmation page that says what will happen; the page posts the same form
again with ``confirm=yes``, and only then does the action run. A button in any page, a
bookmarked form or a replayed request thus never deletes in one click.
tests/resolver/views/test_confirmations.py walks the admin URL map and checks that every
such endpoint asks. (A KBART file cannot be posted again by a page: the upload view keeps
it aside, ``resolver/views/admin/staged_uploads.py``, and the confirmation carries its
token in ``fields``.)

A view uses it as::

    if not confirmed():
        return ask(title=..., consequences=[...], confirm_label=..., cancel_url=...)
"""

from __future__ import annotations

from dataclasses import dataclass, field

from flask import render_template, request
from flask.typing import ResponseReturnValue

#: the form field, and its value, that the confirmation page adds
CONFIRM_FIELD, CONFIRMED = "confirm", "yes"
#: fields of the first request the confirmation page does not carry over
_NOT_CARRIED = frozenset({"csrf_token", CONFIRM_FIELD})


@dataclass(frozen=True)
class Alternative:
    """Another way out offered beside the confirmation (a form posted to ``action``)."""

    explanation: str
    label: str
    action: str
    fields: dict[str, str] = field(default_factory=dict)


def confirmed() -> bool:
    """Whether this POST comes from the confirmation page."""
    return request.form.get(CONFIRM_FIELD) == CONFIRMED


def ask(*, title: str, consequences: list[str], confirm_label: str, cancel_url: str,
        alternatives: list[Alternative] | None = None,
        fields: dict[str, str] | None = None) -> ResponseReturnValue:
    """The confirmation page of this request: what will happen, the button that does it
    (the same form again, confirmed, plus ``fields``), a way back that changes nothing, and
    ``alternatives``.
    """
    extra = fields or {}
    carried = [(name, value) for name, value in request.form.items(multi=True)
               if name not in _NOT_CARRIED and name not in extra]
    carried.extend(extra.items())
    return render_template("admin/confirm.html", title=title, consequences=consequences,
                           confirm_label=confirm_label, cancel_url=cancel_url,
                           action=request.path, fields=carried,
                           confirm_field=CONFIRM_FIELD, confirm_value=CONFIRMED,
                           alternatives=alternatives or [])
