"""Every table of lienhop, imported together.

Tables live with their domain; importing this module registers all of them, which the
mappers need before first use (relationships name classes in other domains) and Alembic
needs to compare the migrations with the models. Code imports a table from its domain's
``models`` module, not from here.
"""

from __future__ import annotations

from resolver.accounts.models import (  # noqa: F401
    CONSORTIUM,
    INSTITUTION,
    ROLES,
    AdminUser,
    AuditEntry,
    LoginThrottle,
)
from resolver.db.base import Base, utcnow  # noqa: F401
from resolver.harvesting.models import (  # noqa: F401
    ACTIVE_STATUSES,
    CANCELLED,
    DONE,
    FAILED,
    FULL,
    FULL_MASS_DELETE,
    INCREMENTAL,
    JOB_KINDS,
    JOB_STATUSES,
    PARTIAL,
    QUEUED,
    RUNNING,
    HarvestJob,
    HarvestRun,
    HarvestState,
)
from resolver.kb.models import (  # noqa: F401
    OPEN_ACCESS,
    PACKAGE_KINDS,
    SUBSCRIPTION,
    Entitlement,
    KbTitle,
    LinkCheck,
    Package,
)
from resolver.linking.models import DELIVERY_STATUSES, DeliveryRequest  # noqa: F401
from resolver.oai.models import OaiItem, OaiItemSet  # noqa: F401
from resolver.registry.models import (  # noqa: F401
    MEMBER,
    OBSERVATION_YEARS,
    OBSERVER,
    STATUSES,
    Institution,
    IpRange,
    OpenPlatform,
    PendingIpRange,
    Repository,
    ResolverSettings,
)
from resolver.usage.models import (  # noqa: F401
    CURRENCIES,
    FULLTEXT,
    NO_MATCH,
    OPEN_ONLY,
    OUTCOMES,
    SOURCE_CLICK,
    SOURCE_RESOLVE,
    TURNAWAY,
    ClickLog,
    CounterImport,
    CounterMonth,
    CounterUsage,
    PackageCost,
    ResolveLog,
    SushiCredential,
    UsageMonth,
    UsageRollupState,
)
