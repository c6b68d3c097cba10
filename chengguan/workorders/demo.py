"""Demo work orders for `python manage.py seed_demo`: an address list drawn from the demo
registry's addresses, orders from every channel over the last
weeks (most classified by the hotline operators, the rest left to the model), a share of
them walked through the handling steps, and a classifier trained on them. The same scale and
seed always give the same data."""

from __future__ import annotations

import datetime as dt
import random

from django.utils import timezone
from shapely.geometry import shape

from chengguan.core.choices import RoleCode
from chengguan.core.demo import fake_phone, person_name, point_in
from chengguan.core.models import Grid, User

from .choices import Channel, RequestKind, Result, Satisfaction
from .models import AddressEntry
from .services import addresses, classification, intake, workflow

ORDERS = {"small": 120, "district": 3000}
WALKED = {"small": 60, "district": 400}  # orders advanced through the handling steps

ROADS = ("七莘路", "沪闵路", "莘庄路", "虹梅路", "漕宝路", "都市路", "江川路", "剑川路", "浦锦路", "春申路",
         "古美路", "平阳路", "龙茗路", "银都路", "吴中路", "华漕路", "莲花南路", "东川路", "北松公路", "中春路")
PLACES = ("小区门口", "菜场旁边", "地铁站出口", "学校门口", "路口", "公交站", "商业街", "沿街商铺前", "桥下", "公园边")

# Leaf category code → complaint phrasings ({p}: place, {r}: road).
TEXTS = {
    "street_occupation": ["{r}{p}每天晚上有人占道摆摊卖烧烤，人行道都走不了。", "{r}{p}有商贩占用人行道经营水果摊，影响通行。",
                          "{p}夜市摊位占道经营，垃圾满地，希望城管管一管。"],
    "cross_door": ["{r}{p}的饭店把桌椅摆到店外经营，跨门营业。", "{r}沿街的小超市把货架搬到门口，出店经营很严重。"],
    "mobile_vendor": ["{r}{p}有流动摊贩推着三轮车叫卖，堵塞交通。", "{p}经常有流动小贩卖菜，早上特别多。"],
    "road_stacking": ["{r}{p}有人在人行道上堆放大量建材杂物，很久没人清理。", "{p}店铺门前堆物占道，行人只能走机动车道。"],
    "drying_clothes": ["{r}{p}沿街居民在行道树上拉绳晾晒衣服被子，影响市容。"],
    "exposed_garbage": ["{r}{p}垃圾堆积好几天没人清运，臭味很大。", "{p}绿化带里有人乱扔垃圾，暴露垃圾很多。"],
    "outdoor_ads": ["{r}{p}的店招招牌松动摇晃，担心掉下来砸到人。", "{r}有商家违规设置大型户外广告牌。"],
    "illegal_posting": ["{p}电线杆和墙上贴满了小广告，办证通下水道的都有。", "{r}{p}到处乱张贴牛皮癣广告。"],
    "illegal_construction": ["{r}某小区一楼住户在院子里违法搭建阳光房，还在继续施工。", "{p}顶楼有人私自加盖一层违章建筑。"],
    "load_bearing": ["楼上邻居装修拆除承重墙，整栋楼都在震，很危险。", "{r}某小区有住户装修时打通承重结构。"],
    "group_renting": ["{r}某小区有一套房子被隔成十几间群租，进出人员复杂。", "二房东把三室一厅隔断出租，住了二十多人。"],
    "residential_to_commercial": ["{r}某小区一楼住宅被改成商铺开店经营，居改非。", "住宅楼里开了棋牌室，居改非扰民。"],
    "cooking_fumes": ["{r}{p}的饭店油烟直排，家里窗户都不能开。", "楼下烧烤店没有油烟净化设施，油烟扰民严重。"],
    "noise": ["{r}{p}晚上十一点还有工地在施工，噪音扰民。", "{p}广场舞音响太响，每天晚上噪声扰民。"],
    "dust": ["{r}{p}工地裸土没有覆盖，扬尘很大。", "{r}拆迁工地灰尘漫天，也不洒水降尘。"],
    "construction_waste": ["{r}{p}有人偷倒装修垃圾，堆成小山了。", "夜里有车在{p}倾倒建筑垃圾。"],
    "muck_transport": ["{r}渣土车运输时沿路撒漏，路面全是泥。", "{r}夜间渣土车超速行驶，车厢不密闭遗撒严重。"],
    "waste_sorting": ["{p}垃圾房干湿垃圾混投，没有人分类指导。", "小区垃圾分类定时定点投放没有落实，垃圾桶满溢。"],
    "shared_bikes": ["{r}{p}共享单车乱停乱放，堵住了盲道。", "{p}共享单车堆成一堆，占满了人行道。"],
    "greening": ["{r}{p}有人砍伐行道树，毁绿占绿。", "小区绿地被人改成菜地，破坏绿化。"],
    "waterways": ["{r}旁边的河道有人往里排污水，河水发黑发臭。", "{p}河道里漂着大量垃圾，没人打捞。"],
    "out_of_remit": ["小区物业不作为，电梯坏了一个月没人修。", "公司拖欠工资三个月了，希望有关部门帮忙。"],
}
CHANNEL_WEIGHTS = [(Channel.HOTLINE_12345, 60), (Channel.PATROL, 15), (Channel.HOTLINE_12319, 5),
                   (Channel.WORKSTATION, 5), (Channel.LEADERSHIP, 3), (Channel.MEDIA, 2), (Channel.SUGGESTION, 3),
                   (Channel.HOTLINE_962000, 4), (Channel.TRANSFER, 3)]


def _first(role: str, **filters) -> User | None:
    return User.objects.filter(roles__code=role, is_active=True, **filters).order_by("pk").first()


def seed(scale: str, seed: int) -> dict[str, int]:
    rng = random.Random(f"chengguan-workorders-{scale}-{seed}")
    grids = list(Grid.objects.filter(is_active=True).order_by("code"))
    dispatcher = _first(RoleCode.DISPATCHER)
    if not grids or dispatcher is None:
        return {"工单": 0}
    shapes = {g.pk: shape(g.boundary) for g in grids}
    address_rows, seen = [], set()
    for grid in rng.sample(grids, min(len(grids), 400)):
        address = f"上海市闵行区{rng.choice(ROADS)}{rng.randint(1, 2999)}号"
        if address not in seen:
            seen.add(address)
            lon, lat = point_in(rng, shapes[grid.pk])
            address_rows.append({"地址": address, "经度": lon, "纬度": lat})
    imported = addresses.import_addresses(address_rows, by=dispatcher)
    if imported.errors:
        raise RuntimeError(f"demo address list refused: {imported.errors[0]}")
    entries = list(AddressEntry.objects.order_by("pk"))

    now = timezone.now()
    channels, weights = zip(*CHANNEL_WEIGHTS, strict=True)
    codes = sorted(TEXTS)
    items = []
    for n in range(ORDERS[scale]):
        code = rng.choice(codes)
        channel = rng.choices(channels, weights)[0]
        grid = rng.choice(grids)
        text = rng.choice(TEXTS[code]).format(p=rng.choice(PLACES), r=rng.choice(ROADS))
        item = {"channel": channel, "text": text, "title": text[:18],
                "received_at": now - dt.timedelta(minutes=rng.randint(10, 60 * 24 * 40))}
        if channel.startswith(("123", "962")):
            item.update(external_ticket=f"{channel}-{seed}-{n:06d}", reporter_name=person_name(rng),
                        reporter_phone=fake_phone(rng))
        where = rng.random()
        if where < 0.75:
            item["lon"], item["lat"] = point_in(rng, shapes[grid.pk])
        elif where < 0.9 and entries:
            item["address"] = rng.choice(entries).address
        if rng.random() < 0.8:  # the operators classified most of them; the model takes the rest
            item["category"] = code
        items.append(item)
    items.sort(key=lambda i: i["received_at"])
    orders = []
    for start in range(0, len(items), 100):
        orders += [r.order for r in intake.receive_many(items[start:start + 100], by=dispatcher)]
    model = classification.train(by=dispatcher, evaluate=False)
    walked = _walk(rng, [o for o in orders if o.squad_id and o.category_id and o.category.in_remit][:WALKED[scale]])
    return {"标准地址": len(entries), "工单": len(orders), "已处置工单": walked, "分类模型版本": model.version}


def _walk(rng: random.Random, orders) -> int:
    """Advance orders through the steps a real day leaves them in."""
    dispatcher = _first(RoleCode.DISPATCHER)
    verifier = _first(RoleCode.SUPERVISOR) or dispatcher
    leader = _first(RoleCode.LEADER)
    done = 0
    for order in orders:
        officer = _first(RoleCode.OFFICER, org_unit__path__startswith=order.squad.path)
        if officer is None:
            continue
        stop = rng.random()
        order = workflow.accept(order, by=dispatcher)
        if stop < 0.15:
            continue
        order = workflow.dispatch(order, by=dispatcher, assignee=officer)
        if stop < 0.3:
            continue
        order = workflow.start(order, by=officer)
        if stop < 0.4:
            if leader and rng.random() < 0.3:
                request = workflow.request_clock(order, by=officer, kind=RequestKind.EXTENSION,
                                                 reason="需协调相关部门联合处置", extra_days=5)
                workflow.decide_clock(request, by=leader, approve=True, note="同意延期")
            continue
        order = workflow.reply(order, by=officer, findings="到场核实，问题属实，已现场处置。", result=Result.RESOLVED,
                               reply_text="您反映的问题已处置，感谢您的监督。")
        if stop < 0.55:
            continue
        order = workflow.verify(order, by=verifier, passed=True)
        order = workflow.close(order, by=dispatcher)
        if rng.random() < 0.5:
            workflow.rate(order, satisfaction=rng.choice([Satisfaction.SATISFIED, Satisfaction.SATISFIED,
                                                          Satisfaction.BASICALLY]))
        done += 1
    return done
