"""``/admin/repositories`` and ``/admin/jobs``: harvest health, harvest now, job progress.

Pages read the ``harvest_job`` and ``harvest_run`` tables only; the job runs in
``lienhop worker``. A job page refreshes itself through a small JSON endpoint (or, without
JavaScript, a meta refresh).
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from resolver.accounts.auth import institution_scope
from resolver.db.base import utcnow
from resolver.harvesting import causes
from resolver.harvesting.models import (
    ACTIVE_STATUSES,
    FAILED,
    FULL_MASS_DELETE,
    JOB_KINDS,
    QUEUED,
    HarvestJob,
    HarvestRun,
)
from resolver.harvesting.queue import (
    AlreadyQueued,
    WorkerSeen,
    active_job,
    create_job,
    last_started,
    request_cancel,
    worker_seen,
)
from resolver.registry.models import Repository
from resolver.registry.schedule import next_run
from resolver.views.admin.auth import audit, current_user, login_required, require_institution
from resolver.views.admin.common import admin_time
from resolver.views.admin.confirm import ask, confirmed
from resolver.web import services
from resolver.web.labels import harvest_status_label
from resolver.web.ordering import by_name, institution_name
from resolver.web.services import job_queue
from resolver.web.times import local_log

bp = Blueprint("admin_jobs", __name__, url_prefix="/admin")
log = logging.getLogger("lienhop.admin")


# --- why a harvest failed, in the reader's language ---------------------------------------------

def _cause_labels(detail: str) -> dict[str, str]:
    return {
        causes.CONNECTION_REFUSED: _("Connection refused by the repository"),
        causes.DNS: _("Repository host name not found (DNS)"),
        causes.TIMEOUT: _("The repository did not answer in time"),
        causes.CONNECTION_LOST: _("Connection to the repository dropped"),
        causes.TLS: _("HTTPS certificate or TLS problem"),
        causes.HTTP_SERVER: _("Repository server error (HTTP %(status)s)", status=detail),
        causes.RATE_LIMITED: _("Too many requests (HTTP 429)"),
        causes.HTTP_CLIENT: _("Request refused by the repository (HTTP %(status)s)",
                              status=detail),
        causes.TOO_LARGE: _("Response too large"),
        causes.ADDRESS_REFUSED: _("Address not allowed for harvesting"),
        causes.BAD_URL: _("Invalid OAI-PMH address"),
        causes.NOT_OAI: _("Not an OAI-PMH response"),
        causes.BAD_XML: _("Malformed XML"),
        causes.WRONG_ANSWER: _("The repository answered another request"),
        causes.TOKEN_LOOP: _("The resumption token repeats"),
        causes.OAI_ERROR: _("OAI-PMH error: %(code)s", code=detail or "?"),
        causes.RUN_LIMIT: _("Run limit reached; the next run goes on"),
        causes.MASS_DELETE_REFUSED: _("Mass removal refused"),
        causes.RECORDS_FAILED: _("Some records could not be read"),
        causes.INTERRUPTED: _("The harvest was interrupted"),
        causes.CANCELLED: _("Cancelled by an administrator"),
        causes.QUEUE: _("The job queue was unreachable"),
        causes.OTHER: _("Other error (see the details)"),
    }


def cause_label(text: str, status: str = "") -> str:
    """An error text as a short cause in the reader's language (resolver/harvesting/causes.py
    reads the text); ``""`` for no error."""
    if not (text or "").strip():
        return ""
    cause = causes.cause_of(text, status)
    return _cause_labels(cause.detail)[cause.code]


# --- is a worker running? -------------------------------------------------------------------------

def workers() -> WorkerSeen:
    """Whether a ``lienhop worker`` has reported within LIENHOP_JOB_STALE_SECONDS."""
    return worker_seen(services.session(),
                       stale_after=current_app.config["LIENHOP"].job_stale_seconds)


def no_worker_text(seen: WorkerSeen) -> str:
    """The warning when no worker runs: queued harvests wait; what to start."""
    if seen.last_seen is None:
        return str(_("No harvest worker is running: queued harvests wait until one starts "
                     "(the command lienhop worker; make run starts one)."))
    return str(_("No harvest worker has reported since %(time)s: queued harvests wait until "
                 "one runs again (the command lienhop worker; make run starts one).",
                 time=admin_time(seen.last_seen)))


def records_held(code: str) -> int | None:
    """Live records of a repository in the raw archive (what the index was built from)."""
    from harvesters.archive import RawArchive

    archive = RawArchive(current_app.config["LIENHOP"].archive_dir)
    if not archive.path(code).exists():
        return 0
    try:
        with archive.open(code) as repo_archive:
            return repo_archive.count()
    except Exception:  # a locked or damaged archive must not break the page
        log.exception("cannot count the archive of %s", code)
        return None


def _scoped_repositories() -> list[Repository]:
    user = current_user()
    assert user is not None
    query = select(Repository).options(selectinload(Repository.institution))
    scope = institution_scope(user)
    if scope is not None:
        query = query.where(Repository.institution_id == scope)
    # grouped by institution, in Vietnamese order of its name, then by repository code
    repos = sorted(services.session().scalars(query), key=lambda r: r.code)
    return by_name(repos, lambda r: institution_name(r.institution))


def repository_health(repo: Repository, now: dt.datetime) -> dict[str, Any]:
    session = services.session()
    last = session.scalar(select(HarvestRun).where(HarvestRun.repository_id == repo.id)
                          .order_by(HarvestRun.id.desc()).limit(1))
    failed_job = session.scalar(select(HarvestJob).where(
        HarvestJob.repository_id == repo.id, HarvestJob.status == FAILED)
        .order_by(HarvestJob.id.desc()).limit(1))
    last_error, error_status, error_job = "", "", None
    if last is not None and last.errors:
        last_error, error_status = last.errors[-1], last.status
        # the job that ran it shows the whole text (a run of `lienhop harvest` has none)
        error_job = session.scalar(select(HarvestJob.id).where(
            HarvestJob.harvest_run_id == last.id).order_by(HarvestJob.id.desc()).limit(1))
    elif failed_job is not None and (last is None or (failed_job.finished_at or now)
                                     >= (last.started_at or now)):
        last_error, error_status, error_job = failed_job.error, FAILED, failed_job.id
    when = next_run(repo.schedule, last_started(session, repo.id)) if repo.enabled else None
    return {
        "repo": repo,
        "last": last,
        "last_error": last_error,
        "cause": cause_label(last_error, error_status),
        "error_job": error_job,
        "records": records_held(repo.code),
        "next": when,
        "due": when is not None and when <= now,
        "job": active_job(session, repo.id),
    }


@bp.get("/repositories")
@login_required
def repositories() -> ResponseReturnValue:
    now = utcnow()
    rows = [repository_health(r, now) for r in _scoped_repositories()]
    seen = workers()
    waiting = sum(1 for r in rows if r["job"] is not None and r["job"].status == QUEUED)
    return render_template("admin/repositories.html", rows=rows, worker_alive=seen.alive,
                           no_worker=None if seen.alive else no_worker_text(seen),
                           waiting=waiting)


def _repository_or_404(code: str) -> Repository:
    repo = services.session().scalar(select(Repository).where(Repository.code == code))
    if repo is None:
        abort(404)
    return repo


@bp.post("/repositories/<code>/harvest")
@login_required
def harvest_now(code: str) -> ResponseReturnValue:
    repo = _repository_or_404(code)
    require_institution(repo.institution_id)
    kind = request.form.get("kind", "incremental")
    if kind not in JOB_KINDS:
        abort(400)
    if kind == FULL_MASS_DELETE and request.form.get("confirm") != "yes":
        # a removal beyond the allowed share is never one click: the form asks to tick
        flash(_("Tick the confirmation to remove the records the repository no longer "
                "lists."), "error")
        back = request.form.get("job", "")
        if back.isdigit():
            return redirect(url_for("admin_jobs.job", job_id=int(back)))
        return redirect(url_for("admin_jobs.repositories"))
    session = services.session()
    user = current_user()
    assert user is not None
    try:
        job = create_job(session, repo, kind, user.username)
    except AlreadyQueued as exc:
        flash(_("This repository already has a harvest queued or running."))
        return redirect(url_for("admin_jobs.job", job_id=exc.job_id))
    audit("job.enqueue", f"job:{job.id}", {"repository": repo.code, "kind": kind},
          institution_id=repo.institution_id)
    session.commit()  # before sending: the worker must find the row
    try:
        job.task_id = job_queue().send(job.id)
    except Exception as exc:  # the queue is down: say so rather than leave a ghost job
        log.exception("cannot enqueue job %s", job.id)
        job.status, job.error, job.finished_at = FAILED, f"queue: {exc}", utcnow()
        session.commit()
        flash(_("The job queue is not reachable; the harvest was not started."), "error")
        return redirect(url_for("admin_jobs.job", job_id=job.id))
    session.commit()
    flash(_("Harvest of %(code)s queued.", code=repo.code))
    seen = workers()
    if not seen.alive:  # queued is not started: say who has to run it
        flash(no_worker_text(seen), "error")
    return redirect(url_for("admin_jobs.job", job_id=job.id))


def _job_or_404(job_id: int) -> HarvestJob:
    job = services.session().get(HarvestJob, job_id)
    if job is None:
        abort(404)
    require_institution(job.repository.institution_id)
    return job


def job_status(job: HarvestJob, now: dt.datetime | None = None,
               seen: WorkerSeen | None = None) -> dict[str, Any]:
    """What the job page shows and polls: status, counts, rate; the cause of its error; and,
    for a queued job while no worker runs, the warning that it waits for one."""
    now = now or utcnow()
    seen = seen or workers()
    run = job.harvest_run
    pages = added = updated = deleted = failed = 0
    errors: list[str] = []
    if run is not None:
        pages, added, updated, deleted, failed = (run.pages, run.added, run.updated,
                                                  run.deleted, run.failed)
        errors = list(run.errors or [])
    records = added + updated + deleted + failed
    # the runner's message when a full run would have removed too much (harvesters.runner)
    refused = next((e for e in errors if e.startswith("refused to remove ")), "")
    end = job.finished_at or now
    seconds = (end - job.started_at).total_seconds() if job.started_at else 0.0
    return {
        "id": job.id,
        "repository": job.repository.code,
        "kind": job.kind,
        "status": job.status,
        "status_label": harvest_status_label(job.status),
        "active": job.status in ACTIVE_STATUSES,
        "cancel_requested": job.cancel_requested,
        "attempts": job.attempts,
        "pages": pages,
        "added": added,
        "updated": updated,
        "deleted": deleted,
        "failed": failed,
        "records": records,
        "rate": round(records / seconds, 1) if seconds > 0 else 0.0,
        "started": admin_time(job.started_at),
        "finished": admin_time(job.finished_at),
        "error": job.error,
        "cause": cause_label(job.error, job.status),
        "worker_warning": (no_worker_text(seen) if job.status == QUEUED and not seen.alive
                           else ""),
        "errors": errors,
        "refused_deletion": refused,
        "log": local_log(job.log),
    }


@bp.get("/jobs")
@login_required
def jobs() -> ResponseReturnValue:
    user = current_user()
    assert user is not None
    query = (select(HarvestJob).join(Repository).options(selectinload(HarvestJob.repository))
             .order_by(HarvestJob.id.desc()).limit(200))
    scope = institution_scope(user)
    if scope is not None:
        query = query.where(Repository.institution_id == scope)
    return render_template("admin/jobs.html", jobs=services.session().scalars(query).all())


@bp.get("/jobs/<int:job_id>")
@login_required
def job(job_id: int) -> ResponseReturnValue:
    found = _job_or_404(job_id)
    return render_template("admin/job.html", job=found, s=job_status(found))


@bp.get("/jobs/<int:job_id>/status.json")
@login_required
def job_json(job_id: int) -> ResponseReturnValue:
    return jsonify(job_status(_job_or_404(job_id)))


def _repo_label(job: HarvestJob) -> str:
    """A repository as a job's confirmation names it: its code and institution's name."""
    repo = job.repository
    return f"{repo.code} ({institution_name(repo.institution)})"


def _ask_to_cancel(job: HarvestJob) -> ResponseReturnValue:
    repo = _repo_label(job)
    if job.status == QUEUED:
        consequences = [
            _("Job %(id)s (harvest of %(repo)s) will not run.", id=job.id, repo=repo),
            _("The repository is harvested again at its next scheduled time, or when someone "
              "asks; nothing already in search changes."),
        ]
    else:
        consequences = [
            _("The harvest of %(repo)s (job %(id)s) stops after the page it is reading.",
              id=job.id, repo=repo),
            _("The records it has harvested so far stay in search; the repository's next "
              "harvest picks up what this one did not reach."),
        ]
    consequences.append(_("The cancellation is recorded in the audit log."))
    return ask(title=_("Stop harvest job %(id)s?", id=job.id), consequences=consequences,
               confirm_label=_("Stop the job"),
               cancel_url=url_for("admin_jobs.job", job_id=job.id))


@bp.post("/jobs/<int:job_id>/cancel")
@login_required
def job_cancel(job_id: int) -> ResponseReturnValue:
    found = _job_or_404(job_id)
    session = services.session()
    was = found.status
    if was in ACTIVE_STATUSES and not confirmed():
        return _ask_to_cancel(found)
    if request_cancel(session, found):
        audit("job.cancel", f"job:{found.id}", {"repository": found.repository.code,
                                                 "status_before": was},
              institution_id=found.repository.institution_id)
        session.commit()
        if was != "running":
            try:
                job_queue().revoke(found.task_id)
            except Exception:  # the row already says cancelled; the worker will skip it
                log.exception("cannot revoke task of job %s", found.id)
        flash(_("Cancellation requested.") if was == "running" else _("Job cancelled."))
    else:
        flash(_("This job has already finished."))
    return redirect(url_for("admin_jobs.job", job_id=found.id))
