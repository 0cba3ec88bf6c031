"""``/oai``: the consortium's union of records as an OAI-PMH 2.0 data provider (issue 8).

Validation, tokens and XML live in :mod:`resolver.oai.provider`; this module does the SQL
and streams. A list response is decided (errors, the page's keys, the next token) before the
first byte is sent, then its records are written from a generator a chunk at a time, so
memory stays flat whatever the page size and the table size. Lists are keyset queries over
``(datestamp, record_id)``; ``OAI_PAGE_SIZE`` (app config, default 100) sets the page size.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import replace

from flask import Blueprint, Response, current_app, request, stream_with_context, url_for
from sqlalchemy import ColumnElement, and_, exists, func, or_, select
from sqlalchemy.orm import Session

from harvesters.protocol import ErrorReply, echoes_request
from resolver.oai import provider as P
from resolver.oai.feed import is_hidden, members_of, now_seconds
from resolver.oai.models import OaiItem, OaiItemSet
from resolver.registry.models import Institution, Repository
from resolver.settings import Settings
from resolver.web import services
from resolver.web.security import csrf_exempt

bp = Blueprint("oai", __name__)

#: records rendered per SQL round trip while streaming a page
CHUNK = 100
REPOSITORY_NAME = ("Liên hợp Thư viện Việt Nam về nguồn tin KH&CN — Vietnam Library "
                   "Consortium on S&T information sources (lienhop)")


def _settings() -> Settings:
    found: Settings = current_app.config["LIENHOP"]
    return found


def _xml(body: str | Iterator[str]) -> Response:
    return Response(body, status=200, content_type="text/xml; charset=utf-8")


def _oai_id(rid: str) -> str:
    return f"oai:{_settings().oai_repository_id}:{rid}"


@bp.route("/oai", methods=["GET", "POST"])
@csrf_exempt
def oai() -> Response:
    now = now_seconds()
    params = (request.form if request.method == "POST" else request.args).to_dict(flat=False)
    settings = _settings()
    # url_for, not request.base_url: with LIENHOP_BASE_URL set, the Host header has no say
    base_url = url_for("oai.oai", _external=True)
    try:
        q = P.validate(params, secret=current_app.config["SECRET_KEY"], now=now,
                       identifier_prefix=settings.oai_repository_id)
    except ErrorReply as err:
        # badVerb/badArgument echo no attributes; the others echo the (valid) arguments
        echo = {k: v[0] for k, v in params.items() if k != "verb"} \
            if echoes_request(err.code) else None
        verb = params.get("verb", [None])[0]
        return _xml(P.envelope_open(now, base_url, echo, verb) + P.error_xml([err])
                    + P.ENVELOPE_CLOSE)
    head = P.envelope_open(now, base_url, q.args, q.verb)
    try:
        body = VERBS[q.verb](q, now, base_url)
    except ErrorReply as err:
        return _xml(head + P.error_xml([err]) + P.ENVELOPE_CLOSE)
    if isinstance(body, str):
        return _xml(head + body + P.ENVELOPE_CLOSE)

    def stream() -> Iterator[str]:
        yield head
        yield from body
        yield P.ENVELOPE_CLOSE

    return _xml(stream_with_context(stream()))


# ------------------------------------------------------------------------------ verbs


def identify(q: P.Query, now: dt.datetime, base_url: str) -> str:
    settings = _settings()
    s = services.session()
    earliest = s.scalar(select(func.min(OaiItem.datestamp))) or now
    sample = s.scalar(select(OaiItem.record_id).limit(1)) or "hue-dspace-31dc7c53e01e"
    return P.identify_xml(
        name=REPOSITORY_NAME, base_url=base_url, earliest=earliest,
        admin_email=settings.oai_admin_email or f"oai@{settings.oai_repository_id}",
        repository_id=settings.oai_repository_id, sample_id=_oai_id(sample))


def _item(s: Session, identifier: str) -> OaiItem:
    rid = P.local_id(identifier, _settings().oai_repository_id)
    row = s.get(OaiItem, rid) if rid else None
    if row is None:
        raise ErrorReply("idDoesNotExist", f"no item {identifier}")
    return row


def list_formats(q: P.Query, now: dt.datetime, base_url: str) -> str:
    if q.identifier is not None:
        s = services.session()
        _item(s, q.identifier)  # every item of ours is served in every format
    return P.formats_xml()


def list_sets(q: P.Query, now: dt.datetime, base_url: str) -> str:
    s = services.session()
    insts = [(i.code, i.name_vi, i.name_en) for i in
             s.scalars(select(Institution).order_by(Institution.code))]
    return "<ListSets>" + "".join(P.set_xml(*t) for t in P.sets_of_registry(insts)) + \
        "</ListSets>"


def _specs(s: Session, ids: list[str]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {rid: [] for rid in ids}
    rows = s.execute(select(OaiItemSet.record_id, OaiItemSet.spec)
                     .where(OaiItemSet.record_id.in_(ids)).order_by(OaiItemSet.spec))
    for rid, spec in rows:
        if not is_hidden(spec):  # cluster bookkeeping rows (resolver.oai.feed), not sets
            out[rid].append(spec)
    return out


def _base_urls(s: Session) -> dict[str, str]:
    return dict(s.execute(select(Repository.code, Repository.oai_url)).all())


def _record_xml(row: OaiItem, specs: list[str], prefix: str, bases: dict[str, str]) -> str:
    header = P.header_xml(_oai_id(row.record_id), row.datestamp, specs, row.deleted)
    if row.deleted:
        return f"<record>{header}</record>"
    rec, *others = members_of(row.record)
    about = "".join(
        P.provenance_xml(h, base_url=bases.get(h.repository, ""), harvest_date=row.datestamp,
                         source_prefix=(row.source_prefix if h is rec
                                        else h.metadata_prefix or "oai_dc"))
        for h in (rec, *others))
    return (f"<record>{header}<metadata>{P.metadata_xml(rec, prefix, others)}</metadata>"
            f"{about}</record>")


def get_record(q: P.Query, now: dt.datetime, base_url: str) -> str:
    assert q.identifier and q.prefix
    s = services.session()
    row = _item(s, q.identifier)
    xml = _record_xml(row, _specs(s, [row.record_id])[row.record_id], q.prefix,
                      _base_urls(s))
    return f"<GetRecord>{xml}</GetRecord>"


def _where(q: P.Query) -> list[ColumnElement[bool]]:
    cond: list[ColumnElement[bool]] = []
    if q.from_ is not None:
        cond.append(OaiItem.datestamp >= q.from_)
    if q.until is not None:
        cond.append(OaiItem.datestamp <= q.until)
    if q.set is not None:
        cond.append(exists().where(and_(OaiItemSet.record_id == OaiItem.record_id,
                                        OaiItemSet.spec == q.set)))
    return cond


def list_items(q: P.Query, now: dt.datetime, base_url: str) -> Iterator[str]:
    """ListIdentifiers and ListRecords: decide the page now, stream it from the generator."""
    size = int(current_app.config.get("OAI_PAGE_SIZE", 100))
    first = q.last is None
    if first:
        q = P.first_page(q, now)
    cond = _where(q)
    s = services.session()
    if first:
        q.size = s.scalar(select(func.count()).select_from(OaiItem).where(*cond)) or 0
    page = select(OaiItem.datestamp, OaiItem.record_id).where(*cond)
    if q.last is not None:
        d, i = q.last
        page = page.where(or_(OaiItem.datestamp > d,
                              and_(OaiItem.datestamp == d, OaiItem.record_id > i)))
    keys = s.execute(page.order_by(OaiItem.datestamp, OaiItem.record_id)
                     .limit(size + 1)).all()
    if not keys:
        if first:
            raise ErrorReply("noRecordsMatch", "no items match the request")
        # only when changed items moved past an explicit until (see oai_provider)
        raise ErrorReply("badResumptionToken", "the list changed; restart from your last datestamp")
    more = len(keys) > size
    keys = keys[:size]
    ids = [k.record_id for k in keys]
    cursor = q.cursor
    if more:
        nxt = replace(q, last=(keys[-1].datestamp, keys[-1].record_id),
                      cursor=cursor + len(keys), args={})
        trailer = P.token_xml(nxt, P.encode_token(nxt, current_app.config["SECRET_KEY"]),
                              cursor=cursor, size=q.size or 0)
    elif not first:
        trailer = P.token_xml(None, None, cursor=cursor, size=q.size or 0)
    else:
        trailer = ""
    verb, prefix = q.verb, q.prefix or "oai_dc"

    def body() -> Iterator[str]:
        yield f"<{verb}>"
        # The request's session again: Flask closed the view's when the view returned, and
        # closes this one when the stream ends (stream_with_context pushes the context anew).
        s = services.session()
        bases = _base_urls(s) if verb == "ListRecords" else {}
        for start in range(0, len(ids), CHUNK):
            chunk = ids[start : start + CHUNK]
            specs = _specs(s, chunk)
            if verb == "ListIdentifiers":
                heads = {r.record_id: r for r in s.execute(
                    select(OaiItem.record_id, OaiItem.datestamp, OaiItem.deleted)
                    .where(OaiItem.record_id.in_(chunk)))}
                yield "".join(
                    P.header_xml(_oai_id(rid), heads[rid].datestamp, specs[rid],
                                 heads[rid].deleted)
                    for rid in chunk if rid in heads)
            else:
                items = {r.record_id: r for r in s.scalars(
                    select(OaiItem).where(OaiItem.record_id.in_(chunk)))}
                yield "".join(_record_xml(items[rid], specs[rid], prefix, bases)
                              for rid in chunk if rid in items)
                s.expunge_all()
        yield trailer + f"</{verb}>"

    return body()


VERBS = {
    "Identify": identify,
    "ListMetadataFormats": list_formats,
    "ListSets": list_sets,
    "GetRecord": get_record,
    "ListIdentifiers": list_items,
    "ListRecords": list_items,
}
