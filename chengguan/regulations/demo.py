"""Demo violation catalogue for `python manage.py seed_demo`: common Shanghai city-management
matters with their legal bases, one published discretion benchmark each (a few with a newer
version that superseded the first, one with a draft) and their no-penalty-list entries.

What was checked, and against what (see the report of the regulations work):
* 《中华人民共和国大气污染防治法》 arts. 69, 70, 81, 82, 115, 116, 118, 119 and
  《中华人民共和国噪声污染防治法》 arts. 77, 82: read in the full text (LawRefBook/Laws).
* 《上海市拆除违法建筑若干规定》 (2018 text) arts. 8, 11: read in the full text; it sets no fine
  of its own ("依法予以罚款"), so the fine comes from 《城乡规划法》第六十四条.
* 《中华人民共和国城乡规划法》第四十条、第六十四条: two independent copies agree; full text not read.
* 《上海市市容环境卫生管理条例》: article numbers and ranges of the **2018** text, as read for
  ../shared/domain/README.md §5.4. The regulation was revised on 2022-09-22, so current article
  numbers (and possibly ranges) are 待核实; every such basis is stored unverified.
* 《上海市生活垃圾管理条例》第五十七条 (individual 50–200, unit 5,000–50,000): domain README and a
  second, independent page agree; the duty articles (第二十四条 …) and art. 58 are 待核实.
* 《上海市住宅物业管理规定》, 《上海市户外广告设施管理办法》, 《上海市建筑垃圾处理管理规定》:
  not reachable here — articles and amounts are 待核实 and the tiers are demonstration values.

The tiers below are the bureau's own subdivision of the statutory range (what a 裁量基准 is),
not law; where the statutory range itself is unverified the benchmark's note says so."""

from __future__ import annotations

import datetime as dt

from django.db import transaction

from . import services
from .choices import ExemptionKind, FineRule, MatterCategory, PartyKind
from .models import Matter

C = MatterCategory
PERSON, ORG = PartyKind.PERSON, PartyKind.ORGANISATION
SR2018 = "2018年修正文本"
SR_NOTE = "条号、幅度为2018年修正文本；该条例已于2022年9月22日修订，现行条号待核实"
UNVERIFIED = "未能查阅原文，条号与幅度待核实"
V1_FROM = dt.date(2023, 1, 1)
V2_FROM = dt.date(2025, 7, 1)
FREE20 = "上海市城管执法局、市司法局《城市管理轻微违法违规行为免罚清单》（2020年8月18日）"
DEMO_LIST = "演示清单（依据《行政处罚法》第三十三条，待按本局现行免罚清单核定）"


def M(**spec) -> dict:
    """One matter's specification (keyword arguments as in MATTERS)."""
    return spec


def B(citation: str, *, version_note: str = "", verified: bool = True, note: str = "") -> dict:
    return {"citation": citation, "version_note": version_note, "verified": verified, "note": note}


def SR(article: str) -> dict:
    return B(f"《上海市市容环境卫生管理条例》{article}", version_note=SR2018, verified=False, note=SR_NOTE)


def fixed(label, lo, hi, party="", conditions="") -> dict:
    return {"label": label, "party_kind": party, "conditions": conditions, "rule": FineRule.FIXED_RANGE,
            "min_amount": str(lo), "max_amount": str(hi)}


def per_unit(label, rate, unit, lo, hi, *, rate_max=None, party="", conditions="") -> dict:
    return {"label": label, "party_kind": party, "conditions": conditions, "rule": FineRule.PER_UNIT,
            "unit_rate": str(rate), "unit_rate_max": None if rate_max is None else str(rate_max), "unit_name": unit,
            "min_amount": str(lo), "max_amount": str(hi)}


def share(label, f1, f2, base, party="", conditions="") -> dict:
    return {"label": label, "party_kind": party, "conditions": conditions, "rule": FineRule.MULTIPLE_OF_VALUE,
            "min_factor": str(f1), "max_factor": str(f2), "base_name": base}


def no_fine(label, conditions="", party="") -> dict:
    return {"label": label, "party_kind": party, "conditions": conditions, "rule": FineRule.NO_FINE}


def warning(label, conditions="", party="") -> dict:
    return {"label": label, "party_kind": party, "conditions": conditions, "rule": FineRule.WARNING_ONLY}


FIRST = (ExemptionKind.FIRST_VIOLATION, "首次被发现，危害后果轻微，并在责令改正期限内及时改正的，可以不予行政处罚。")
MINOR = (ExemptionKind.MINOR, "违法行为轻微并及时改正，没有造成危害后果的，不予行政处罚。")
NO_FAULT = (ExemptionKind.NO_FAULT, "当事人有证据足以证明没有主观过错的（如他人冒用其名义、被他人遗撒所致），不予行政处罚。")

MATTERS = [
    # --- 街面秩序 -------------------------------------------------------------------------
    M(code="JM-001", name="擅自占用道路、桥梁、人行天桥、地下通道及其他公共场所设摊经营、兜售物品",
         category=C.STREET_ORDER, violation=[SR("第二十五条第（二）项")], penalty=[SR("第二十五条")],
         statutory="责令改正，可处五十元以上五百元以下罚款（2018年文本）", kinds=["fine"], simple=True,
         tiers=[fixed("轻微", 50, 100, conditions="首次被查处，经劝阻后拒不改正，设摊面积较小"),
                fixed("一般", 100, 300, conditions="经责令改正后拒不改正，或影响通行"),
                fixed("严重", 300, 500, conditions="一年内再次违法，或严重妨碍交通、引发投诉")],
         exemptions=[FIRST]),
    M(code="JM-002", name="擅自占用道路堆放物品", category=C.STREET_ORDER,
         violation=[SR("第二十五条第（三）项")], penalty=[SR("第二十五条")],
         statutory="责令改正，处五百元以上五千元以下罚款（2018年文本）", kinds=["fine"], simple=True,
         tiers=[per_unit("一般", 100, "平方米", 500, 3000, rate_max=200,
                         conditions="按占用面积计罚，每平方米一百元至二百元"),
                fixed("严重", 3000, 5000, conditions="堆放时间长、面积大或造成安全隐患")],
         exemptions=[FIRST]),
    M(code="JM-003", name="沿街店铺超出门窗和外墙经营（跨门营业）", category=C.STREET_ORDER,
         violation=[SR("第二十五条第（五）项")], penalty=[SR("第二十五条")],
         statutory="责令改正，处五十元以上五百元以下罚款（2018年文本）", kinds=["fine"], simple=True,
         tiers=[fixed("轻微", 50, 100, conditions="超出面积小，经教育当场改正后又违反"),
                fixed("一般", 100, 300, conditions="经责令改正后拒不改正"),
                fixed("严重", 300, 500, conditions="一年内再次违法或影响通行")],
         exemptions=[FIRST, MINOR]),
    M(code="JM-004", name="占用道路从事经营性洗车", category=C.STREET_ORDER,
         violation=[SR("第二十八条第一款第（六）项")], penalty=[SR("第二十八条")],
         statutory="责令改正，处三百元以上三千元以下罚款（2018年文本）", kinds=["fine"], simple=True,
         tiers=[fixed("一般", 300, 1000, conditions="占道面积小、时间短"),
                fixed("较重", 1000, 2000, conditions="经责令改正后拒不改正"),
                fixed("严重", 2000, 3000, conditions="一年内再次违法，或污水漫溢影响通行")],
         exemptions=[(ExemptionKind.FIRST_VIOLATION, "首次被发现，责令限期改正后及时改正的，不予行政处罚。", FREE20)]),
    M(code="JM-005", name="在树木、护栏、路牌、电线杆等设施上吊挂、晾晒物品", category=C.STREET_ORDER,
         violation=[SR("第二十六条")], penalty=[SR("第二十六条")],
         statutory="责令改正；拒不改正的，对个人处二十元罚款，对单位处二十元以上二百元以下罚款（2018年文本）",
         kinds=["fine"], simple=True,
         tiers=[fixed("个人", 20, 20, party=PERSON, conditions="经责令改正后拒不改正"),
                fixed("单位", 20, 200, party=ORG, conditions="经责令改正后拒不改正")],
         exemptions=[MINOR]),
    # --- 市容环境 -------------------------------------------------------------------------
    M(code="SR-001", name="乱张贴、乱涂写、乱刻画、乱悬挂", category=C.APPEARANCE,
         violation=[SR("第二十四条")], penalty=[SR("第二十四条")],
         statutory="责令清除；拒不清除的，代为清除，费用由违法者承担，并处五十元以上五百元以下罚款（2018年文本）",
         kinds=["fine"], simple=True,
         tiers=[per_unit("一般", 50, "处", 50, 500, conditions="按张贴、涂写处数计罚，每处五十元"),
                fixed("严重", 300, 500, conditions="组织他人张贴或一年内再次违法")],
         exemptions=[FIRST]),
    M(code="SR-002", name="随地吐痰、便溺", category=C.APPEARANCE,
         violation=[SR("第二十八条第一款第（一）项")], penalty=[SR("第二十八条")],
         statutory="责令改正，处二百元以下罚款（2018年文本，下限待核实）", kinds=["fine"], simple=True,
         tiers=[fixed("一般", 20, 100, party=PERSON), fixed("较重", 100, 200, party=PERSON, conditions="拒不改正或情节恶劣")],
         exemptions=[MINOR]),
    M(code="SR-003", name="乱扔果皮、纸屑、烟蒂、饮料罐、口香糖等废弃物", category=C.APPEARANCE,
         violation=[SR("第二十八条第一款第（二）项")], penalty=[SR("第二十八条")],
         statutory="责令改正，处一百元以下罚款（2018年文本，下限待核实）", kinds=["fine"], simple=True,
         tiers=[fixed("一般", 20, 50, party=PERSON), fixed("较重", 50, 100, party=PERSON, conditions="拒不改正")],
         exemptions=[MINOR]),
    M(code="SR-004", name="乱倒生活垃圾、污水、粪便", category=C.APPEARANCE,
         violation=[SR("第二十八条第一款第（四）项")], penalty=[SR("第二十八条")],
         statutory="责令改正；对个人处二百元以下罚款，对单位处五千元以上五万元以下罚款（2018年文本）",
         kinds=["fine"], simple=True,
         tiers=[fixed("个人", 50, 200, party=PERSON), fixed("单位一般", 5000, 20000, party=ORG),
                fixed("单位严重", 20000, 50000, party=ORG, conditions="倾倒量大或造成环境污染")],
         exemptions=[FIRST, NO_FAULT]),
    M(code="SR-005", name="擅自设置户外广告设施", category=C.APPEARANCE,
         violation=[B("《上海市户外广告设施管理办法》第十一条", verified=False, note=UNVERIFIED)],
         penalty=[B("《上海市户外广告设施管理办法》第二十八条", verified=False, note=UNVERIFIED)],
         statutory="待核实", kinds=["fine"], simple=False, unverified=True,
         tiers=[fixed("一般", 1000, 5000, conditions="演示幅度，待核实"),
                fixed("严重", 5000, 20000, conditions="演示幅度，待核实；设施存在安全隐患")],
         exemptions=[FIRST]),
    # --- 违法建筑 -------------------------------------------------------------------------
    M(code="WJ-001", name="未取得建设工程规划许可证进行建设（尚可采取改正措施消除对规划实施的影响）",
         category=C.CONSTRUCTION,
         violation=[B("《中华人民共和国城乡规划法》第四十条第一款")],
         penalty=[B("《中华人民共和国城乡规划法》第六十四条"),
                  B("《上海市拆除违法建筑若干规定》第十一条", version_note="2018年修正文本")],
         statutory="责令停止建设；限期改正，处建设工程造价百分之五以上百分之十以下的罚款",
         kinds=["fine"], simple=False,
         tiers=[share("一般", "0.05", "0.07", "建设工程造价", conditions="按期改正，面积较小"),
                share("严重", "0.07", "0.10", "建设工程造价", conditions="拒不停止建设或逾期改正")],
         exemptions=[]),
    M(code="WJ-002", name="未取得建设工程规划许可证进行建设（无法采取改正措施消除影响）",
         category=C.CONSTRUCTION,
         violation=[B("《中华人民共和国城乡规划法》第四十条第一款")],
         penalty=[B("《中华人民共和国城乡规划法》第六十四条"),
                  B("《上海市拆除违法建筑若干规定》第八条", version_note="2018年修正文本")],
         statutory="限期拆除；不能拆除的，没收实物或者违法收入，可以并处建设工程造价百分之十以下的罚款",
         kinds=["confiscate_property", "confiscate_gains", "fine"], simple=False,
         tiers=[no_fine("限期拆除", conditions="当事人在期限内自行拆除：仅责令限期拆除，不并处罚款"),
                share("不能拆除", "0", "0.10", "建设工程造价", conditions="不能拆除的，没收实物或违法收入，可以并处罚款")],
         exemptions=[]),
    # --- 房屋安全 -------------------------------------------------------------------------
    M(code="FW-001", name="装修中擅自变动房屋建筑主体和承重结构", category=C.HOUSING,
         violation=[B("《上海市住宅物业管理规定》第五十四条", verified=False, note=UNVERIFIED)],
         penalty=[B("《上海市住宅物业管理规定》第八十四条", verified=False, note=UNVERIFIED),
                  B("《建设工程质量管理条例》第六十九条", verified=False, note=UNVERIFIED)],
         statutory="责令改正，恢复原状，并处罚款（幅度待核实）", kinds=["fine"], simple=False, unverified=True,
         tiers=[fixed("一般", 50000, 80000, conditions="演示幅度，待核实；及时恢复原状"),
                fixed("严重", 80000, 100000, conditions="演示幅度，待核实；危及房屋安全或拒不恢复")],
         exemptions=[]),
    M(code="FW-002", name="出租住房违反规定分隔搭建、按床位出租（群租）", category=C.HOUSING,
         violation=[B("《上海市住宅物业管理规定》第六十四条", verified=False, note=UNVERIFIED)],
         penalty=[B("《上海市住宅物业管理规定》第八十九条", verified=False, note=UNVERIFIED)],
         statutory="责令改正，处罚款（幅度待核实）", kinds=["fine"], simple=False, unverified=True,
         tiers=[fixed("一般", 10000, 50000, conditions="演示幅度，待核实"),
                fixed("严重", 50000, 100000, conditions="演示幅度，待核实；屡次群租或存在消防隐患")],
         exemptions=[FIRST]),
    # --- 环境保护 -------------------------------------------------------------------------
    M(code="HB-001", name="餐饮服务业经营者超过排放标准排放油烟", category=C.ENVIRONMENT,
         violation=[B("《中华人民共和国大气污染防治法》第八十一条第一款")],
         penalty=[B("《中华人民共和国大气污染防治法》第一百一十八条第一款")],
         statutory="责令改正，处五千元以上五万元以下的罚款；拒不改正的，责令停业整治",
         kinds=["fine", "suspend_business"], simple=False,
         tiers=[fixed("轻微", 5000, 10000, conditions="首次被查处，超标排放时间短"),
                fixed("一般", 10000, 30000, conditions="未安装或不正常使用油烟净化设施"),
                fixed("严重", 30000, 50000, conditions="多次被投诉、拒不改正或造成明显污染")],
         exemptions=[FIRST]),
    M(code="HB-002", name="在居民住宅楼等禁止区域新建、改建、扩建产生油烟的餐饮服务项目", category=C.ENVIRONMENT,
         violation=[B("《中华人民共和国大气污染防治法》第八十一条第二款")],
         penalty=[B("《中华人民共和国大气污染防治法》第一百一十八条第二款")],
         statutory="责令改正；拒不改正的，予以关闭，并处一万元以上十万元以下的罚款",
         kinds=["close", "fine"], simple=False,
         tiers=[fixed("一般", 10000, 50000, conditions="拒不改正，经营规模小"),
                fixed("严重", 50000, 100000, conditions="拒不改正，经营规模大或投诉集中")],
         exemptions=[]),
    M(code="HB-003", name="在禁止的时段和区域内露天烧烤食品或者为露天烧烤食品提供场地", category=C.ENVIRONMENT,
         violation=[B("《中华人民共和国大气污染防治法》第八十一条第三款")],
         penalty=[B("《中华人民共和国大气污染防治法》第一百一十八条第三款")],
         statutory="责令改正，没收烧烤工具和违法所得，并处五百元以上二万元以下的罚款",
         kinds=["confiscate_property", "confiscate_gains", "fine"], simple=True,
         tiers=[fixed("轻微", 500, 2000, conditions="流动摊点，规模小"),
                fixed("一般", 2000, 10000, conditions="固定摊点或为他人提供场地"),
                fixed("严重", 10000, 20000, conditions="一年内再次违法或重污染天气期间")],
         exemptions=[]),
    M(code="HB-004", name="施工工地未设置硬质围挡或未采取有效防尘降尘措施", category=C.ENVIRONMENT,
         violation=[B("《中华人民共和国大气污染防治法》第六十九条第三款")],
         penalty=[B("《中华人民共和国大气污染防治法》第一百一十五条第一款第（一）项")],
         statutory="责令改正，处一万元以上十万元以下的罚款；拒不改正的，责令停工整治",
         kinds=["fine", "suspend_business"], simple=False,
         tiers=[fixed("一般", 10000, 30000, party=ORG, conditions="措施部分缺失，及时整改"),
                fixed("较重", 30000, 60000, party=ORG, conditions="措施缺失，扬尘明显"),
                fixed("严重", 60000, 100000, party=ORG, conditions="拒不改正或重污染天气期间")],
         exemptions=[FIRST]),
    M(code="HB-005", name="未取得证明在噪声敏感建筑物集中区域夜间进行产生噪声的建筑施工作业", category=C.ENVIRONMENT,
         violation=[B("《中华人民共和国噪声污染防治法》第四十三条", verified=False, note="义务条款条号待核实")],
         penalty=[B("《中华人民共和国噪声污染防治法》第七十七条第（二）项")],
         statutory="责令改正，处一万元以上十万元以下的罚款；拒不改正的，可以责令暂停施工",
         kinds=["fine", "suspend_business"], simple=False,
         tiers=[fixed("一般", 10000, 30000, party=ORG, conditions="首次被查处"),
                fixed("较重", 30000, 60000, party=ORG, conditions="多次被投诉"),
                fixed("严重", 60000, 100000, party=ORG, conditions="拒不改正或中高考等特殊时段")],
         exemptions=[]),
    M(code="HB-006", name="在公共场所组织或开展娱乐、健身等活动违反规定使用音响器材产生过大音量", category=C.ENVIRONMENT,
         violation=[B("《中华人民共和国噪声污染防治法》第六十四条", verified=False, note="义务条款条号待核实")],
         penalty=[B("《中华人民共和国噪声污染防治法》第八十二条第（二）项")],
         statutory="说服教育，责令改正；拒不改正的，给予警告，对个人可以处二百元以上一千元以下的罚款，"
                   "对单位可以处二千元以上二万元以下的罚款",
         kinds=["warning", "fine"], simple=True,
         tiers=[warning("警告", conditions="经说服教育、责令改正后拒不改正，首次"),
                fixed("个人", 200, 1000, party=PERSON, conditions="警告后仍不改正"),
                fixed("单位", 2000, 20000, party=ORG, conditions="警告后仍不改正")],
         exemptions=[MINOR]),
    M(code="HB-007", name="在人口集中地区焚烧垃圾等产生有毒有害烟尘和恶臭气体的物质", category=C.ENVIRONMENT,
         violation=[B("《中华人民共和国大气污染防治法》第八十二条第一款")],
         penalty=[B("《中华人民共和国大气污染防治法》第一百一十九条第二款")],
         statutory="责令改正，对单位处一万元以上十万元以下的罚款，对个人处五百元以上二千元以下的罚款",
         kinds=["fine"], simple=False,
         tiers=[fixed("个人", 500, 2000, party=PERSON), fixed("单位一般", 10000, 50000, party=ORG),
                fixed("单位严重", 50000, 100000, party=ORG, conditions="焚烧量大或造成污染投诉")],
         exemptions=[]),
    # --- 建筑垃圾 -------------------------------------------------------------------------
    M(code="JZ-001", name="运输渣土、建筑垃圾等散装物料的车辆未采取密闭措施防止物料遗撒", category=C.CONSTRUCTION_WASTE,
         violation=[B("《中华人民共和国大气污染防治法》第七十条第一款")],
         penalty=[B("《中华人民共和国大气污染防治法》第一百一十六条")],
         statutory="责令改正，处二千元以上二万元以下的罚款；拒不改正的，车辆不得上道路行驶",
         kinds=["fine"], simple=True,
         tiers=[per_unit("一般", 2000, "辆", 2000, 20000, conditions="按违法车辆数计罚，每辆二千元"),
                fixed("严重", 10000, 20000, conditions="沿途大量遗撒或拒不改正")],
         exemptions=[NO_FAULT]),
    M(code="JZ-002", name="擅自倾倒、抛撒或者堆放建筑垃圾、工程渣土", category=C.CONSTRUCTION_WASTE,
         violation=[SR("第四十四条"),
                    B("《上海市建筑垃圾处理管理规定》第二十条", verified=False, note=UNVERIFIED)],
         penalty=[SR("第四十四条")],
         statutory="责令改正，处五千元以上五万元以下罚款（2018年文本）", kinds=["fine"], simple=False,
         tiers=[fixed("一般", 5000, 20000, conditions="倾倒量少，及时清除"),
                fixed("严重", 20000, 50000, conditions="倾倒量大、拒不清除或倾倒在水域、绿地")],
         exemptions=[]),
    # --- 生活垃圾分类 ---------------------------------------------------------------------
    M(code="LJ-001", name="个人未按规定分类投放生活垃圾（混合投放）", category=C.WASTE_SORTING,
         violation=[B("《上海市生活垃圾管理条例》第二十四条第一款", verified=False, note="义务条款条号待核实")],
         penalty=[B("《上海市生活垃圾管理条例》第五十七条第二款")],
         statutory="责令立即改正；拒不改正的，处五十元以上二百元以下罚款", kinds=["fine"], simple=True,
         tiers=[fixed("一般", 50, 100, party=PERSON, conditions="经责令立即改正后拒不改正"),
                fixed("较重", 100, 200, party=PERSON, conditions="一年内再次拒不改正")],
         exemptions=[MINOR]),
    M(code="LJ-002", name="单位未按规定分类投放生活垃圾", category=C.WASTE_SORTING,
         violation=[B("《上海市生活垃圾管理条例》第二十四条第一款", verified=False, note="义务条款条号待核实")],
         penalty=[B("《上海市生活垃圾管理条例》第五十七条第一款")],
         statutory="责令立即改正；拒不改正的，处五千元以上五万元以下罚款", kinds=["fine"], simple=False,
         tiers=[fixed("一般", 5000, 20000, party=ORG, conditions="经责令立即改正后拒不改正"),
                fixed("严重", 20000, 50000, party=ORG, conditions="一年内再次违法或混投量大")],
         exemptions=[FIRST]),
    M(code="LJ-003", name="管理责任人未按规定设置生活垃圾分类收集容器", category=C.WASTE_SORTING,
         violation=[B("《上海市生活垃圾管理条例》第二十六条", verified=False, note="义务条款条号待核实")],
         penalty=[B("《上海市生活垃圾管理条例》第五十八条", verified=False,
                    note="幅度取自 domain README §5.4，未经第二来源核实")],
         statutory="责令限期改正；逾期不改正的，处五百元以上五千元以下罚款（待核实）", kinds=["fine"], simple=True,
         unverified=True,
         tiers=[fixed("一般", 500, 2000, party=ORG, conditions="逾期未改正"),
                fixed("严重", 2000, 5000, party=ORG, conditions="一年内再次违法")],
         exemptions=[FIRST]),
]

# Matters whose benchmark was revised: version 2 from V2_FROM supersedes version 1.
REVISED = {"JM-003": [fixed("轻微", 50, 80, conditions="超出面积小，经教育当场改正后又违反"),
                      fixed("一般", 80, 300, conditions="经责令改正后拒不改正"),
                      fixed("严重", 300, 500, conditions="一年内再次违法或影响通行")],
           "LJ-001": [fixed("一般", 50, 80, party=PERSON, conditions="经责令立即改正后拒不改正"),
                      fixed("较重", 80, 200, party=PERSON, conditions="一年内再次拒不改正")],
           "HB-001": [fixed("轻微", 5000, 8000, conditions="首次被查处，超标排放时间短"),
                      fixed("一般", 8000, 30000, conditions="未安装或不正常使用油烟净化设施"),
                      fixed("严重", 30000, 50000, conditions="多次被投诉、拒不改正或造成明显污染")]}
DRAFTED = "SR-001"  # a draft third version waiting for legal review


def _bases(items: list[dict]) -> list:
    out = []
    for item in items:
        parsed = services.parse_citation(item["citation"])
        out.append(services.legal_basis(parsed["law_name"], parsed["article"], parsed["clause"], by=None,
                                        version_note=item["version_note"], verified=item["verified"],
                                        note=item["note"]))
    return out


def _description(spec: dict) -> str:
    notes = []
    if any(not b["verified"] for b in spec["violation"] + spec["penalty"]):
        notes.append("待核实：部分法律依据的条号（见各依据备注）未经现行文本核实。")
    if spec.get("unverified"):
        notes.append("待核实：法定处罚幅度未能查阅原文，裁量阶次为演示数据，正式使用前须由法制部门核定。")
    return "\n".join(notes)


def seed(scale: str, seed: int) -> dict[str, int]:
    """Create the demo catalogue (once; the catalogue does not depend on scale or seed)."""
    if Matter.objects.exists():
        return {"执法事项": 0}
    counts = {"执法事项": 0, "裁量基准": 0, "免罚清单": 0}
    with transaction.atomic():
        for spec in MATTERS:
            matter = services.create_matter(
                by=None, code=spec["code"], name=spec["name"], category=spec["category"],
                violation_bases=_bases(spec["violation"]), penalty_bases=_bases(spec["penalty"]),
                penalty_kinds=spec["kinds"], simple_procedure_allowed=spec["simple"],
                description=_description(spec), statutory_penalty=spec["statutory"])
            counts["执法事项"] += 1
            note = "演示数据：法定幅度待核实，正式使用前须由法制部门核定。" if spec.get("unverified") else ""
            first = services.create_benchmark(matter, by=None, valid_from=V1_FROM, tiers=spec["tiers"],
                                              document="演示裁量基准（2023年版）", note=note)
            services.publish_benchmark(first, by=None)
            counts["裁量基准"] += 1
            if spec["code"] in REVISED:
                second = services.create_benchmark(matter, by=None, valid_from=V2_FROM, tiers=REVISED[spec["code"]],
                                                   document="演示裁量基准（2025年修订）")
                services.publish_benchmark(second, by=None)  # closes version 1 the day before
                counts["裁量基准"] += 1
            if spec["code"] == DRAFTED:
                services.draft_new_version(first, by=None, valid_from=dt.date(2026, 1, 1))
                counts["裁量基准"] += 1
            for kind, conditions, *source in spec["exemptions"]:
                services.create_exemption(matter, by=None, kind=kind, conditions=conditions, valid_from=V1_FROM,
                                          source=source[0] if source else DEMO_LIST)
                counts["免罚清单"] += 1
    return counts
