"""Fixtures shared by the inspections tests: object types with checklists and tier rules, and
a factory of regulated objects placed inside the `org` fixture's grids."""

import itertools

import pytest
from shapely.geometry import shape

from chengguan.core.geo import place_fields
from chengguan.core.validators import uscc_check_char
from chengguan.inspections.models import ChecklistItem, ObjectType, RegulatedObject, TierRule

_seq = itertools.count(1)

TIER_RULE = {
    "violation_weight": 2,
    "violation_window_days": 365,
    "credit_points": {"A": 0, "B": 1, "C": 3, "D": 5},
    "thresholds": {"1": 9, "2": 6, "3": 3},
    "frequency_days": {"1": 30, "2": 90, "3": 180, "4": 365},
}

TYPES = {
    "street_shop": ("沿街商户", 1, ["门责制落实", "跨门营业", "占道经营", "店招店牌设置"]),
    "construction_site": ("建筑工地", 3, ["围挡设置", "车辆冲洗设施", "渣土运输处置证", "扬尘控制措施"]),
}


def credit_code(n: int) -> str:
    """A valid 统一社会信用代码 numbered n (企业, 上海闵行 region code)."""
    first17 = f"91310112{n:09d}"
    return first17 + uscc_check_char(first17)


@pytest.fixture
def object_types(db) -> dict[str, ObjectType]:
    """{"street_shop": 沿街商户, "construction_site": 建筑工地}, each with four checklist items
    and a tier rule (TIER_RULE)."""
    types = {}
    for code, (name, base_risk, items) in TYPES.items():
        ot = ObjectType.objects.create(code=code, name=name, base_risk=base_risk)
        for order, text in enumerate(items, 1):
            ChecklistItem.objects.create(object_type=ot, order=order, text=text)
        TierRule.objects.create(object_type=ot, **TIER_RULE)
        types[code] = ot
    return types


@pytest.fixture
def regobj_factory(object_types):
    """make(grid, **fields) → a RegulatedObject saved directly (no service, no tier computed)
    at a point inside `grid` (each call a slightly different point), with a valid credit
    code. Any model field may be overridden; `object_type` defaults to 沿街商户."""

    def make(grid, **kw) -> RegulatedObject:
        n = next(_seq)
        centre = shape(grid.boundary).centroid
        # stay well inside a 0.01° grid: offsets within ±0.003°
        lon = kw.pop("lon", centre.x + (n % 7 - 3) * 0.001)
        lat = kw.pop("lat", centre.y + ((n * 3) % 7 - 3) * 0.001)
        fields = {
            "object_type": object_types["street_shop"],
            "name": f"测试商户{n}",
            "address": f"测试路{n}号",
            "credit_code": credit_code(n),
            "contact_name": f"联系人{n}",
            "contact_phone": f"1380000{n:04d}",
            **place_fields(lon, lat),
        }
        fields.update(kw)
        return RegulatedObject.objects.create(**fields)

    return make
