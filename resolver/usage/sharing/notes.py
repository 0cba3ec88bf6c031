"""What an allocation says about itself: notes in words of the reader's language (pure).

A :class:`Note` keeps an English message id (marked with ``N_`` for the catalogue) and its
values; :meth:`Note.text` translates the message with the ``translate`` a caller passes
(Flask-Babel's ``gettext`` on a page, a Babel catalogue on the command line) and formats
decimal values in the reader's number convention (``12,5`` in Vietnamese).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from babel.numbers import format_decimal

__all__ = ["Note", "Translate", "identity"]

#: message id -> text in the reader's language
Translate = Callable[[str], str]


def identity(message: str) -> str:
    """English: message ids are English sentences."""
    return message


def shown(value: object, lang: str) -> str:
    """A value as the reader's language writes it (decimals grouped, comma in Vietnamese)."""
    if isinstance(value, Decimal | int) and not isinstance(value, bool):
        return str(format_decimal(value, format="#,##0.####", locale=lang))
    return str(value)


@dataclass(frozen=True)
class Note:
    """One remark about an allocation: ``code`` for programs (``use_imputed``,
    ``floor_over_cap``…), ``member`` the member it is about (or None), ``template`` the
    English message with ``%(name)s`` placeholders, ``values`` their values."""

    code: str
    template: str
    values: Mapping[str, Any] = field(default_factory=dict)
    member: str | None = None

    def text(self, translate: Translate = identity, lang: str = "en") -> str:
        """The note in the reader's language."""
        return str(translate(self.template)) % {k: shown(v, lang) for k, v in self.values.items()}

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready; decimal values as strings, their names under ``decimals``."""
        return {"code": self.code, "template": self.template, "member": self.member,
                "values": {k: str(v) if isinstance(v, Decimal) else v
                           for k, v in self.values.items()},
                "decimals": sorted(k for k, v in self.values.items()
                                   if isinstance(v, Decimal))}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Note:
        decimals = set(data.get("decimals") or ())
        values = {k: Decimal(v) if k in decimals else v
                  for k, v in (data.get("values") or {}).items()}
        return cls(data["code"], data["template"], values, data.get("member"))
