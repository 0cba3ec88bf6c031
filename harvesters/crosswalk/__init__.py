"""Metadata crosswalks: one OAI-PMH ``<metadata>`` payload in, one :class:`index.record.Record` out.

>>> from lxml import etree
>>> dc = etree.fromstring(
...     '<oai_dc:dc xmlns:oai_dc="http://www.openarchives.org/OAI/2.0/oai_dc/"'
...     ' xmlns:dc="http://purl.org/dc/elements/1.1/"><dc:title>Thư viện số</dc:title></oai_dc:dc>')
>>> record = crosswalk("oai_dc", dc, Header("oai:hue:1", "2024-01-02"),
...                    repository="hue-dspace", institution="HUE")
>>> record.title, record.language
('Thư viện số', 'vie')
"""

from __future__ import annotations

from collections.abc import Callable

from lxml import etree

from harvesters.crosswalk import dim, marcxml, mods, oai_dc, xoai
from harvesters.crosswalk._common import (
    CrosswalkError,
    Draft,
    Header,
    NoUsableMetadata,
    finish,
)
from index.record import Record

__all__ = [
    "SUPPORTED_PREFIXES",
    "CrosswalkError",
    "Header",
    "NoUsableMetadata",
    "crosswalk",
    "format_of",
    "payload_mismatch",
]

_READERS: dict[str, Callable[[etree._Element], Draft]] = {
    "oai_dc": oai_dc.to_draft,
    "marcxml": marcxml.to_draft,
    "mods": mods.to_draft,
    "dim": dim.to_draft,
    "xoai": xoai.to_draft,
}

#: Metadata prefixes :func:`crosswalk` understands (marc21 is Koha's name for marcxml).
SUPPORTED_PREFIXES: frozenset[str] = frozenset({"oai_dc", "marcxml", "marc21", "mods", "dim",
                                                "xoai"})

_BY_NAMESPACE = {
    oai_dc.NS_OAI_DC: "oai_dc",
    marcxml.NS_MARC: "marcxml",
    mods.NS_MODS: "mods",
    dim.NS_DIM: "dim",
    xoai.NS_XOAI: "xoai",
}
_PREFIX_ALIASES = {
    "oai_dc": "oai_dc", "dc": "oai_dc",
    "marcxml": "marcxml", "marc21": "marcxml", "marc": "marcxml", "marc21slim": "marcxml",
    "marc21_slim": "marcxml", "marcxml_slim": "marcxml", "usmarc": "marcxml",
    "mods": "mods", "mods3": "mods",
    "dim": "dim", "dspace_dim": "dim",
    "xoai": "xoai",
}


def format_of(metadata_prefix: str, metadata: etree._Element) -> str | None:
    """The crosswalk to use: the payload's namespace first, then the declared prefix.

    The namespace wins because repositories name formats freely ("marc21", "MARC21") but
    cannot fake the XML they send.
    """
    if not isinstance(metadata.tag, str):
        return None
    qname = etree.QName(metadata)
    if qname.namespace in _BY_NAMESPACE:
        return _BY_NAMESPACE[qname.namespace]
    if qname.localname == "record" and (
        metadata.find(f"{{{qname.namespace or ''}}}leader") is not None
        or metadata.find(f"{{{qname.namespace or ''}}}datafield") is not None
    ):
        return "marcxml"  # MARCXML without (or with an inherited wrong) namespace
    if qname.namespace is None and qname.localname == "dc":
        return "oai_dc"
    if qname.namespace in {oai_dc.NS_DC, oai_dc.NS_DCTERMS}:
        return "oai_dc"
    if qname.namespace is None:
        return _PREFIX_ALIASES.get(metadata_prefix.strip().lower())
    return None


def payload_mismatch(metadata_prefix: str, metadata: etree._Element) -> str | None:
    """Why the payload is not in the format that was asked for, or ``None`` when it is (or
    when the asked prefix is one we cannot tell: repositories name formats freely).

    >>> md = etree.fromstring('<mods xmlns="http://www.loc.gov/mods/v3"/>')
    >>> payload_mismatch("oai_dc", md)
    "payload is mods, not the requested 'oai_dc'"
    >>> marc = etree.fromstring('<record xmlns="http://www.loc.gov/MARC21/slim"/>')
    >>> payload_mismatch("marc21", marc) is None
    True
    """
    wanted = _PREFIX_ALIASES.get(metadata_prefix.strip().lower())
    got = format_of(metadata_prefix, metadata)
    if wanted is None or got is None or got == wanted:
        return None
    return f"payload is {got}, not the requested {metadata_prefix!r}"


def crosswalk(
    metadata_prefix: str,
    metadata: etree._Element | None,
    header: Header,
    *,
    repository: str,
    institution: str,
) -> Record:
    """Turn the single child of an OAI ``<metadata>`` element into one normalised Record.

    Raises :class:`CrosswalkError` for deleted or empty records and unsupported formats.
    """
    if header.deleted:
        raise CrosswalkError(f"{header.identifier}: deleted record has no metadata")
    if metadata is None:
        raise NoUsableMetadata(f"{header.identifier}: no metadata")
    fmt = format_of(metadata_prefix, metadata)
    if fmt is None:
        tag = metadata.tag if isinstance(metadata.tag, str) else "?"
        raise CrosswalkError(
            f"{header.identifier}: unsupported metadata format {metadata_prefix!r} ({tag})"
        )
    draft = _READERS[fmt](metadata)
    prefix = metadata_prefix if metadata_prefix in SUPPORTED_PREFIXES else fmt
    return finish(
        draft,
        metadata_prefix=prefix,
        header=header,
        repository=repository,
        institution=institution,
    )
