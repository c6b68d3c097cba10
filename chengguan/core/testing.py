"""Test factories shared by every app's tests: a small org tree and a user per role."""

import datetime as dt
import itertools

from django.utils import timezone

from .choices import OrgUnitKind, RoleCode
from .models import Grid, OrgUnit, Role, User

PASSWORD = "Cg-test-pass-2024"
_seq = itertools.count(1)


def square(lon: float, lat: float, size: float = 0.01) -> dict:
    """A GeoJSON square polygon with its south-west corner at (lon, lat)."""
    return {
        "type": "Polygon",
        "coordinates": [[[lon, lat], [lon + size, lat], [lon + size, lat + size], [lon, lat + size], [lon, lat]]],
    }


class Org:
    """bureau → brigade → squads A and B (each with two 0.01° grids), plus a legal department.
    Squad A sits at 121.40–121.42 E, 31.10–31.11 N; squad B just east of it."""

    def __init__(self):
        n = next(_seq)
        self.bureau = OrgUnit.objects.create(name=f"测试区城管执法局{n}", code=f"B{n}", kind=OrgUnitKind.BUREAU)
        self.brigade = OrgUnit.objects.create(
            name=f"第一大队{n}", code=f"B{n}-D1", kind=OrgUnitKind.BRIGADE, parent=self.bureau
        )
        self.department = OrgUnit.objects.create(
            name=f"法制科{n}", code=f"B{n}-FZ", kind=OrgUnitKind.DEPARTMENT, parent=self.bureau
        )
        self.squad_a = OrgUnit.objects.create(
            name=f"江川中队{n}", code=f"B{n}-S1", kind=OrgUnitKind.SQUAD, parent=self.brigade,
            jurisdiction=square(121.40, 31.10, 0.02),
        )
        self.squad_b = OrgUnit.objects.create(
            name=f"古美中队{n}", code=f"B{n}-S2", kind=OrgUnitKind.SQUAD, parent=self.brigade,
            jurisdiction=square(121.42, 31.10, 0.02),
        )
        self.grid_a1 = Grid.objects.create(code=f"G{n}A1", name="江川1号网格", squad=self.squad_a,
                                           boundary=square(121.40, 31.10))
        self.grid_a2 = Grid.objects.create(code=f"G{n}A2", name="江川2号网格", squad=self.squad_a,
                                           boundary=square(121.41, 31.10))
        self.grid_b1 = Grid.objects.create(code=f"G{n}B1", name="古美1号网格", squad=self.squad_b,
                                           boundary=square(121.42, 31.10))
        self.grid_b2 = Grid.objects.create(code=f"G{n}B2", name="古美2号网格", squad=self.squad_b,
                                           boundary=square(121.43, 31.10))


def make_user(role: str | None, unit: OrgUnit | None, *, username: str | None = None,
              certified: bool = True, **extra) -> User:
    n = next(_seq)
    today = timezone.localdate()
    fields = {
        "real_name": extra.pop("real_name", f"测试{n}"),
        "staff_number": f"T{n:05d}",
        "org_unit": unit,
    }
    if certified:
        fields.update(
            certificate_number=f"31{n:06d}",
            certificate_valid_from=today - dt.timedelta(days=365),
            certificate_valid_to=today + dt.timedelta(days=365),
        )
    fields.update(extra)
    user = User.objects.create_user(username or f"user{n}", password=PASSWORD, **fields)
    if role:
        user.roles.add(Role.objects.get_or_create(code=role)[0])
    return user


def users_by_role(org: Org) -> dict[str, User]:
    """One user per role, placed where that role usually sits."""
    placement = {
        RoleCode.OFFICER: org.squad_a,
        RoleCode.SQUAD_LEADER: org.squad_a,
        RoleCode.LEGAL_REVIEWER: org.brigade,
        RoleCode.CASE_REVIEW: org.department,
        RoleCode.DISPATCHER: org.bureau,
        RoleCode.SUPERVISOR: org.bureau,
        RoleCode.LEADER: org.bureau,
        RoleCode.ADMIN: org.bureau,
    }
    return {role: make_user(role, unit) for role, unit in placement.items()}
