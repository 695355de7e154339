"""The ``industry`` scheme kind: an industry track per customer (行业赛道).

A track is chosen from an industry code, from keywords in the customer's name (or any
text), or from a condition.  Matching runs in three passes, and the earliest pass that
matches decides: first the codes of every track (``codes``, compared with the
customer's ``code`` without case; a code also matches the longer hierarchical codes
below it, so ``C`` matches ``C34`` and ``C3411``, and the most specific matching code
wins, the earlier track on equal length), then the keywords of every track in order
(``keywords``, a case-insensitive substring of ``text``), then each track's ``when``.
A customer no track matches gets the ``fallback`` track (default ``general``), with a
reason naming what was missing.  Each track carries its pain points, talking points
and sales motion, shown in briefs.  ``preset: china-b2b`` supplies tracks for
government, finance, manufacturing, energy, education, healthcare and retail, with
GB/T 4754-2017 codes, Chinese and English keywords and bilingual playbooks: list
them by id and override any key per track.

Example::

    - id: track
      kind: industry
      label: {en: Industry track, zh: 行业赛道}
      preset: china-b2b
      code: industry
      text: name
      tracks:
        - government
        - finance
        - id: manufacturing
          keywords: [制造, 机械, factory]
          talking_points:
            - {en: Cut the cost per unit produced, zh: 降低单位生产成本}
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Callable, Mapping

from tierkit.kinds import (
    WHITESPACE, And, Bindings, Call, Compare, Concat, Defined, DType, Expr, FirstMatch, In, IrBuild, IsMissing, ListOf, Lit, Logic,
    LogicKind, Not, Pick, Reason, Ref, case, did_you_mean, hookimpl, holds, known, lit, logic_kind,
)

FALLBACK_ID = "general"
CONTENT_KEYS = ("strategy", "pain_points", "talking_points", "sales_motion")
MATCHED_BY = ("code", "keyword", "when", "fallback")
_CONTINUES = re.compile(r"[0-9.\-]+")
_CACHE_LIMIT = 100_000

LABEL_REF = {"$ref": "#/$defs/label"}
IDENTIFIER = {"type": "string", "pattern": "^[A-Za-z_][A-Za-z0-9_]*$"}


def _labels(title: str, description: str) -> dict:
    return {"type": "array", "items": LABEL_REF, "title": title, "description": description}


CONTENT_PROPERTIES = {
    "label": LABEL_REF,
    "tags": {"type": "array", "items": {"type": "string"}, "title": "Tags",
             "description": "Tags the outcome carries, e.g. compliance, security-first."},
    "strategy": {**LABEL_REF, "title": "Strategy", "description": "How to sell to this track, in one line."},
    "pain_points": _labels("Pain points", "What customers of this track worry about (bilingual labels)."),
    "talking_points": _labels("Talking points", "What to say to them (bilingual labels)."),
    "sales_motion": _labels("Sales motion", "How the sale runs: approvals, who decides, cycle length (bilingual labels)."),
}

TRACK = {
    "type": "object",
    "title": "Track",
    "description": "A track: its id, how it is recognised, and what to say.",
    "properties": {
        "id": {**IDENTIFIER, "title": "Track id", "description": "The label this track gives; a preset track's id to take its content."},
        **CONTENT_PROPERTIES,
        "codes": {
            "type": "array",
            "items": {"type": ["string", "integer"]},
            "title": "Industry codes",
            "description": "Codes of this track, compared without case; C also matches C34 and C3411.",
        },
        "keywords": {
            "type": "array",
            "items": {"type": "string", "minLength": 1},
            "title": "Keywords",
            "description": "Words that, found in the text (case-insensitive), put a customer in this track.",
        },
        "when": {"type": "string", "title": "Condition",
                 "description": "An expression; a customer no code or keyword placed goes here when it is true."},
    },
    "required": ["id"],
    "additionalProperties": False,
}

CONFIG_SCHEMA = {
    "type": "object",
    "properties": {
        "preset": {
            "enum": ["china-b2b"],
            "title": "Preset",
            "description": "Built-in track content: china-b2b has government, finance, manufacturing, energy, "
                           "education, healthcare, retail and general.",
        },
        "tracks": {
            "type": "array",
            "minItems": 1,
            "title": "Tracks",
            "description": "The tracks in priority order: a preset track's id, or a mapping (overriding a preset track's keys).",
            "items": {"anyOf": [IDENTIFIER, TRACK]},
        },
        "code": {"type": "string", "title": "Code expression",
                 "description": "The customer's industry code (a text, a number or a list of codes); default: industry."},
        "text": {"type": "string", "title": "Text expression",
                 "description": "The text keywords are looked for in; default: name."},
        "fallback": {
            "title": "Fallback track",
            "description": "The track of a customer no track matches: an id (the preset's content if any) or a mapping; default general.",
            "anyOf": [
                IDENTIFIER,
                {
                    "type": "object",
                    "properties": {
                        "id": {**IDENTIFIER, "title": "Track id", "description": "The label the fallback gives."},
                        **CONTENT_PROPERTIES,
                    },
                    "required": ["id"],
                    "additionalProperties": False,
                },
            ],
        },
    },
}


def _t(en: str, zh: str) -> dict:
    return {"en": en, "zh": zh}


# The presets' tags as a rep reads them; a ruleset's own tags get words from the scheme's labels:.
TAG_LABELS = {
    "compliance": _t("Compliance", "合规"), "long-approval": _t("Long approval", "审批周期长"),
    "security-first": _t("Security first", "安全优先"), "safety-first": _t("Safety first", "安全生产优先"),
    "reliability": _t("Reliability", "稳定可靠"), "cost-first": _t("Cost first", "成本优先"),
    "budget-cycle": _t("Budget cycle", "预算周期"), "patient-safety": _t("Patient safety", "患者安全"),
    "speed": _t("Speed", "速度"),
}

PRESETS: dict[str, dict[str, dict]] = {
    "china-b2b": {
        "government": {
            "label": _t("Government", "政府"),
            "tags": ["compliance", "long-approval"],
            "codes": ["government", "S"],
            "keywords": ["人民政府", "政府", "财政局", "税务局", "公安", "法院", "检察院", "管理局", "委员会", "街道办",
                         "government", "ministry", "bureau", "municipal"],
            "strategy": _t("Compliance first; plan for a long approval cycle", "合规优先，为漫长的审批流程做好准备"),
            "pain_points": [
                _t("Compliance and audit risk", "合规与审计风险"),
                _t("Budgets fixed a year ahead", "预算提前一年锁定"),
                _t("Long approval and tender processes", "审批和招标流程长"),
                _t("Data security and localisation (信创)", "数据安全与信创国产化要求"),
            ],
            "talking_points": [
                _t("Qualifications, certifications and government references", "资质、认证与政府客户案例"),
                _t("A procurement path that fits the tender rules", "符合招标规定的采购路径"),
                _t("Stable long-term service and local support", "长期稳定的服务与本地化支持"),
            ],
            "sales_motion": [
                _t("Enter the budget plan before the fiscal year", "在财年前进入预算规划"),
                _t("Map the approval chain: department, finance, leadership", "梳理审批链：业务部门、财政、分管领导"),
                _t("Public tender; prepare documents early", "公开招标，提前准备标书"),
            ],
        },
        "finance": {
            "label": _t("Finance", "金融"),
            "tags": ["security-first"],
            "codes": ["finance", "J"],
            "keywords": ["银行", "保险", "证券", "信托", "基金", "期货", "金融", "信用社", "bank", "insurance",
                         "securities", "financial"],
            "strategy": _t("Security first: prove safety, stability and regulatory fit", "安全第一：证明安全、稳定与监管合规"),
            "pain_points": [
                _t("Security and regulatory compliance", "安全与监管合规"),
                _t("Zero tolerance for downtime", "对停机零容忍"),
                _t("Vendor risk reviews", "供应商风险审查"),
            ],
            "talking_points": [
                _t("Security certifications and audit results", "安全认证与审计结果"),
                _t("Availability record and disaster recovery", "可用性记录与灾备能力"),
                _t("References from other financial institutions", "其他金融机构的案例"),
            ],
            "sales_motion": [
                _t("Pass the security and risk review first", "先通过安全与风控评审"),
                _t("Pilot in one branch or business line", "在一家分行或一条业务线试点"),
                _t("Centralised procurement at head office", "总行/总部集中采购"),
            ],
        },
        "energy": {
            "label": _t("Energy", "能源"),
            "tags": ["safety-first", "reliability"],
            "codes": ["energy", "B06", "B07", "C25", "D44", "D45"],
            "keywords": ["电网", "电力", "能源", "石油", "石化", "燃气", "煤炭", "煤业", "光伏", "风电", "核电",
                         "energy", "petro", "power grid", "electric power", "utilities"],
            "strategy": _t("Safety and reliability first; sell uptime over the asset's life", "安全可靠优先，卖全生命周期的稳定运行"),
            "pain_points": [
                _t("Safe operation and accident liability", "安全生产与事故责任"),
                _t("Unplanned outages", "非计划停机"),
                _t("Energy-transition and emission targets", "能源转型与减排目标"),
            ],
            "talking_points": [
                _t("Reliability data and field references", "可靠性数据与现场案例"),
                _t("Lifecycle cost and maintenance plans", "全生命周期成本与运维方案"),
                _t("Support for decarbonisation goals", "助力双碳目标"),
            ],
            "sales_motion": [
                _t("Qualify on the group's supplier list", "进入集团合格供应商名录"),
                _t("Framework agreements, then site orders", "先签框架协议，再获取场站订单"),
                _t("Technical exchanges with plant engineers", "与电厂/场站工程师技术交流"),
            ],
        },
        "manufacturing": {
            "label": _t("Manufacturing", "制造业"),
            "tags": ["cost-first"],
            "codes": ["manufacturing", "C"],
            "keywords": ["制造", "机械", "工业", "重工", "装备", "电子", "汽车", "钢铁", "化工", "材料", "工厂",
                         "manufacturing", "industrial", "machinery", "factory", "steel"],
            "strategy": _t("Cost first: show the return in money and output", "成本优先：用金额和产能说话"),
            "pain_points": [
                _t("Cost pressure and thin margins", "成本压力大、利润薄"),
                _t("Production downtime", "停产停线"),
                _t("Delivery lead times", "交付周期"),
            ],
            "talking_points": [
                _t("Payback period and total cost of ownership", "投资回收期与总拥有成本"),
                _t("Output, yield and energy savings", "产能、良率与节能"),
                _t("Fast delivery and spare parts on hand", "快速交付与备件保障"),
            ],
            "sales_motion": [
                _t("Win the plant manager and the engineers", "争取厂长和工程师的认可"),
                _t("Trial on one line, then roll out", "单条产线试用后推广"),
                _t("Price negotiation with purchasing at the end", "最后与采购部议价"),
            ],
        },
        "education": {
            "label": _t("Education", "教育"),
            "tags": ["budget-cycle"],
            "codes": ["education", "P"],
            "keywords": ["大学", "学院", "学校", "中学", "小学", "幼儿园", "教育", "university", "college", "school",
                         "academy", "education"],
            "strategy": _t("Follow the academic and budget calendar; win the faculty", "跟随学年与预算节奏，争取院系支持"),
            "pain_points": [
                _t("Tight budgets tied to the school year", "预算紧且与学年挂钩"),
                _t("Procurement rules like the public sector", "采购规则与政府类似"),
                _t("Ease of use for teachers and students", "师生易用性"),
            ],
            "talking_points": [
                _t("Teaching and research outcomes", "教学与科研成果"),
                _t("Education discounts and training", "教育优惠与培训"),
                _t("Other schools' references", "其他院校案例"),
            ],
            "sales_motion": [
                _t("Start with the department that will use it", "从使用院系切入"),
                _t("Time proposals for the budget window", "在预算窗口期提交方案"),
                _t("Tender through the school's purchasing office", "经学校采购办招标"),
            ],
        },
        "healthcare": {
            "label": _t("Healthcare", "医疗卫生"),
            "tags": ["compliance", "patient-safety"],
            "codes": ["healthcare", "Q84"],
            "keywords": ["医院", "卫生", "医疗", "诊所", "疾控", "妇幼", "hospital", "clinic", "health", "medical"],
            "strategy": _t("Patient safety and compliance first; clinicians decide", "患者安全与合规优先，临床科室有话语权"),
            "pain_points": [
                _t("Patient safety and medical regulation", "患者安全与医疗监管"),
                _t("Cost control under insurance reform", "医保改革下的控费"),
                _t("Staff workload", "医护人员工作负担"),
            ],
            "talking_points": [
                _t("Registrations, certifications and clinical evidence", "注册证、认证与临床证据"),
                _t("Efficiency for clinical staff", "提升临床效率"),
                _t("Hospital references of the same grade", "同等级医院案例"),
            ],
            "sales_motion": [
                _t("Win the clinical department, then equipment and purchasing", "先争取临床科室，再到设备科和采购"),
                _t("Hospital committee approval", "院内委员会审批"),
                _t("Tender or centralised purchasing", "招标或集中采购"),
            ],
        },
        "retail": {
            "label": _t("Retail", "零售"),
            "tags": ["speed", "cost-first"],
            "codes": ["retail", "F52"],
            "keywords": ["超市", "商场", "百货", "零售", "便利店", "连锁", "商贸", "retail", "supermarket",
                         "department store", "convenience store"],
            "strategy": _t("Speed and unit economics: quick wins per store", "速度与单店经济：按门店快速见效"),
            "pain_points": [
                _t("Thin margins and price competition", "利润薄、价格竞争激烈"),
                _t("Seasonal peaks", "季节性高峰"),
                _t("Staff turnover at stores", "门店人员流动大"),
            ],
            "talking_points": [
                _t("Return per store, fast", "单店回报快"),
                _t("Easy rollout across stores", "易于多门店复制"),
                _t("Flexible payment terms", "灵活的付款条件"),
            ],
            "sales_motion": [
                _t("Pilot in a few stores", "在少数门店试点"),
                _t("Decision at headquarters, rollout by region", "总部决策，按区域推广"),
                _t("Short cycle; act before the peak season", "周期短，赶在旺季前落地"),
            ],
        },
        "general": {
            "label": _t("General", "通用"),
            "tags": [],
            "strategy": _t("Find the customer's industry and main concern first", "先弄清客户所属行业与主要关切"),
            "pain_points": [_t("Unknown: ask in the first meeting", "未知：首次拜访时了解")],
            "talking_points": [
                _t("Company strengths and references", "公司实力与客户案例"),
                _t("Questions about their business and goals", "了解其业务与目标的提问"),
            ],
            "sales_motion": [_t("Discovery meeting, then a tailored proposal", "需求调研，再给出定制方案")],
        },
    }
}

TEMPLATES = {
    "en": {
        "industry.code": "{field:say} {value} matches code {track_code} → {track:label}",
        "industry.keyword": "{field:say} contains “{keyword}” → {track:label}",
        "industry.when": "{when:say} → {track:label}",
        "industry.code_none": "{field:say} {value} matches no track's code",
        "industry.code_missing": "{field:say} is missing",
        "industry.code_missing_inputs": "{field:say} is missing ({missing:names})",
        "industry.text_none": "{field:say} contains no track's keyword",
        "industry.text_missing": "{field:say} is missing",
        "industry.text_missing_inputs": "{field:say} is missing ({missing:names})",
        "industry.when_none": "no track's condition holds",
        "industry.fallback": "no track matched → {track:label}",
    },
    "zh": {
        "industry.code": "{field:say} {value} 匹配代码 {track_code} → {track:label}",
        "industry.keyword": "{field:say} 包含“{keyword}” → {track:label}",
        "industry.when": "{when:say} → {track:label}",
        "industry.code_none": "{field:say} {value} 不匹配任何赛道的代码",
        "industry.code_missing": "{field:say} 缺失",
        "industry.code_missing_inputs": "{field:say} 缺失（{missing:names}）",
        "industry.text_none": "{field:say} 不含任何赛道的关键词",
        "industry.text_missing": "{field:say} 缺失",
        "industry.text_missing_inputs": "{field:say} 缺失（{missing:names}）",
        "industry.when_none": "没有赛道的条件成立",
        "industry.fallback": "未匹配任何赛道 → {track:label}",
    },
}

STR, INT, FLOAT, BOOL = DType.STR, DType.INT, DType.FLOAT, DType.BOOL
_BELOW = r"[0-9.\-]*"  # what continues a code into the codes below it (C → C34, C3411)
_SPECIAL = frozenset("\\.^$|?*+()[]{}")
_SEPARATOR = "\uffff"  # joins a list's codes to fold them at once: NFKC and case folding keep it
_SPACES = "[" + WHITESPACE + "]*"


def fold(text: str) -> str:
    """Text as compared: full-width forms made plain, case folded, outer spaces dropped."""
    return unicodedata.normalize("NFKC", text).casefold().strip()


def code_pattern(track_code: str) -> str:
    """The pattern of a folded code equal to ``track_code`` or below it (hierarchical
    codes), written in what Python, RE2 and Java read alike."""
    return "".join("\\" + char if char in _SPECIAL else char for char in track_code) + _BELOW


def code_matches(track_code: str, code: str) -> bool:
    """Equal, or ``code`` continues ``track_code`` with digits (hierarchical codes)."""
    return re.fullmatch(code_pattern(track_code), code) is not None


def _call(name: str, *args, dtype: DType = STR) -> Call:
    return Call(name, tuple(args), dtype)


def _folded(let: Bindings, name: str, text) -> tuple[Ref, Ref]:
    """``text`` in NFKC, and folded as :func:`fold` folds it, each step a binding."""
    normal = let(f"{name}_nfkc", _call("nfkc", let(f"{name}_text", text)))
    return normal, let(f"{name}_key", _call("strip", _call("casefold", normal)))


def _code_input(let: Bindings, compiled) -> tuple[Expr, Expr, Expr, Callable[[str], str]]:
    """The customer's code as compared (its key), as reasons show it, and the pattern of
    each track code against the key.  A number is written as Python's ``str`` writes it
    (whole numbers without ``.0``); one of 1e38 or more in size is no code.  A list's
    codes are joined and folded at once, and a track code matches one of them."""
    value, dtype = compiled.code, compiled.code.dtype
    if dtype is DType.LIST:
        key = let("code_key", _call("casefold", let("code_nfkc", _call("nfkc", let("code_text", _call("join", value, lit(_SEPARATOR)))))))
        filled = _call("matches", key, lit(f"(?s).*[^{WHITESPACE}{_SEPARATOR}].*"), dtype=BOOL)
        items = f"(?s)(?:.*{_SEPARATOR})?{_SPACES}"
        return key, filled, _call("join", value, lit(", ")), lambda code: f"{items}{code_pattern(code)}{_SPACES}(?:{_SEPARATOR}.*)?"
    if dtype is STR:
        normal, key = _folded(let, "code", value)
        return key, Compare("!=", key, lit("")), _call("strip", normal), code_pattern
    if dtype is INT:
        text = let("code_text", Concat((value,)))
        return text, known(text), text, code_pattern
    if dtype is FLOAT:
        x = let("code_number", value)
        text = let("code_text", case((_call("isnan", x, dtype=BOOL), lit("nan")), (Compare("==", x, lit(math.inf)), lit("inf")),
                                     (Compare("==", x, lit(-math.inf)), lit("-inf")),
                                     (Compare(">=", _call("abs", x, dtype=FLOAT), lit(1e38)), Lit(None, STR)),
                                     default=Concat((x,))))
        return text, known(text), text, code_pattern
    missing = Lit(None, STR)
    return missing, lit(False), missing, code_pattern


def _text_input(let: Bindings, compiled) -> Ref:
    """The text keywords are looked for in, folded (a list's texts joined by spaces)."""
    value = compiled.code
    if value.dtype is DType.LIST:
        value = _call("join", value, lit(" "))
    elif value.dtype is not STR:
        value = Lit(None, STR)
    return _folded(let, "text", value)[1]


def define(build: IrBuild) -> Defined | None:
    """The track is the most specific matching code's (the earlier track, then the
    earlier code, on equal length), else the first keyword's in track order, else the
    first ``when`` that holds, else the fallback; each pass is one decision table
    (``FirstMatch``) whose position picks the track.  A fallback names what was missing
    or matched nothing, input by input."""
    tracks, fallback, code_expr, text_expr, whens = _setup(build)
    if not _can_match(build, tracks, code_expr, text_expr, whens):
        return None
    if code_expr is not None:
        _check_enum_codes(build, tracks, code_expr)
    if build.failed:
        return None
    let, hits, reasons, readers = Bindings(), [], [], {}
    if code_expr is not None:
        key, code_known, code_shown, pattern = _code_input(let, code_expr)
        code_known = holds(code_known)
        codes = sorted(((len(code), index, number, code) for index, t in enumerate(tracks) for number, code in enumerate(t["codes"])),
                       key=lambda item: (-item[0], item[1], item[2]))
        tests = tuple(_call("matches", key, lit(pattern(code)), dtype=BOOL) for _length, _index, _number, code in codes)
        hit = let("code_hit", FirstMatch(tests, Lit(None, INT)))
        hits.append(("code", hit, [index for _l, index, _n, _c in codes]))
    if text_expr is not None:
        text = _text_input(let, text_expr)
        words = [(index, word) for index, t in enumerate(tracks) for word in t["keywords"]]
        hit = let("keyword_hit", FirstMatch(tuple(_call("contains", text, lit(word), dtype=BOOL) for _i, word in words),
                                            Lit(None, INT)))
        hits.append(("keyword", hit, [index for index, _word in words]))
    if whens:
        hit = let("when_hit", FirstMatch(tuple(condition.code for _index, condition in whens), Lit(None, INT)))
        hits.append(("when", hit, [index for index, _condition in whens]))
    track = let("track", case(*((known(hit), Pick(hit, tuple(map(lit, indices)), lit(-1))) for _by, hit, indices in hits),
                              default=lit(-1)))
    by = let("matched_by", case(*((known(hit), lit(how)) for how, hit, _indices in hits), default=lit("fallback")))
    label = let("label", Pick(track, tuple(lit(t["id"]) for t in tracks), lit(fallback["id"])))
    entries = [*tracks, fallback]
    tags = (Pick(track, tuple(_texts(t.get("tags", ())) for t in tracks), _texts(fallback.get("tags", ())))
            if any(t.get("tags") for t in entries) else None)

    def matched(how: str) -> Expr:
        return Compare("==", by, lit(how))

    def field(compiled) -> tuple[str, Lit]:
        return ("field", lit(compiled.source.strip()))

    fell = matched("fallback")
    if code_expr is not None:
        code_hit = hits[0][1]
        shown = Pick(code_hit, tuple(lit(tracks[index]["_shown_codes"][number]) for _l, index, number, _c in codes), Lit(None, STR))
        reasons.append(Reason("industry.code", (("track", label), ("matched_by", lit("code")), ("track_code", shown),
                                                ("value", code_shown), field(code_expr)), matched("code")))
    if text_expr is not None:
        keyword_hit = hits[1 if code_expr is not None else 0][1]
        shown = Pick(keyword_hit, tuple(lit(tracks[index]["_shown_keywords"][tracks[index]["keywords"].index(word)])
                                        for index, word in words), Lit(None, STR))
        reasons.append(Reason("industry.keyword", (("track", label), ("matched_by", lit("keyword")), ("keyword", shown),
                                                   field(text_expr)), matched("keyword")))
    if whens:
        shown = Pick(hits[-1][1], tuple(lit(tracks[index]["when"]) for index, _condition in whens), Lit(None, STR))
        reasons.append(Reason("industry.when", (("track", label), ("matched_by", lit("when")), ("when", shown)), matched("when")))
    if code_expr is not None:
        reasons += _missing(build, let, readers, "code", code_expr, And((fell, Not(code_known))))
        reasons.append(Reason("industry.code_none", (field(code_expr), ("value", code_shown)), And((fell, code_known))))
    if text_expr is not None:
        reasons += _missing(build, let, readers, "text", text_expr, And((fell, IsMissing(text_expr.code))))
        reasons.append(Reason("industry.text_none", (field(text_expr),), And((fell, known(text_expr.code)))))
    if whens:
        reasons.append(Reason("industry.when_none", (), fell))
    reasons.append(Reason("industry.fallback", (("track", lit(fallback["id"])), ("matched_by", lit("fallback")),
                                                 ("fallback", lit(True))), fell))
    logic = Logic(build.id, let.lets, label, Lit(None, FLOAT), (("matched_by", by),), tuple(reasons), tags=tags)
    labels = {entry["id"]: entry.get("label", entry["id"]) for entry in entries}
    about = {entry["id"]: {key: entry[key] for key in CONTENT_KEYS if entry.get(key)} for entry in entries}
    return Defined(logic, labels, readers=readers, finish=_finish, about=about, tag_labels=TAG_LABELS)


def _missing(build: IrBuild, let: Bindings, readers: dict, name: str, compiled, when: Expr) -> list[Reason]:
    """The reason for a missing input: the blank inputs behind it named, unless they
    are just the input itself (a field, or a derived feature none of whose inputs is
    blank)."""
    mask, read = build.blank_inputs(compiled)
    blank = let(f"{name}_blank", mask)
    readers[blank] = read
    source = compiled.source.strip()
    plain = In(blank, (lit(0), lit(1))) if compiled.reads == {source} else lit(False)
    params = (("field", lit(source)), ("missing", blank))
    return [Reason(f"industry.{name}_missing", params, And((when, plain))),
            Reason(f"industry.{name}_missing_inputs", params, And((when, Not(plain))))]


def _finish(records: list[dict], outcome: tuple) -> None:
    """The fallback's record names every input found missing before it."""
    if records and records[-1]["code"] == "industry.fallback":
        records[-1]["missing_fields"] = [name for record in records[:-1] for name in record.get("missing", ())]


def _texts(items) -> ListOf:
    return ListOf(tuple(lit(str(item)) for item in items), STR)


def _setup(build):
    """What the logic reads of the config: the tracks (preset content merged in), the
    fallback, the code and text inputs, and the tracks' ``when`` conditions."""
    preset = PRESETS.get(build.value("preset"), {})
    tracks, user_codes, user_keywords = _tracks(build, preset)
    fallback = _fallback(build, preset, {track["id"] for track in tracks})
    code_expr = _input(build, "code", "industry", any(t.get("codes") for t in tracks), user_codes)
    text_expr = _input(build, "text", "name", any(t.get("keywords") for t in tracks), user_keywords)
    whens = [(index, build.condition("tracks", t["_at"], "when")) for index, t in enumerate(tracks) if t.get("when")]
    return tracks, fallback, code_expr, text_expr, whens


def _can_match(build, tracks, code_expr, text_expr, whens) -> bool:
    """Whether some track can match; an error says why not when tracks are given."""
    if tracks and (code_expr is not None or text_expr is not None or whens):
        return True
    if tracks:
        build.error("no track can match: nothing to compare codes or keywords with, and no track has a when",
                    "tracks", hint="add the fields industry or name, or set code / text")
    return False


def _tracks(build: IrBuild, preset: Mapping[str, dict]) -> tuple[list[dict], bool, bool]:
    """The tracks with preset content merged in; whether any codes/keywords are the user's own."""
    entries = build.value("tracks")
    if entries is None:
        if not preset:
            build.error("an industry scheme needs tracks", hint="list tracks, or take a preset's with preset: china-b2b")
            return [], False, False
        entries = [name for name in preset if name != FALLBACK_ID]
    tracks, seen, user_codes, user_keywords = [], set(), False, False
    for index, entry in enumerate(entries):
        own = {"id": entry} if isinstance(entry, str) else dict(entry)
        track_id = own["id"]
        base = preset.get(track_id)
        if base is None and isinstance(entry, str):
            hint = "set preset: china-b2b" if not preset else did_you_mean(track_id, [n for n in preset if n != FALLBACK_ID])
            build.error(f"track {track_id!r} has no content: it is not a preset track; give it codes, keywords or when",
                        "tracks", index, hint=hint)
            continue
        if track_id in seen:
            build.error(f"track {track_id!r} is listed twice", "tracks", index)
            continue
        seen.add(track_id)
        user_codes = user_codes or bool(own.get("codes"))
        user_keywords = user_keywords or bool(own.get("keywords"))
        track = {**(base or {}), **own, "_at": index}
        codes = [str(code).strip() for code in track.get("codes", ()) if fold(str(code))]
        keywords = [word.strip() for word in track.get("keywords", ()) if fold(word)]
        track["codes"], track["_shown_codes"] = [fold(code) for code in codes], codes
        track["keywords"], track["_shown_keywords"] = [fold(word) for word in keywords], keywords
        if not (track["codes"] or track["keywords"] or track.get("when")):
            build.error(f"track {track_id!r} has no codes, keywords or when, so it can never match", "tracks", index)
            continue
        tracks.append(track)
    return tracks, user_codes, user_keywords


def _fallback(build: IrBuild, preset: Mapping[str, dict], track_ids: set[str]) -> dict:
    entry = build.value("fallback", default=FALLBACK_ID)
    own = {"id": entry} if isinstance(entry, str) else dict(entry)
    base = preset.get(own["id"]) or (PRESETS["china-b2b"][FALLBACK_ID] if own["id"] == FALLBACK_ID else {})
    fallback = {**base, **own}
    for key in ("codes", "keywords", "when"):
        fallback.pop(key, None)
    if fallback["id"] in track_ids:
        build.error(f"the fallback {fallback['id']!r} is also a track", "fallback",
                    hint="the fallback is for customers no track matches; give it another id")
    return fallback


def _input(build: IrBuild, key: str, default_name: str, needed: bool, user_written: bool):
    """The compiled ``code`` or ``text`` expression, or None when nothing uses it or it cannot be had."""
    if not needed:
        if build.value(key) is not None:
            build.warn(f"{key} is not used: no track has {'codes' if key == 'code' else 'keywords'}", key)
        return None
    if build.value(key) is not None:
        return build.expression(key, expect=("string", "integer", "number", "list") if key == "code" else ("string", "list"))
    if default_name in build.scope:
        return build.expression(key, source=default_name)
    if user_written:
        build.error(f"tracks have {'codes' if key == 'code' else 'keywords'} but there is no {default_name!r} to compare them with",
                    "tracks", hint=f"set {key}: to an expression, or add a field {default_name!r}")
    return None


def _check_enum_codes(build: IrBuild, tracks: list[dict], code_expr) -> None:
    """``codes: [goverment]`` against an enum field can never match: say so."""
    symbol = build.scope.get(code_expr.source.strip()) if code_expr.source else None
    values = getattr(symbol, "values", ()) or ()
    if not values:
        return
    folded = {fold(value) for value in values}
    entries = build.value("tracks") or []
    for index, entry in enumerate(entries):
        if not isinstance(entry, Mapping) or not entry.get("codes"):
            continue
        for number, code in enumerate(entry["codes"]):
            key = fold(str(code))
            if not any(code_matches(key, value) for value in folded):
                build.warn(f"code {code!r} is not a value of {code_expr.source} ({', '.join(values)}), so it never matches",
                           "tracks", index, "codes", number, hint=did_you_mean(str(code), values))



@hookimpl
def tierkit_scheme_kinds(register):
    register(logic_kind("industry", __doc__, CONFIG_SCHEMA, LogicKind(define, TEMPLATES, attributes=(("matched_by", "string"),))))
