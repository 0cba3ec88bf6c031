"""The administration area: one module per area (accounts, registry, jobs, kb, usage, delivery).

Two modules without a blueprint serve them all: :mod:`resolver.views.admin.auth` (who is
logged in, the ``login_required``/``consortium_required`` decorators, auditing this request)
and :mod:`resolver.views.admin.common` (the user's institution scope, times, form values, the
registry round trip). The job queue is :func:`resolver.web.services.job_queue`.
"""
