"""The administration area: one module per area (accounts, registry, jobs, kb, usage, delivery).

Shared helpers (institution scope, times, the job queue) live in :mod:`resolver.views.admin.common`.
"""
