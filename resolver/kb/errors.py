"""The one error of the knowledge base's write side: a change that cannot be applied."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from resolver.kb.kbart import RejectedRow

__all__ = ["KbError"]


class KbError(ValueError):
    """An import or entitlement that cannot be applied; nothing was changed.

    A refused KBART file also says which rows were rejected and why (``rejected``, in file
    order; for a file without a KBART header, the line taken for the header), and carries
    the message in Vietnamese (``message_vi``) for the admin pages.
    """

    def __init__(self, message: str, *, message_vi: str = "",
                 rejected: Sequence[RejectedRow] = (), warnings: Sequence[str] = ()) -> None:
        super().__init__(message)
        self.message_vi = message_vi or message
        self.rejected = rejected
        self.warnings = warnings
