"""Every domain's ORM models, imported once so that `Base.metadata` knows every table."""

from app.audit.models import AuditEntry
from app.regions.models import Region
from app.staff.models import RefreshToken, Staff
from app.subsidies.models import Payout, PayoutVersion, Person
from app.sync.models import RejectedRecord, SyncCursor, SyncLease, SyncRun

__all__ = [
    "AuditEntry",
    "Payout",
    "PayoutVersion",
    "Person",
    "RefreshToken",
    "Region",
    "RejectedRecord",
    "Staff",
    "SyncCursor",
    "SyncLease",
    "SyncRun",
]
