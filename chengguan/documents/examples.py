"""A complete example context for every document kind: what a caller passes to `render` and
`issue` (the cases app builds the same shape from a case). Used by the tests, the benchmark
and as a reference for template authors."""

import copy
import datetime as dt
from decimal import Decimal

from .kinds import kind_spec

_OFFICERS = [
    {"name": "李明", "certificate_number": "31010020001"},
    {"name": "王芳", "certificate_number": "31010020002"},
]

EXAMPLE = {
    "agency": {
        "name": "上海市闵行区城市管理行政执法局",
        "address": "上海市闵行区××路××号",
        "phone": "021-××××××××",
        "representative": "张建华",
        # 《行政复议法》第二十四条: a district bureau's acts are reviewed by the district government.
        "reconsideration_body": "上海市闵行区人民政府",
    },
    "case": {
        "number": "闵城管案〔2026〕第00123号",
        "cause": "擅自占用道路从事经营活动",
        "source": "日常巡查发现",
        "found_on": dt.date(2026, 11, 2),
        "filed_on": dt.date(2026, 11, 3),
    },
    "party": {
        "kind": "organisation",
        "name": "上海闵申餐饮管理有限公司",
        "credit_code": "91310112MA1GB3XX7K",
        "legal_representative": "赵国强",
        "address": "上海市闵行区七宝镇漕宝路1500号",
        "phone": "13800001234",
    },
    "officers": _OFFICERS,
    "facts": "2026年11月2日10时许，当事人在上海市闵行区七宝镇漕宝路1500号门前人行道上擅自摆放餐桌6张、"
             "座椅24把从事餐饮经营活动，占用道路面积约30平方米，经执法人员当场指出后仍未改正。",
    "evidence": [
        "现场检查笔录1份，证明当事人占用道路经营的时间、地点和占用面积；",
        "现场照片6张，证明当事人占用道路经营的事实；",
        "询问笔录1份，证明当事人对违法事实无异议；",
        "营业执照复印件1份，证明当事人的主体资格。",
    ],
    "opinion": "当事人涉嫌擅自占用道路从事经营活动，符合立案条件，建议立案调查。",
    "legal_basis": {
        "violation": "《上海市市容环境卫生管理条例》第二十五条第一款",
        "penalty": "《上海市市容环境卫生管理条例》第四十七条第一款",
        "order": "《中华人民共和国行政处罚法》第二十八条第一款",
        "seizure": "《上海市市容环境卫生管理条例》第四十七条第二款、《中华人民共和国行政强制法》第二十二条",
        "exemption": "《中华人民共和国行政处罚法》第三十三条第一款",
    },
    "inspection": {
        "started_at": dt.datetime(2026, 11, 2, 10, 5),
        "ended_at": dt.datetime(2026, 11, 2, 10, 40),
        "place": "上海市闵行区七宝镇漕宝路1500号门前",
        "present": "赵国强（法定代表人）",
        "findings": "执法人员出示执法证件后进行检查。现场可见当事人店门前人行道上摆放餐桌6张、座椅24把，"
                    "有顾客就餐，占用道路面积约30平方米。执法人员对现场进行了拍照取证。",
    },
    "inquiry": {
        "started_at": dt.datetime(2026, 11, 3, 9, 0),
        "ended_at": dt.datetime(2026, 11, 3, 9, 45),
        "place": "闵行区城管执法局七宝中队询问室",
        "interviewee": {"name": "赵国强", "gender": "男", "id_number": "310112198001011234",
                        "phone": "13800001234", "relation": "当事人法定代表人",
                        "address": "上海市闵行区七宝镇漕宝路1500号"},
        "qa": [
            {"q": "我们是闵行区城管执法局的执法人员，这是我们的执法证件。你是否看清楚？", "a": "看清楚了。"},
            {"q": "2026年11月2日门前人行道上的餐桌座椅是谁摆放的？", "a": "是我们店摆放的。"},
            {"q": "是否取得了占用道路的许可？", "a": "没有。"},
        ],
    },
    "correction": {
        "requirement": "立即停止占用道路经营，撤除人行道上的餐桌、座椅",
        "deadline": dt.date(2026, 11, 5),
    },
    "items": [
        {"name": "餐桌", "spec": "120×80厘米", "quantity": "6张"},
        {"name": "座椅", "spec": "塑料", "quantity": "24把"},
    ],
    "preservation": {"place": "七宝中队暂扣物品仓库", "deadline": dt.date(2026, 11, 13)},
    "seizure": {
        "measure": "扣押",
        "start": dt.date(2026, 11, 2),
        "end": dt.date(2026, 12, 1),
        "place": "七宝中队暂扣物品仓库",
    },
    "penalty": {
        "circumstances": "当事人系首次被查处，经责令后改正，属一般违法情节",
        "description": "罚款",  # the kinds of penalty; the amount prints from `fine`
        "fine": Decimal("1234.00"),
    },
    "statement": {
        "days": 5,
        "summary": "当事人在规定期限内未提出陈述、申辩意见。",
    },
    "hearing": {
        "held_at": dt.datetime(2026, 11, 20, 14, 0),
        "place": "闵行区城管执法局听证室",
        "chair": "周立",
        "clerk": "吴敏",
        "public": True,
        "investigators": "李明、王芳",
        "proceedings": "调查人员陈述了当事人违法的事实、证据和拟作出的行政处罚建议；当事人进行了申辩和质证，"
                       "认为占用面积认定过大；双方进行了辩论，当事人作了最后陈述。",
        "summary": "听证会于2026年11月20日公开举行，当事人法定代表人到场参加。",
        "opinion": "本案事实清楚，证据确凿，拟作出的处罚适当，建议维持原处罚意见。",
    },
    "review": {
        "reviewer": "陈静（法律职业资格证书编号A20221234）",
        "findings": "执法主体合法，事实清楚，证据确凿，适用依据正确，程序合法，处罚裁量适当。",
        "conclusion": "同意",
    },
    "discussion": {
        "held_at": dt.datetime(2026, 11, 24, 15, 0),
        "place": "闵行区城管执法局第一会议室",
        "chair": "张建华",
        "attendees": ["张建华（局长）", "刘伟（副局长）", "陈静（法制科科长）", "孙强（七宝中队中队长）"],
        "recorder": "吴敏",
        "opinions": "与会人员一致认为，本案事实清楚，证据确凿，程序合法，同意按拟处罚意见作出行政处罚决定。",
        "conclusion": "同意对当事人罚款人民币壹仟贰佰叁拾肆元整。",
    },
    "payment": {
        "bank": "中国工商银行上海市分行各营业网点",
        "account": "",
        "code": "3101122026001234",
    },
    "no_penalty": {
        "reason": "当事人系首次违法，违法行为轻微并在责令改正期限内及时改正，没有造成危害后果",
    },
    "served_document": {"title": "行政处罚决定书", "number": "闵城管罚决字〔2026〕第00088号"},
    "service": {
        "place": "上海市闵行区七宝镇漕宝路1500号",
        "method": "直接送达",
        "recipient": "赵国强",
        "served_at": dt.datetime(2026, 11, 26, 10, 0),
    },
    "decision": {
        "number": "闵城管罚决字〔2026〕第00088号",
        "date": dt.date(2026, 11, 25),
        "served_on": dt.date(2026, 11, 26),
    },
    "reminder": {
        "number": "闵城管催字〔2027〕第00012号",
        "surcharge": Decimal("1234.00"),
        "deadline": 10,
        "served_on": dt.date(2027, 1, 5),
    },
    "court": {"name": "上海市闵行区人民法院"},
    "enforcement": {
        "amount": Decimal("2468.00"),
        "reason": "当事人在法定期限内未申请行政复议或者提起行政诉讼，经催告后仍未履行行政处罚决定。",
    },
    "closure": {
        "execution": "当事人已于2026年12月5日缴纳罚款人民币壹仟贰佰叁拾肆元整，并已改正违法行为。",
        "reason": "行政处罚决定已执行完毕",
    },
    "occurred_at": dt.datetime(2026, 11, 2, 10, 0),
    "place": "上海市闵行区七宝镇漕宝路1500号门前",
    "file": {
        "entries": [
            {"title": "立案审批表", "number": "闵城管立字〔2026〕第00123号", "date": dt.date(2026, 11, 3), "pages": "1"},
            {"title": "现场检查笔录", "number": "闵城管检字〔2026〕第00301号", "date": dt.date(2026, 11, 2), "pages": "2"},
            {"title": "行政处罚决定书", "number": "闵城管罚决字〔2026〕第00088号", "date": dt.date(2026, 11, 25), "pages": "2"},
            {"title": "送达回证", "number": "闵城管送字〔2026〕第00410号", "date": dt.date(2026, 11, 26), "pages": "1"},
        ],
    },
}

# A simple-procedure decision concerns a natural person and a small fine (《行政处罚法》第五十一条).
SIMPLE = {
    "party": {"kind": "person", "name": "王建国", "id_type": "居民身份证", "id_number": "310112199001011236",
              "address": "上海市闵行区莘庄镇莘松路100号", "phone": "13900005678"},
    "penalty": {"description": "罚款", "fine": Decimal("200.00")},
    "facts": "擅自设摊兜售小商品。",
    "place": "上海市闵行区莘庄地铁站北广场",
}


def example_context(kind: str) -> dict:
    """A context with every key `kind` needs (and more), as a deep copy the caller may change."""
    kind_spec(kind)
    context = copy.deepcopy(EXAMPLE)
    if kind == "simple_penalty_decision":
        context.update(copy.deepcopy(SIMPLE))
    return context
