"""What a pre-sales question asks: the aspect (price, stock, a spec...), a budget, a height, a variant."""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal

from kefu.catalog.matcher import compact
from kefu.catalog.records import Product, VariantOption

# Aspects answered from the catalog's columns, checked in this order.
COLUMN_ASPECTS: tuple[tuple[str, tuple[str, ...]], ...] = (
    (
        "presale",
        (
            "预售",
            "什么时候发货",
            "啥时候发",
            "几号发",
            "多久发货",
            "什么时候能发",
            "什么时候到货",
            "何时发货",
            "到手",
            "多久能到",
            "多久发",
        ),
    ),
    (
        "size",
        (
            "尺码",
            "码数",
            "偏大",
            "偏小",
            "穿多大",
            "穿什么码",
            "穿哪个码",
            "选什么码",
            "选哪个码",
            "多大码",
            "身高",
            "体重",
            "合身",
            "大一码",
            "小一码",
            "大一号",
            "小一号",
            "什么码",
            "哪个码",
            "几码",
            "码合适",
            "尺寸偏",
        ),
    ),
    (
        "stock",
        (
            "有货",
            "有没有货",
            "现货",
            "库存",
            "缺货",
            "没货",
            "断货",
            "卖完",
            "补货",
            "还有吗",
            "有库存",
            "卖光",
            "售罄",
        ),
    ),
    ("price", ("多少钱", "价格", "价钱", "几块", "几元", "贵不贵", "贵吗", "售价", "啥价", "多钱", "什么价")),
    ("returns", ("退货", "退换", "能退", "可以退", "退吗", "无理由", "7天", "七天", "包退")),
    ("warranty", ("保修", "质保", "保用", "坏了怎么办", "保多久")),
    ("carrier", ("快递", "顺丰", "中通", "什么物流", "哪家物流", "发什么")),
)

# Everyday words for a spec, and the spec keys of the catalog they may be answered from.
SPEC_WORDS: tuple[tuple[tuple[str, ...], tuple[str, ...]], ...] = (
    (("防水", "游泳", "泡水", "淋雨", "下水", "洗澡", "潜水", "进水", "防汗"), ("防水",)),
    (
        (
            "续航",
            "电池",
            "待机",
            "用多久",
            "充一次",
            "能用几天",
            "电量",
            "用几天",
            "用几个小时",
            "听多久",
            "能撑多久",
            "一次能用",
        ),
        ("续航",),
    ),
    (("快充", "充电", "充满"), ("充电", "快充", "接口")),
    (("降噪",), ("降噪",)),
    (("蓝牙", "连手机", "连电脑", "连接", "有线", "无线", "串联"), ("蓝牙", "连接")),
    (("多重", "重量", "重不重", "克重", "沉不沉"), ("重量",)),
    (
        (
            "材质",
            "材料",
            "什么做的",
            "面料",
            "布料",
            "成分",
            "什么料",
            "含棉",
            "纯棉吗",
            "填充",
            "绒",
            "不锈钢",
            "乳胶",
            "硅油",
            "防腐剂",
            "添加剂",
        ),
        ("材质", "面料", "成分", "主要成分", "填充", "鞋面", "鞋底"),
    ),
    (
        ("洗碗机", "清洗", "机洗", "水洗", "怎么洗", "能洗", "洗涤", "干洗", "掉色", "好洗"),
        ("洗涤", "清洁", "注意"),
    ),
    (("容量", "几升", "多少升", "装多少", "多少毫升", "毫安", "多大容量"), ("容量", "规格")),
    (("保温", "保冷", "多久凉", "冰的"), ("保温", "保冷")),
    (("微波炉", "牛奶", "碳酸", "注意"), ("注意",)),
    (("屏幕", "显示屏", "多大屏"), ("屏幕",)),
    (
        (
            "功能",
            "nfc",
            "血氧",
            "心率",
            "睡眠",
            "公交卡",
            "公交",
            "刷卡",
            "门禁",
            "运动模式",
            "豆浆",
            "果汁",
            "预约",
        ),
        ("功能",),
    ),
    (("兼容", "苹果", "安卓", "iphone", "ios", "mac", "ipad", "windows"), ("兼容",)),
    (("保质期", "过期", "放多久", "能放多久", "储存", "保存", "冷藏", "开封后"), ("保质期", "储存")),
    (("产地", "哪里产", "哪产的", "哪里的", "进口", "国产"), ("产地",)),
    (
        (
            "几岁",
            "年龄",
            "多大的孩子",
            "多大孩子",
            "宝宝能用",
            "新生儿",
            "幼猫",
            "小猫",
            "幼犬",
            "大型犬",
            "成猫",
            "成犬",
        ),
        ("适读年龄", "适用年龄", "适用"),
    ),
    (
        ("适合", "适用", "能用吗", "电磁炉", "燃气灶", "几个人", "几口人", "油性", "敏感肌", "肤质"),
        ("适用", "适用炉具", "肤质", "容量", "适用温度"),
    ),
    (("温度", "多冷", "零下", "暖和", "保暖", "冷不冷"), ("适用温度", "温度", "填充")),
    (("功率", "瓦数", "多少瓦", "费电", "耗电"), ("功率",)),
    (("噪音", "吵", "声音大", "分贝", "静音"), ("噪音",)),
    (
        ("尺寸", "多长", "多宽", "多高", "长宽", "规格", "多大的", "多大"),
        ("尺寸", "被套尺寸", "裤长", "规格"),
    ),
    (("版型", "宽松", "修身", "落肩"), ("版型",)),
    (("香型", "香味", "味道", "什么味", "香不香"), ("香型",)),
    (("表带", "换表带"), ("表带",)),
    (("轴",), ("轴体",)),
    (("几个键", "多少键", "几键", "键数", "多少个键"), ("键数",)),
    (("背光", "灯光", "rgb", "发光"), ("背光",)),
    (("热插拔",), ("热插拔",)),
    (("烘焙", "酸", "苦"), ("烘焙度",)),
    (("蛋白", "无谷", "谷物", "含谷", "喂多少", "喂食", "一天喂"), ("蛋白质", "无谷", "喂食建议")),
    (("有效期", "提现", "分次", "多次用", "怎么用"), ("有效期", "使用", "注意")),
    (("飞机", "登机", "高铁"), ("容量",)),
    (("防摔", "摔"), ("防摔",)),
    (("冲厕所", "冲马桶", "除臭", "臭"), ("可冲厕所", "除臭")),
    (("果径", "多大个", "个头"), ("果径",)),
    (("页数", "几页", "装帧", "精装", "内容", "讲什么"), ("页数", "装帧", "内容")),
    (("叠", "叠放"), ("可叠放",)),
    (("包含", "包括什么", "有什么东西", "里面有", "内含", "几件", "有哪些"), ("包含", "内含")),
    (("刷头", "替换"), ("刷头",)),
    (("模式", "档"), ("模式",)),
    (("吸管",), ("吸管",)),
    (("认证", "有机"), ("认证",)),
    (("品种",), ("品种",)),
    (("定时",), ("定时",)),
    (("加热", "ih", "电磁加热"), ("加热",)),
    (("内胆", "涂层", "不粘"), ("内胆", "材质")),
    (("款式", "中筒", "短袜"), ("款式",)),
)
SUMMARY_WORDS = (
    "怎么样",
    "咋样",
    "介绍",
    "详情",
    "参数",
    "好不好",
    "好用吗",
    "值得买",
    "是什么",
    "啥样",
    "配置",
)
ORDERED_WORDS = ("我买的", "我刚买的", "我下单的", "我订的", "我的订单", "买的那个", "买了个", "我买了")
_BUDGET = re.compile(r"(\d+(?:\.\d+)?)\s*(?:块钱|块|元|rmb)?\s*(?:以内|以下|之内|内|左右|上下|预算)")
_BUDGET_FIRST = re.compile(r"(?:预算|不超过|不到|低于|少于)\s*(\d+(?:\.\d+)?)")
_RANGE = re.compile(r"(\d+(?:\.\d+)?)\s*(?:-|~|到|至)\s*(\d+(?:\.\d+)?)\s*(?:块|元)?")
_HEIGHT = re.compile(r"(?<!\d)(1[4-9]\d)(?:\s*(?:cm|厘米|公分))?(?!\d)|1米([4-9]\d?)")


@dataclass(frozen=True)
class Budget:
    low: Decimal | None
    high: Decimal


def column_aspect(text: str) -> str | None:
    """The catalog column the question asks about (price, stock, size...), or None."""
    hay = compact(text)
    return next((aspect for aspect, words in COLUMN_ASPECTS if any(w in hay for w in words)), None)


def spec_keys_asked(text: str, product: Product) -> tuple[list[str], bool]:
    """The product's spec keys the question asks about, and whether it asks about a spec at all.

    A spec key named in the question comes first; then the everyday words of :data:`SPEC_WORDS`;
    then a word of a spec's value ("NFC", "洗碗机"). ``([], True)``: a spec the catalog lacks.
    """
    hay = compact(text)
    named = [key for key, _ in product.facts if compact(key) in hay]
    if named:
        return named, True
    asked = False
    keys: list[str] = []
    for words, candidates in SPEC_WORDS:
        if any(word in hay for word in words):
            asked = True
            keys += [key for key in candidates if product.spec(key) is not None and key not in keys]
    if keys:
        return keys, True
    for key, value in product.facts:
        for term in re.findall(r"[a-z0-9\-]{2,}|[\u4e00-\u9fff]{3,}", compact(value)):
            # a word of the value in the question: "nfc", or three characters of "洗热水澡"
            grams = [term] if term.isascii() else [term[i : i + 3] for i in range(len(term) - 2)]
            if any(gram in hay for gram in grams) and not term.isdigit():
                return [key], True
    shared = [(len(_pairs(key + value) & _pairs(hay)), key) for key, value in product.facts]
    best = max(shared, default=(0, ""))
    if best[0]:
        return [best[1]], True  # two characters of a fact in the question: "有酒精吗" and 无酒精
    return [], asked


# Two characters that say nothing about which fact a question is about.
_COMMON_PAIRS = frozenset(
    {"可以", "不可", "支持", "建议", "不能", "以上", "以下", "左右", "一个", "适合", "使用"}
)


def _pairs(text: str) -> set[str]:
    """The two-character runs of the Chinese words in ``text``, without the common ones."""
    words = re.findall(r"[\u4e00-\u9fff]{2,}", compact(text))
    return {word[i : i + 2] for word in words for i in range(len(word) - 1)} - _COMMON_PAIRS


def budget_in(text: str) -> Budget | None:
    """The price limit a recommendation question sets: "300以内", "预算500", "200到400元"."""
    hay = compact(text)
    if match := _RANGE.search(hay):
        low, high = sorted((Decimal(match[1]), Decimal(match[2])))
        return Budget(low, high)
    if match := _BUDGET_FIRST.search(hay) or _BUDGET.search(hay):
        return Budget(None, Decimal(match[1]))
    return None


def height_in(text: str) -> int | None:
    """A height in centimetres: "175", "175cm", "1米75"."""
    match = _HEIGHT.search(compact(text))
    if not match:
        return None
    if match[1]:
        return int(match[1])
    tail = match[2]
    return 100 + int(tail) * (10 if len(tail) == 1 else 1)


def option_named(text: str, product: Product) -> VariantOption | None:
    """The stock-holding variant value the question names (M码, 42, 黑色, iPhone 16 Pro), if any."""
    hay = compact(text)
    found: list[tuple[int, VariantOption]] = []
    for option in product.stock_options:
        value = compact(option.value)
        for match in re.finditer(re.escape(value), hay):
            start, end = match.span()
            before = hay[start - 1] if start else ""
            after = hay[end] if end < len(hay) else ""
            if value.isascii() and (
                (before.isascii() and before.isalnum()) or (after.isascii() and after.isalnum())
            ):
                continue  # "l" inside "xl", "16" inside "16pro"
            found.append((len(value), option))
    return max(found, key=lambda pair: pair[0])[1] if found else None


def asks_about_order(text: str) -> bool:
    """Whether the customer speaks of a product they bought ("我买的那个空气炸锅")."""
    hay = compact(text)
    return any(word in hay for word in ORDERED_WORDS)


# What is left of a question without its cue words names the thing asked about: "冰箱有现货吗" -> 冰箱.
_FILLERS = re.compile(
    r"你们|你家的?|店里|贵店|请问|我想|想要|想问|有没有|有木有|有|卖|吗|呢|啊|呀|么|嘛|的|这个|那个|这款|那款|一下|"
    r"怎么卖|怎么样|多少|能|可以|是|不|什么|啥|哪|几|还|现在|要|买|问|个|款|种|了|和|跟|给|吧|[\u4e00-\u9fff]{1,2}色|[a-z0-9]+码"
)


def names_a_thing(text: str) -> bool:
    """Whether the question, without its cue words, still names something ("小米手机多少钱")."""
    hay = compact(text)
    cues = [w for _, words in COLUMN_ASPECTS for w in words] + [w for ws, _ in SPEC_WORDS for w in ws]
    for word in sorted({*cues, *SUMMARY_WORDS}, key=len, reverse=True):
        hay = hay.replace(word, "")
    return len(re.findall(r"[\u4e00-\u9fff]", _FILLERS.sub("", hay))) >= 2


def wants_summary(text: str) -> bool:
    return any(word in compact(text) for word in SUMMARY_WORDS)
