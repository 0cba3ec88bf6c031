"""The normalised bibliographic record: the contract between harvesters and the index.

Harvesters build :class:`Record` objects from whatever metadata format a member repository
serves; the index stores and searches them; the resolver and the web layer read them back.
Every text value is NFC and whitespace-cleaned by the crosswalk that built it; nothing here
changes what a record says.
"""

from __future__ import annotations

import dataclasses
import hashlib
from dataclasses import dataclass, field
from typing import Any

#: Each record class's field names (``dataclasses.fields`` walks the class every call: it
#: was a tenth of reading a stored record).
_FIELD_NAMES: dict[type, frozenset[str]] = {}

#: The normalised resource types, in the order facets list them.
TYPES: tuple[str, ...] = (
    "article",
    "thesis",
    "dissertation",
    "book",
    "report",
    "conference paper",
    "dataset",
    "other",
)

#: Access values.
OPEN = "open"
RESTRICTED = "restricted"


def make_record_id(repository: str, oai_identifier: str) -> str:
    """Return the stable lienhop id of a harvested record.

    The id depends only on the repository code and the record's OAI identifier, so it stays
    the same across re-harvests and index rebuilds and is safe in a URL path.

    >>> make_record_id("hue-dspace", "oai:localhost:123/45")
    'hue-dspace-31dc7c53e01e'
    """
    digest = hashlib.sha1(f"{repository}\n{oai_identifier}".encode(), usedforsecurity=False)
    return f"{repository}-{digest.hexdigest()[:12]}"


@dataclass
class Record:
    """One harvested work as the index knows it."""

    id: str
    oai_identifier: str
    repository: str
    institution: str
    datestamp: str = ""  # the source's datestamp, ISO 8601 UTC as the source gave it
    metadata_prefix: str = "oai_dc"
    sets: list[str] = field(default_factory=list)

    titles: list[str] = field(default_factory=list)
    creators: list[str] = field(default_factory=list)
    contributors: list[str] = field(default_factory=list)  # advisors, editors
    subjects: list[str] = field(default_factory=list)
    abstract: str = ""
    publisher: str = ""
    dates: list[str] = field(default_factory=list)
    year: int | None = None
    type: str = "other"  # one of TYPES
    language: str = ""  # ISO 639-3, e.g. "vie", "eng"

    doi: str | None = None  # lower-cased, no resolver prefix: "10.1234/abc"
    isbn: list[str] = field(default_factory=list)  # ISBN-13 digits, no hyphens
    issn: list[str] = field(default_factory=list)  # "1234-567X"
    handle: str | None = None  # "123456789/42"
    urls: list[str] = field(default_factory=list)

    journal: str = ""
    volume: str = ""
    issue: str = ""
    pages: str = ""

    rights: str = ""
    licence: str = ""
    access: str = RESTRICTED  # OPEN or RESTRICTED
    fulltext_links: list[str] = field(default_factory=list)

    @property
    def title(self) -> str:
        """The main title (the first one), or an empty string."""
        return self.titles[0] if self.titles else ""

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict of every field."""
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Record:
        """Build a record from :meth:`to_dict` output; unknown keys are ignored."""
        names = _FIELD_NAMES.get(cls)
        if names is None:
            names = _FIELD_NAMES[cls] = frozenset(f.name for f in dataclasses.fields(cls))
        return cls(**{k: v for k, v in data.items() if k in names})
