from .audit import AuditChainHead, AuditedModel, AuditedQuerySet, AuditEvent
from .calendar import HolidayOverride
from .org import Grid, OrgUnit
from .place import Located
from .records import Evidence, Notification, NumberFormat, NumberSequence
from .scoping import ScopedQuerySet
from .users import Role, User

__all__ = [
    "AuditChainHead", "AuditEvent", "AuditedModel", "AuditedQuerySet", "Evidence", "Grid",
    "HolidayOverride", "Located", "Notification", "NumberFormat", "NumberSequence", "OrgUnit", "Role",
    "ScopedQuerySet", "User",
]
