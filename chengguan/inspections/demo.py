"""Demo registry for `python manage.py seed_demo`: the object types of issue 4 with their
checklists and tier rules, and regulated objects spread over the demo district's grids
(small: one of each type per squad; district: about 20,000). The same scale and seed always
give the same objects; everything is written through audited saves and bulk inserts."""

from __future__ import annotations

import datetime as dt
import random

from django.db import transaction
from django.utils import timezone
from shapely.geometry import shape

from chengguan.core import geo
from chengguan.core.demo import fake_phone, person_name, point_in
from chengguan.core.models import Grid
from chengguan.core.validators import USCC_ALPHABET, id_check_char, uscc_check_char

from .models import ChecklistItem, ObjectType, RegulatedObject, TierRule
from .services import tiering
from .services.registry import id_digest

# code, name, base risk, share of the district's objects, checklist, identifier kind
TYPES = [
    ("street_shop", "沿街商户", 1, 0.46, ["门责制落实", "跨门营业", "占道经营", "店招店牌设置", "垃圾分类"], "shop"),
    ("restaurant", "餐饮单位", 2, 0.14, ["油烟净化设施运行", "餐厨垃圾分类收集", "废弃油脂交由有资质单位收运",
                                      "跨门营业与占道经营", "门责制落实"], "shop"),
    ("construction_site", "建筑工地", 3, 0.05, ["围挡设置", "车辆冲洗设施", "渣土运输处置证", "扬尘控制措施",
                                             "夜间施工许可"], "company"),
    ("heritage_building", "历史保护建筑", 2, 0.02, ["擅自改变建筑立面", "擅自拆除或改建", "保护标志完好",
                                               "使用性质符合规定"], "person"),
    ("property_company", "物业企业", 1, 0.04, ["违法搭建巡查报告", "小区垃圾分类管理", "群租整治配合",
                                            "公共部位占用"], "company"),
    ("estate_agency", "房地产经纪机构", 1, 0.06, ["备案证明公示", "服务收费标准公示", "房源信息真实",
                                              "门店外摆占道"], "shop"),
    ("kitchen_waste_hauler", "餐厨垃圾/废弃油脂收运单位", 3, 0.01,
     ["收运许可证有效", "收运车辆密闭", "收运台账完整", "运输途中滴漏"], "company"),
    ("garbage_hauler", "生活垃圾收运单位", 2, 0.01, ["分类收运不混装", "收运车辆密闭", "收运作业时间",
                                                  "中转站环境卫生"], "company"),
    ("outdoor_ad", "户外广告设施", 2, 0.08, ["设置许可有效", "设施安全检测", "画面完好无破损", "夜间照明"],
     "company"),
    ("residential_estate", "住宅小区", 1, 0.13, ["违法搭建", "毁绿占绿", "垃圾分类投放", "住改商"], "company"),
]
TIER_RULE = {
    "violation_weight": 2,
    "violation_window_days": 365,
    "credit_points": {"A": 0, "B": 1, "C": 3, "D": 5},
    "thresholds": {"1": 9, "2": 6, "3": 3},
    "frequency_days": {"1": 30, "2": 90, "3": 180, "4": 365},
}
DISTRICT_OBJECTS = 20_000
PER_SQUAD_SMALL = len(TYPES)  # one of each type per squad

ROADS = ("七莘路", "沪闵路", "莘庄路", "虹梅路", "漕宝路", "都市路", "江川路", "剑川路", "浦锦路", "浦星公路",
         "颛兴路", "春申路", "古美路", "平阳路", "龙茗路", "银都路", "吴中路", "华漕路", "新镇路", "宝城路",
         "莲花南路", "合川路", "东川路", "景洪路", "北松公路", "元江路", "中春路", "航华路", "纪翟路", "申长路")
SHOP_WORDS = ("老王", "阿英", "小杨", "鸿福", "金鼎", "福满", "好邻居", "家乐", "百味", "聚鑫", "兴旺", "佳美",
              "如意", "永和", "和平", "东方", "新世纪", "明珠", "顺发", "丰收")
SHOP_KINDS = ("烟杂店", "便利店", "水果店", "理发店", "五金店", "服装店", "药房", "花店", "干洗店", "手机维修",
              "眼镜店", "超市")
FOOD_KINDS = ("面馆", "生煎馆", "小吃店", "饭店", "烧烤店", "火锅店", "奶茶店", "馄饨店", "快餐店", "茶餐厅")
COMPANY_WORDS = ("申城", "浦江", "闵兴", "沪南", "春申", "华申", "锦城", "虹润", "恒力", "安达", "宏基", "嘉和",
                 "瑞丰", "众诚", "金桥", "万顺")
AGENCIES = ("链家", "我爱我家", "太平洋房屋", "中原地产", "德佑", "21世纪不动产")
ESTATE_TAILS = ("苑", "花园", "公寓", "新村", "小区", "家园", "名邸")
LICENCES = {"restaurant": "食品经营许可证", "kitchen_waste_hauler": "餐厨废弃油脂收运许可证",
            "garbage_hauler": "生活垃圾收运许可证", "outdoor_ad": "户外广告设置许可证",
            "construction_site": "建筑工程施工许可证", "estate_agency": "房地产经纪机构备案证明"}


def _credit_code(rng: random.Random, kind: str) -> str:
    """17 characters (registration-authority and entity-kind codes, Minhang's region code, a
    random organisation code) plus the GB 32100 check character."""
    prefix = "92" if kind == "shop" and rng.random() < 0.6 else "91"  # 92: 个体工商户, 91: 企业
    first17 = prefix + "310112" + "".join(rng.choice(USCC_ALPHABET) for _ in range(9))
    return first17 + uscc_check_char(first17)


def _id_number(rng: random.Random) -> str:
    born = dt.date(1945, 1, 1) + dt.timedelta(days=rng.randint(0, 55 * 365))
    first17 = f"310112{born:%Y%m%d}{rng.randint(0, 999):03d}"
    return first17 + id_check_char(first17)


def _name(rng: random.Random, code: str, community: str, road: str, number: int) -> str:
    if code == "street_shop":
        return f"{rng.choice(SHOP_WORDS)}{rng.choice(SHOP_KINDS)}"
    if code == "restaurant":
        return f"{rng.choice(SHOP_WORDS)}{rng.choice(FOOD_KINDS)}（{community}店）"
    if code == "construction_site":
        return f"{community}{rng.choice(('保障房', '商品住宅', '综合体', '学校', '道路改建'))}项目工地"
    if code == "heritage_building":
        return f"{road}{number}号{rng.choice(('老宅', '旧居', '石库门里弄', '宅院'))}"
    if code == "property_company":
        return f"上海{rng.choice(COMPANY_WORDS)}物业管理有限公司{community}项目部"
    if code == "estate_agency":
        return f"{rng.choice(AGENCIES)}（{community}店）"
    if code == "kitchen_waste_hauler":
        return f"上海{rng.choice(COMPANY_WORDS)}环保科技有限公司"
    if code == "garbage_hauler":
        return f"上海{rng.choice(COMPANY_WORDS)}环境卫生服务有限公司"
    if code == "outdoor_ad":
        return f"{road}{number}号户外广告牌"
    return f"{community.removesuffix('社区').removesuffix('村')}{rng.choice(ESTATE_TAILS)}"


def _seed_types() -> dict[str, ObjectType]:
    types = {}
    for code, name, base_risk, _, checklist, _ in TYPES:
        ot = ObjectType.objects.create(code=code, name=name, base_risk=base_risk)
        ChecklistItem.objects.bulk_create(
            [ChecklistItem(object_type=ot, order=i, text=text) for i, text in enumerate(checklist, 1)],
            audit_action="checklist.create",
        )
        ot.tier_rule = TierRule.objects.create(object_type=ot, **TIER_RULE)
        types[code] = ot
    return types


def _picks(rng: random.Random, scale: str, grids: list[Grid]) -> list[tuple[str, Grid]]:
    """(type code, grid) of every object to create."""
    if scale == "small":
        by_squad: dict[int, list[Grid]] = {}
        for grid in grids:
            by_squad.setdefault(grid.squad_id, []).append(grid)
        return [(t[0], rng.choice(squad_grids)) for squad_grids in by_squad.values() for t in TYPES]
    codes = rng.choices([t[0] for t in TYPES], weights=[t[3] for t in TYPES], k=DISTRICT_OBJECTS)
    return [(code, rng.choice(grids)) for code in codes]


def seed(scale: str, seed: int) -> dict[str, int]:
    """Create the demo object types and objects (call once, on a database seeded by core)."""
    rng = random.Random(f"chengguan-inspections-{scale}-{seed}")
    today = timezone.localdate()
    with transaction.atomic():
        types = _seed_types()
        grids = list(Grid.objects.filter(is_active=True).order_by("code"))
        if not grids:
            return {"对象类型": len(types), "监管对象": 0}
        shapes = {g.pk: shape(g.boundary) for g in grids}
        kinds = {t[0]: t[5] for t in TYPES}
        # each squad's objects lie on a handful of its own roads, as a town's shops do
        roads = {squad: rng.sample(ROADS, 5) for squad in sorted({g.squad_id for g in grids})}
        objects = []
        for code, grid in _picks(rng, scale, grids):
            road, number = rng.choice(roads[grid.squad_id]), rng.randint(1, 2999)
            lon, lat = point_in(rng, shapes[grid.pk])
            person = kinds[code] == "person" and rng.random() < 0.7
            id_number = _id_number(rng) if person else ""
            obj = RegulatedObject(
                object_type=types[code], name=_name(rng, code, grid.community or grid.name, road, number),
                credit_code="" if person else _credit_code(rng, kinds[code]),
                id_number=id_number, id_digest=id_digest(id_number),
                address=f"上海市闵行区{road}{number}号", lon=lon, lat=lat, grid=grid, squad_id=grid.squad_id,
                h3=geo.h3_cell(lon, lat),
                contact_name=person_name(rng), contact_phone=fake_phone(rng),
                risk_level=rng.choices(range(6), weights=(30, 30, 20, 10, 6, 4))[0],
                credit_grade=rng.choices("ABCD", weights=(30, 50, 15, 5))[0],
                last_inspected_on=today - dt.timedelta(days=rng.randint(1, 400)) if rng.random() < 0.7 else None,
            )
            if code in LICENCES:
                valid_to = today + dt.timedelta(days=rng.randint(-60, 5 * 365))
                obj.licences = [{"name": LICENCES[code], "number": f"{rng.randint(10**13, 10**14 - 1)}",
                                 "valid_to": valid_to.isoformat()}]
            tiering.assign_tier(obj)  # unsaved: no violations yet, no query
            objects.append(obj)
        RegulatedObject.objects.bulk_create(objects, batch_size=1000, audit_action="regobj.create")
    return {"对象类型": len(types), "监管对象": len(objects)}
