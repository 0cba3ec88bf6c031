"""``lienhop kb``: the knowledge base from the command line.

``kb import`` loads or replaces a package from a KBART file and reports what changed;
``kb entitle`` grants a package to an institution for a period; ``kb list`` shows packages
and their entitlements; ``kb settings`` and ``kb platform`` set the per-institution proxy,
catalogue link and redirect default, and the open platforms searched after our own index.
"""

from __future__ import annotations

import datetime as dt
import sys
from collections.abc import Iterable
from pathlib import Path

import click
from sqlalchemy import func, select

from resolver import db
from resolver.cli.context import Context, pass_ctx
from resolver.kb.entitlements import entitle
from resolver.kb.errors import KbError
from resolver.kb.importer import import_kbart
from resolver.kb.kbart import RejectedRow
from resolver.kb.linktemplates import validate_template
from resolver.kb.models import PACKAGE_KINDS, Entitlement, KbTitle, Package
from resolver.registry.models import Institution, OpenPlatform, ResolverSettings
from resolver.web.times import cli_time

#: How many titles of each kind the import report names before summarising.
REPORT_LINES = 20


def _echo_rejected(rejected: Iterable[RejectedRow], warnings: Iterable[str]) -> None:
    """Every warning and rejected row, one line each, written as it goes (10,000 rejected
    rows are 10,000 short lines, never one big string)."""
    for w in warnings:
        click.echo(f"  warning: {w}")
    for r in rejected:
        click.echo(f"  rejected line {r.row}: {r.reason_en} / {r.reason_vi}")


def _date(value: str | None, option: str) -> dt.date | None:
    if not value:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError as exc:
        raise click.BadParameter(f"{value!r} is not a date (YYYY-MM-DD)",
                                 param_hint=option) from exc


@click.group("kb")
def kb_group() -> None:
    """The link resolver's knowledge base: packages (KBART), entitlements, link settings."""


@kb_group.command("import")
@click.argument("package")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--name", help="Display name, e.g. 'ScienceDirect Freedom Collection'.")
@click.option("--platform", help="Platform, e.g. 'sciencedirect'.")
@click.option("--kind", type=click.Choice(PACKAGE_KINDS),
              help="subscription (needs entitlements) or open (free to all).")
@click.option("--article-template",
              help="Article-level link, e.g. 'https://doi.org/{doi}' or "
                   "'https://host/openurl?issn={issn}&volume={volume}&spage={spage}'.")
@click.option("--title-template", help="Title-level link (default '{title_url}').")
@click.option("--strict", is_flag=True, help="Change nothing if any row is rejected.")
@click.option("--dry-run", is_flag=True, help="Report what would change, change nothing.")
@pass_ctx
def kb_import(ctx: Context, package: str, file: Path, name: str | None, platform: str | None,
              kind: str | None, article_template: str | None, title_template: str | None,
              strict: bool, dry_run: bool) -> None:
    """Load PACKAGE from the KBART FILE, replacing its titles in one transaction.

    Prints the titles added, changed and removed, every rejected row with its line number
    and reason, then a summary line. A file that is not KBART, has no valid title, or (with
    --strict) has a rejected row changes nothing, still lists the rejected rows (for a file
    that is not KBART, the line taken for the header) and exits 2.
    """
    try:
        fh = file.open("rb")
    except OSError as exc:
        raise click.ClickException(f"cannot read {file}: {exc}") from exc
    try:
        with fh, db.transaction(ctx.sessions()) as session:
            report = import_kbart(session, package, fh, name=name, platform=platform,
                                  kind=kind, article_template=article_template,
                                  title_template=title_template, source=file.name,
                                  strict=strict)
            if dry_run:
                session.rollback()
    except KbError as exc:
        _echo_rejected(exc.rejected, exc.warnings)
        click.echo(f"{file}: {exc}", err=True)
        sys.exit(2)
    except OSError as exc:  # the file went away or broke while it was read
        raise click.ClickException(f"cannot read {file}: {exc}") from exc
    for label, items, total in (
            ("added", [t.publication_title for t in report.added], report.n_added),
            ("changed", [f"{c.new[0].publication_title} ({', '.join(c.fields)})"
                         for c in report.changed], report.n_changed),
            ("removed", [t.publication_title for t in report.removed], report.n_removed)):
        for text in items[:REPORT_LINES]:
            click.echo(f"  {label}: {text}")
        if total > REPORT_LINES:
            click.echo(f"  ... {total - REPORT_LINES} more {label}")
    _echo_rejected(report.rejected, report.warnings)
    # The summary comes last, where it is seen after a long list of rejected rows.
    verb = "would be" if dry_run else "were"
    click.echo(
        f"{package}{' (new)' if report.created else ''}: {report.titles} rows from {file}; "
        f"titles {verb} added: {report.n_added}, changed: {report.n_changed}, "
        f"removed: {report.n_removed}; rows rejected: {len(report.rejected)}"
    )


@kb_group.command("entitle")
@click.argument("package")
@click.argument("institution")
@click.option("--from", "from_", metavar="DATE", help="First day of access (YYYY-MM-DD).")
@click.option("--to", "to", metavar="DATE", help="Last day of access (YYYY-MM-DD).")
@click.option("--remove", is_flag=True, help="Withdraw the institution's access instead.")
@pass_ctx
def kb_entitle(ctx: Context, package: str, institution: str, from_: str | None,
               to: str | None, remove: bool) -> None:
    """Let INSTITUTION use PACKAGE (from/to inclusive; open-ended without them)."""
    start, end = _date(from_, "--from"), _date(to, "--to")
    try:
        with db.transaction(ctx.sessions()) as session:
            entitle(session, package, institution, start, end, remove=remove)
    except KbError as exc:
        raise click.ClickException(str(exc)) from exc
    if remove:
        click.echo(f"{institution} no longer has {package}")
    else:
        click.echo(f"{institution} has {package} from {start or 'the start'} "
                   f"to {end or 'further notice'}")


@kb_group.command("list")
@pass_ctx
def kb_list(ctx: Context) -> None:
    """List packages with their titles count and entitled institutions."""
    with db.transaction(ctx.sessions()) as session:
        counts = dict(session.execute(
            select(KbTitle.package_id, func.count()).group_by(KbTitle.package_id)).all())
        packages = session.scalars(select(Package).order_by(Package.code)).all()
        if not packages:
            click.echo("no packages yet (lienhop kb import PACKAGE FILE)")
        for pkg in packages:
            when = cli_time(pkg.imported_at)  # Vietnam time, with its offset
            click.echo(f"{pkg.code:<20} {pkg.kind:<12} {counts.get(pkg.id, 0):>7} titles  "
                       f"imported {when}  {pkg.name}")
            grants = session.execute(
                select(Institution.code, Entitlement.start, Entitlement.end)
                .join(Institution, Entitlement.institution_id == Institution.id)
                .where(Entitlement.package_id == pkg.id).order_by(Institution.code)).all()
            for code, start, end in grants:
                click.echo(f"  - {code} {start or '…'} – {end or '…'}")


@kb_group.command("settings")
@click.argument("institution")
@click.option("--proxy", help="EZproxy prefix, e.g. 'https://ezproxy.example.edu.vn/login?url='"
                              " ('' to remove).")
@click.option("--catalogue", help="Catalogue link template(s), space-separated, e.g. "
                                  "'https://opac.example.edu.vn/search?issn={issn}'.")
@click.option("--catalogue-name", help="Name shown for the catalogue.")
@click.option("--redirect/--no-redirect", default=None,
              help="Send this institution's users straight to the full text by default.")
@pass_ctx
def kb_settings(ctx: Context, institution: str, proxy: str | None, catalogue: str | None,
                catalogue_name: str | None, redirect: bool | None) -> None:
    """Set INSTITUTION's resolver settings (only the options given change)."""
    try:
        if proxy:
            validate_template(proxy, "proxy prefix")
        for t in (catalogue or "").split():
            validate_template(t, "catalogue template")
    except KbError as exc:
        raise click.ClickException(str(exc)) from exc
    with db.transaction(ctx.sessions()) as session:
        inst = session.scalar(select(Institution).where(Institution.code == institution))
        if inst is None:
            raise click.ClickException(f"no institution {institution!r} in the registry")
        s = session.get(ResolverSettings, inst.id)
        if s is None:
            s = ResolverSettings(institution_id=inst.id, proxy_prefix="", catalogue_template="",
                                 catalogue_name="", redirect_default=False)
            session.add(s)
        if proxy is not None:
            s.proxy_prefix = proxy.strip()
        if catalogue is not None:
            s.catalogue_template = catalogue.strip()
        if catalogue_name is not None:
            s.catalogue_name = catalogue_name.strip()
        if redirect is not None:
            s.redirect_default = redirect
        click.echo(f"{institution}: proxy {s.proxy_prefix or '(none)'}; catalogue "
                   f"{s.catalogue_template or '(none)'}; redirect by default: "
                   f"{'yes' if s.redirect_default else 'no'}")


@kb_group.command("platform")
@click.argument("code")
@click.argument("name", required=False)
@click.argument("template", required=False)
@click.option("--position", type=int, default=None, help="Order among open platforms.")
@click.option("--disable", is_flag=True, help="Stop offering this platform.")
@pass_ctx
def kb_platform(ctx: Context, code: str, name: str | None, template: str | None,
                position: int | None, disable: bool) -> None:
    """Add or change an open platform searched by URL TEMPLATE, e.g.

    lienhop kb platform openscience Openscience.vn 'https://openscience.vn/search?q={title}'
    (an example template: check the platform's real search URL).
    """
    try:
        if template is not None:
            validate_template(template, "platform template")
    except KbError as exc:
        raise click.ClickException(str(exc)) from exc
    with db.transaction(ctx.sessions()) as session:
        p = session.scalar(select(OpenPlatform).where(OpenPlatform.code == code))
        if p is None:
            if not (name and template):
                raise click.ClickException("a new platform needs NAME and TEMPLATE")
            p = OpenPlatform(code=code, name=name, url_template=template, position=0,
                             enabled=True)
            session.add(p)
        if name:
            p.name = name
        if template:
            p.url_template = template
        if position is not None:
            p.position = position
        p.enabled = not disable
        click.echo(f"{p.code}: {p.name} {p.url_template} "
                   f"{'(disabled)' if not p.enabled else ''}".rstrip())
