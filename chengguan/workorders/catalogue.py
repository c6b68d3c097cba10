"""The default category tree and time limits, installed by migration 0002 and editable by
administrators afterwards. Limits: Jiyuan's 数字城管 standard for the matters it lists
(暴露垃圾 1 working day, 积存垃圾渣土 4, 违法搭建 15; domain §7.5) and the 12345 general
limit of 5 working days otherwise (domain §5.2)."""

# (code, name, keywords, limit kind, limit amount, in remit, children)
WD, WH = "working_days", "working_hours"

DEFAULT_TREE = [
    ("street_order", "街面秩序", "街面 秩序", WD, 1, True, [
        ("street_occupation", "占道经营", "占道 摆摊 夜市 摊位 烧烤 商贩 占用人行道", WD, 1),
        ("cross_door", "跨门经营", "跨门 出店 店外 门口 店门", WD, 1),
        ("mobile_vendor", "流动设摊", "流动 摊贩 小贩 三轮车 推车 叫卖", WD, 1),
        ("road_stacking", "占道堆物", "堆物 堆放 杂物 占道 堆积", WD, 1),
        ("drying_clothes", "乱晾晒", "晾晒 晾衣 衣服 被子 沿街", WD, 1),
    ]),
    ("appearance", "市容环境", "市容 环境卫生", WD, 1, True, [
        ("exposed_garbage", "暴露垃圾", "垃圾 暴露 堆积 脏乱 清运 异味", WD, 1),
        ("outdoor_ads", "户外广告招牌", "广告 招牌 店招 灯箱 横幅 广告牌", WD, 5),
        ("illegal_posting", "乱张贴", "小广告 张贴 涂写 刻画 牛皮癣", WD, 2),
    ]),
    ("illegal_building", "违法建筑", "违建 违章 搭建 加盖 拆违", WD, 15, True, [
        ("illegal_construction", "违法搭建", "违法建筑 违章建筑 私搭乱建 搭建 加层 阳光房 围墙", WD, 15),
    ]),
    ("housing_safety", "房屋安全", "房屋 安全", WD, 5, True, [
        ("load_bearing", "损坏承重结构", "承重墙 拆墙 装修 打通 结构", WD, 5),
        ("group_renting", "群租", "群租 隔断 二房东 出租 床位", WD, 5),
        ("residential_to_commercial", "居改非", "居改非 住宅 改 商铺 开店 经营", WD, 5),
    ]),
    ("environment", "环境保护", "环境 污染", WD, 5, True, [
        ("cooking_fumes", "油烟扰民", "油烟 餐饮 饭店 排烟 烧烤 气味", WD, 5),
        ("noise", "噪声扰民", "噪音 噪声 扰民 施工 夜间 广场舞 喇叭", WD, 5),
        ("dust", "扬尘", "扬尘 灰尘 工地 裸土 覆盖 洒水", WD, 2),
        ("construction_waste", "建筑垃圾", "建筑垃圾 装修垃圾 偷倒 倾倒", WD, 4),
        ("muck_transport", "渣土运输", "渣土 运输 撒漏 泥头车 车辆 遗撒", WD, 4),
    ]),
    ("waste_sorting", "生活垃圾分类", "垃圾分类 混投 垃圾房 定时定点 湿垃圾 干垃圾", WD, 5, True, []),
    ("shared_bikes", "共享单车", "共享单车 单车 乱停 堆放 电动车", WD, 2, True, []),
    ("greening", "绿化", "绿化 树木 草坪 毁绿 砍树 绿地", WD, 5, True, []),
    ("waterways", "水务河道", "河道 河 水 排污 污水 黑臭", WD, 5, True, []),
    ("other", "其他", "其他", WD, 5, True, []),
    ("out_of_remit", "非本部门职责", "物业 社保 教育 医疗 交通 劳动 工资", WD, 1, False, []),
]

# (stage, channel, kind, amount, basis) — channel "" is any channel.
DEFAULT_TIME_LIMITS = [
    ("accept", "", WH, 2, "签收时限：受理后 2 个工作时（本局默认）"),
    ("dispatch", "", WH, 2, "派遣时限：签收后 2 个工作时（本局默认）"),
    ("verify", "", WD, 1, "核查时限：反馈后 1 个工作日（本局默认）"),
    ("reply", "leadership", WD, 3, "督办件 3 个工作日（上海 12345 街镇实施细则，domain §5.2）"),
]

NUMBER_FORMAT = ("workorder", "工单编号", "GD{year}{seq:07d}")
