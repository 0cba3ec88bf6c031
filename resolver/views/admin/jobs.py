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
from resolver.harvesting.models import (
    ACTIVE_STATUSES,
    FAILED,
    FULL_MASS_DELETE,
    JOB_KINDS,
    HarvestJob,
    HarvestRun,
)
from resolver.harvesting.queue import (
    AlreadyQueued,
    active_job,
    create_job,
    last_started,
    request_cancel,
)
from resolver.registry.models import Repository
from resolver.registry.schedule import next_run
from resolver.views.admin.auth import audit, current_user, login_required, require_institution
from resolver.views.admin.common import admin_time
from resolver.web import services
from resolver.web.services import job_queue

bp = Blueprint("admin_jobs", __name__, url_prefix="/admin")
log = logging.getLogger("lienhop.admin")


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
    query = (select(Repository).options(selectinload(Repository.institution))
             .order_by(Repository.code))
    scope = institution_scope(user)
    if scope is not None:
        query = query.where(Repository.institution_id == scope)
    return list(services.session().scalars(query))


def repository_health(repo: Repository, now: dt.datetime) -> dict[str, Any]:
    session = services.session()
    last = session.scalar(select(HarvestRun).where(HarvestRun.repository_id == repo.id)
                          .order_by(HarvestRun.id.desc()).limit(1))
    failed_job = session.scalar(select(HarvestJob).where(
        HarvestJob.repository_id == repo.id, HarvestJob.status == FAILED)
        .order_by(HarvestJob.id.desc()).limit(1))
    last_error = ""
    if last is not None and last.errors:
        last_error = last.errors[-1]
    elif failed_job is not None and (last is None or (failed_job.finished_at or now)
                                     >= (last.started_at or now)):
        last_error = failed_job.error
    when = next_run(repo.schedule, last_started(session, repo.id)) if repo.enabled else None
    return {
        "repo": repo,
        "last": last,
        "last_error": last_error,
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
    return render_template("admin/repositories.html", rows=rows)


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
    return redirect(url_for("admin_jobs.job", job_id=job.id))


def _job_or_404(job_id: int) -> HarvestJob:
    job = services.session().get(HarvestJob, job_id)
    if job is None:
        abort(404)
    require_institution(job.repository.institution_id)
    return job


def job_status(job: HarvestJob, now: dt.datetime | None = None) -> dict[str, Any]:
    """What the job page shows and polls: status, counts, rate."""
    now = now or utcnow()
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
        "errors": errors,
        "refused_deletion": refused,
        "log": job.log or "",
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


@bp.post("/jobs/<int:job_id>/cancel")
@login_required
def job_cancel(job_id: int) -> ResponseReturnValue:
    found = _job_or_404(job_id)
    session = services.session()
    was = found.status
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
