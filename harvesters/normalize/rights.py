"""Rights statements → open or restricted access, the Creative Commons licence, and the text
a record shows.

The access-right terms of the DRIVER/OpenAIRE vocabulary (``info:eu-repo/semantics/
openAccess`` and its closed, restricted and embargoed siblings) are codes for the access,
not statements a reader is shown: they decide ``access`` and stay out of the rights text
(:func:`rights_text`). So a record lienhop serves with its access term (resolver/oai/
provider.py) comes back with the same rights when harvested again.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from harvesters.normalize.text import clean_text
from index.record import OPEN, RESTRICTED

_CLOSED = re.compile(
    r"info:eu-repo/semantics/(?:closed|restricted|embargoed)access|closed access|"
    r"restricted access|embargo|hạn chế|không công khai",
    re.IGNORECASE,
)
_OPEN = re.compile(
    r"info:eu-repo/semantics/openaccess|open[\s-]?access|creativecommons\.org|"
    r"\bcc[\s_-]?(?:by|0|zero)\b|creative commons|public domain|publicdomain|truy cập mở|"
    r"miễn phí|free access|\bopen\b",
    re.IGNORECASE,
)


_ACCESS_TERM = re.compile(
    r"^\s*info:eu-repo/semantics/(?:open|closed|restricted|embargoed)access\s*$", re.IGNORECASE
)


def is_access_term(value: str | None) -> bool:
    """True for a whole value that is an access-right term of the DRIVER/OpenAIRE vocabulary.

    >>> is_access_term("info:eu-repo/semantics/openAccess"), is_access_term("Open Access")
    (True, False)
    """
    return bool(_ACCESS_TERM.match(clean_text(value)))


def rights_text(values: Iterable[str]) -> str:
    """What a record shows as its rights: the statements, access-right terms left out.

    >>> rights_text(["CC BY 4.0", "info:eu-repo/semantics/embargoedAccess"])
    'CC BY 4.0'
    """
    return "; ".join(v for v in values if not is_access_term(v))


def access_from_rights(values: Iterable[str | None]) -> str:
    """"open" when the rights say open access or carry a CC licence, else "restricted".

    An explicit closed/restricted/embargoed statement wins over a licence.

    >>> access_from_rights(["info:eu-repo/semantics/openAccess"])
    'open'
    >>> access_from_rights(["© Đại học Huế", "http://creativecommons.org/licenses/by-nc/4.0/"])
    'open'
    >>> access_from_rights(["info:eu-repo/semantics/embargoedAccess", "CC BY 4.0"])
    'restricted'
    >>> access_from_rights(["Copyright of the original work is retained by the author."])
    'restricted'
    """
    texts = [clean_text(v) for v in values]
    if any(_CLOSED.search(t) for t in texts):
        return RESTRICTED
    return OPEN if any(_OPEN.search(t) for t in texts) else RESTRICTED


_CC_URL = re.compile(
    r"creativecommons\.org/(?:licenses|licences)/([a-z-]+)/(\d\.\d)", re.IGNORECASE
)
_CC_ZERO = re.compile(r"creativecommons\.org/publicdomain/zero|\bcc[\s_-]?(?:0|zero)\b", re.I)
_CC_LABEL = re.compile(r"\bcc[\s_-]?(by(?:[\s_-](?:nc|nd|sa)){0,3})(?:[\s_-]?(\d\.\d))?", re.I)


def licence_from_rights(values: Iterable[str | None]) -> str:
    """Return a canonical Creative Commons licence name found in the rights, or "".

    >>> licence_from_rights(["http://creativecommons.org/licenses/by-nc-sa/4.0/"])
    'CC BY-NC-SA 4.0'
    >>> licence_from_rights(["cc_by"])
    'CC BY'
    >>> licence_from_rights(["Bản quyền thuộc về tác giả"])
    ''
    """
    for raw in values:
        text = clean_text(raw)
        if m := _CC_URL.search(text):
            return f"CC {m.group(1).upper()} {m.group(2)}"
        if _CC_ZERO.search(text):
            return "CC0"
        if m := _CC_LABEL.search(text):
            parts = re.split(r"[\s_-]+", m.group(1).upper())
            name = "CC " + "-".join(parts)
            return f"{name} {m.group(2)}" if m.group(2) else name
    return ""
