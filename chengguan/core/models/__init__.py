from .audit import AuditChainHead, AuditedModel, AuditedQuerySet, AuditEvent
from .calendar import ConfirmedCalendarYear, HolidayOverride
from .org import Grid, OrgUnit
from .place import Located
from .records import Evidence, Notification, NumberFormat, NumberSequence
from .scoping import ScopedQuerySet
from .users import Role, User

__all__ = [
    "AuditChainHead", "AuditEvent", "ConfirmedCalendarYear", "AuditedModel", "AuditedQuerySet", "Evidence", "Grid",
    "HolidayOverride", "Located", "Notification", "NumberFormat", "NumberSequence", "OrgUnit", "Role",
    "ScopedQuerySet", "User",
]
