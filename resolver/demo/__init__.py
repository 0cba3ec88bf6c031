"""The demo consortium: a registry of real institutions and OAI-PMH pages we wrote.

``make run`` serves each demo repository's records from :class:`harvesters.demo_server.
OAIDevServer` on the port its registry URL names, and harvests them through the real
harvester, over HTTP, like any member repository.
"""

from __future__ import annotations

import contextlib
import tomllib
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

from lxml import etree

from harvesters.demo_server import DevRecord, OAIDevServer

DEMO_DIR = Path(__file__).resolve().parent
REGISTRY = DEMO_DIR / "registry.toml"
OAI_NS = "{http://www.openarchives.org/OAI/2.0/}"
FORMATS = {
    "oai_dc": ("http://www.openarchives.org/OAI/2.0/oai_dc.xsd",
               "http://www.openarchives.org/OAI/2.0/oai_dc/"),
    "marcxml": ("http://www.loc.gov/standards/marcxml/schema/MARC21slim.xsd",
                "http://www.loc.gov/MARC21/slim"),
}


def demo_records(repository: str) -> tuple[str, list[DevRecord]]:
    """The metadata prefix and records of one demo repository's fixture file."""
    root = etree.parse(str(DEMO_DIR / "oai" / f"{repository}.xml")).getroot()
    prefix = root.get("metadataPrefix", "oai_dc")
    records = []
    for rec in root.iter(f"{OAI_NS}record"):
        header = rec.find(f"{OAI_NS}header")
        if header is None:
            raise ValueError(f"{repository}.xml: a record without a header")
        meta = rec.find(f"{OAI_NS}metadata")
        payload = {}
        if meta is not None and len(meta):
            payload[prefix] = etree.tostring(meta[0], encoding="unicode")
        records.append(DevRecord(
            identifier=header.findtext(f"{OAI_NS}identifier", "").strip(),
            datestamp=header.findtext(f"{OAI_NS}datestamp", "").strip(),
            metadata=payload,
            sets=tuple((s.text or "").strip() for s in header.findall(f"{OAI_NS}setSpec")),
            deleted=header.get("status") == "deleted",
        ))
    return prefix, records


def demo_repositories() -> list[tuple[str, str]]:
    """``(repository code, oai_url)`` of every demo repository in the demo registry."""
    data = tomllib.loads(REGISTRY.read_text(encoding="utf-8"))
    return [(r["code"], r["oai_url"]) for inst in data["institution"]
            for r in inst.get("repository", [])]


@contextlib.contextmanager
def serve_demo_repositories(page_size: int = 2) -> Iterator[list[OAIDevServer]]:
    """Serve every demo repository on the host and port of its registry URL.

    The small page size makes even the demo harvest walk resumption tokens.
    """
    with contextlib.ExitStack() as stack:
        servers = []
        for code, url in demo_repositories():
            prefix, records = demo_records(code)
            parts = urlsplit(url)
            try:
                server = OAIDevServer(
                    records, page_size=page_size, formats={prefix: FORMATS[prefix]},
                    repository_name=f"lienhop demo: {code}", host=parts.hostname or "127.0.0.1",
                    port=parts.port or 80, deleted_record="transient",
                )
            except OSError as exc:
                raise RuntimeError(
                    f"cannot serve demo repository {code} on {parts.netloc}: {exc} "
                    "(is another `make run` still running?)"
                ) from exc
            servers.append(stack.enter_context(server))
        yield servers
