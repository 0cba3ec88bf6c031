"""The OAI-PMH 2.0 error vocabulary, shared by both sides of the protocol.

OAI-PMH answers a request it cannot serve with ``<error code="...">message</error>``
elements (protocol §3.6), from a closed list of codes (:class:`ErrorCode`).  This package
meets them on both sides, and the two must not be confused:

* **client side**, :class:`ReceivedError`: an error element *parsed from a response* a
  repository sent us (:mod:`harvesters.page`); its code is whatever the repository wrote,
  known or not.  The client raises :class:`harvesters.client.OAIProtocolError` carrying them.
* **server side**, :class:`ErrorReply`: the exception a data provider *raises* to answer
  with an error element: the demo/test repository (:mod:`harvesters.demo_server`) and the
  consortium's own provider (``resolver.oai.provider``).  Its code is one of
  :class:`ErrorCode`; :func:`error_element` renders it, and :func:`echoes_request` says
  whether the response's ``<request>`` may repeat the arguments.

Pure: no I/O, no third-party import, so the resolver's provider can use it without pulling
in the harvesting stack.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from xml.sax.saxutils import escape, quoteattr

#: the namespace of the OAI-PMH 2.0 envelope
OAI_NS = "http://www.openarchives.org/OAI/2.0/"


class ErrorCode(StrEnum):
    """The error codes of OAI-PMH 2.0 (protocol §3.6); each compares equal to its string."""

    BAD_ARGUMENT = "badArgument"
    BAD_RESUMPTION_TOKEN = "badResumptionToken"  # noqa: S105 -- a protocol code, no secret
    BAD_VERB = "badVerb"
    CANNOT_DISSEMINATE_FORMAT = "cannotDisseminateFormat"
    ID_DOES_NOT_EXIST = "idDoesNotExist"
    NO_RECORDS_MATCH = "noRecordsMatch"
    NO_METADATA_FORMATS = "noMetadataFormats"
    NO_SET_HIERARCHY = "noSetHierarchy"


#: codes after which the ``<request>`` element carries no attributes (protocol §3.2):
#: the arguments were not understood, so they are not repeated back
_NOT_ECHOED = frozenset({ErrorCode.BAD_VERB, ErrorCode.BAD_ARGUMENT})


def echoes_request(code: str) -> bool:
    """Whether a response with this error may echo the request's arguments in ``<request>``."""
    return code not in _NOT_ECHOED


@dataclass(frozen=True)
class ReceivedError:
    """Client side: one ``<error code="...">message</error>`` of a response we received."""

    code: str
    message: str = ""

    def __str__(self) -> str:
        return f"{self.code}: {self.message}" if self.message else self.code


class ErrorReply(Exception):
    """Server side: raised by a data provider to answer the request with an error element.

    :param code: one of the protocol's codes; a string is accepted and checked
        (``ValueError`` for a code OAI-PMH does not have: a provider may send no other).
    """

    def __init__(self, code: ErrorCode | str, message: str) -> None:
        super().__init__(message)
        self.code = ErrorCode(code)
        self.message = message

    def __repr__(self) -> str:
        return f"ErrorReply({self.code.value!r}, {self.message!r})"


def error_element(error: ErrorReply) -> str:
    """The ``<error>`` element that answers with ``error``."""
    return f"<error code={quoteattr(error.code.value)}>{escape(error.message)}</error>"
