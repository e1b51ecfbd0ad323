"""Every domain's ORM models, imported once so that `Base.metadata` knows every table."""

from app.audit.models import AuditEntry
from app.regions.models import Region
from app.staff.models import RefreshToken, Staff

__all__ = ["AuditEntry", "RefreshToken", "Region", "Staff"]
