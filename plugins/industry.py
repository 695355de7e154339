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
from collections.abc import Mapping
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from tierkit.build import CompiledScheme, SchemeBuild
from tierkit.expr import did_you_mean
from tierkit.hookspecs import hookimpl
from tierkit.labels import localize
from tierkit.registry import SchemeKind
from tierkit.words import Vocabulary

if TYPE_CHECKING:
    from tierkit.sqlbuild import SqlBuild

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

WORDS = {
    "en": {
        "code": "{field} {value} matches code {code} → {track}",
        "keyword": "{field} contains “{keyword}” → {track}",
        "when": "{when} → {track}",
        "code_none": "{field} {value} matches no track's code",
        "code_missing": "{field} is missing{fields}",
        "text_none": "{field} contains no track's keyword",
        "text_missing": "{field} is missing{fields}",
        "when_none": "no track's condition holds",
        "fallback": "no track matched → {track}",
    },
    "zh": {
        "code": "{field} {value} 匹配代码 {code} → {track}",
        "keyword": "{field} 包含“{keyword}” → {track}",
        "when": "{when} → {track}",
        "code_none": "{field} {value} 不匹配任何赛道的代码",
        "code_missing": "{field} 缺失{fields}",
        "text_none": "{field} 不含任何赛道的关键词",
        "text_missing": "{field} 缺失{fields}",
        "when_none": "没有赛道的条件成立",
        "fallback": "未匹配任何赛道 → {track}",
    },
}


def fold(text: str) -> str:
    """Text as compared: full-width forms made plain, case folded, outer spaces dropped."""
    return unicodedata.normalize("NFKC", text).casefold().strip()


def code_key(value: Any) -> str | tuple | None:
    """A customer's code as compared: folded text, or a tuple of them for a list."""
    if value is None:
        return None
    if isinstance(value, (list, tuple)):
        keys = tuple(k for k in (code_key(item) for item in value) if isinstance(k, str) and k)
        return keys or None
    if isinstance(value, bool):
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    key = fold(str(value))
    return key or None


def _display(value: Any) -> str | tuple:
    """A customer's code as reasons show it."""
    if isinstance(value, (list, tuple)):
        return tuple(str(item) for item in value if item is not None)
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return unicodedata.normalize("NFKC", str(value)).strip()


def code_matches(track_code: str, code: str) -> bool:
    """Equal, or ``code`` continues ``track_code`` with digits (hierarchical codes)."""
    return code == track_code or (code.startswith(track_code) and bool(_CONTINUES.fullmatch(code[len(track_code):])))


def text_of(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, (list, tuple)):
        value = " ".join(str(item) for item in value if item is not None)
    return fold(str(value))


def _setup(build):
    """What both back ends read of the config: the tracks (preset content merged in), the
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


def compile_industry(build: SchemeBuild) -> CompiledScheme:
    tracks, fallback, code_expr, text_expr, whens = _setup(build)
    if not _can_match(build, tracks, code_expr, text_expr, whens):
        return CompiledScheme(explain=lambda outcome, lang: [], labels={})
    if code_expr is not None:
        _check_enum_codes(build, tracks, code_expr)

    outcomes = [(track["id"], None, tuple(track.get("tags", ())), None) for track in tracks]
    out = build.outcome.local
    lines: list[str] = []
    code_local = text_local = "None"
    if code_expr is not None:
        code_local = build.temp()
        lines.append(f"{code_local} = {build.constant(_code_matcher(tracks, outcomes))}({code_expr.code})")
        lines.append(f"{out} = {code_local}[0]")
    else:
        lines.append(f"{out} = None")
    if text_expr is not None:
        text_local = build.temp()
        lines += [f"if {out} is None:",
                  f"    {text_local} = {text_expr.code}",
                  f"    {out} = {build.constant(_keyword_matcher(tracks, outcomes))}({text_local})"]
    fall = build.constant(_fallback_outcome(fallback, code_expr is not None, text_expr is not None))
    code_arg = f"{code_local}[1]" if code_expr is not None else "None"
    rest = []
    for position, (index, condition) in enumerate(whens):
        keyword = "if" if position == 0 else "elif"
        constant = build.constant((*outcomes[index][:3], ("when", index, None, None, False)))
        rest += [f"{keyword} {condition.code}:", f"    {out} = {constant}"]
    code_blank = f"{build.missing_names(code_expr)} if {code_arg} is None else ()" if code_expr is not None else "()"
    text_blank = f"{build.missing_names(text_expr)} if {text_local} is None else ()" if text_expr is not None else "()"
    fallback_call = f"{fall}({code_arg}, {text_local} is None, {code_blank}, {text_blank})"
    rest += ["else:", f"    {out} = {fallback_call}"] if rest else [f"{out} = {fallback_call}"]
    lines += [f"if {out} is None:"] + [f"    {line}" for line in rest]
    build.row(lines, [build.outcome])

    labels = {track["id"]: track.get("label", track["id"]) for track in tracks}
    labels[fallback["id"]] = fallback.get("label", fallback["id"])
    about = {entry["id"]: {key: entry[key] for key in CONTENT_KEYS if entry.get(key)} for entry in [*tracks, fallback]}
    return CompiledScheme(
        explain=_explainer(tracks, fallback, code_expr, text_expr, build.vocabulary),
        labels=labels,
        about=about,
        tag_labels=TAG_LABELS,
    )


def _tracks(build: SchemeBuild, preset: Mapping[str, dict]) -> tuple[list[dict], bool, bool]:
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


def _fallback(build: SchemeBuild, preset: Mapping[str, dict], track_ids: set[str]) -> dict:
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


def _input(build: SchemeBuild, key: str, default_name: str, needed: bool, user_written: bool):
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


def _check_enum_codes(build: SchemeBuild, tracks: list[dict], code_expr) -> None:
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


def _code_matcher(tracks: list[dict], outcomes: list[tuple]):
    """``match(value) -> (outcome or None, the code as shown)``, memoised per distinct code."""
    codes = sorted(
        ((len(code), index, number, code) for index, t in enumerate(tracks) for number, code in enumerate(t["codes"])),
        key=lambda item: (-item[0], item[1], item[2]),
    )
    cache: dict = {}
    missing = (None, None)

    def match(value):
        if value is None:
            return missing
        key = code_key(value)
        if key is None:
            return missing
        found = cache.get(key)
        if found is None:
            keys = key if isinstance(key, tuple) else (key,)
            shown = _display(value)
            found = (None, shown)
            for _length, index, number, code in codes:
                if any(code_matches(code, k) for k in keys):
                    found = ((*outcomes[index][:3], ("code", index, number, shown, False)), shown)
                    break
            if len(cache) < _CACHE_LIMIT:
                cache[key] = found
        return found

    return match


def _keyword_matcher(tracks: list[dict], outcomes: list[tuple]):
    words = [
        (word, (*outcomes[index][:3], ("keyword", index, number, None, False)))
        for index, t in enumerate(tracks)
        for number, word in enumerate(t["keywords"])
    ]

    def match(value):
        text = text_of(value)
        if not text:
            return None
        for word, outcome in words:
            if word in text:
                return outcome
        return None

    return match


def _fallback_outcome(fallback: dict, uses_code: bool, uses_text: bool):
    """The fallback's outcome for a code (or none), whether the text was missing, and
    the blank inputs behind a missing code and a missing text (its detail's last two)."""
    tags = tuple(fallback.get("tags", ()))
    cache: dict = {}

    def outcome(key, text_missing: bool, code_blank: tuple, text_blank: tuple):
        given = (key, text_missing, code_blank, text_blank)
        found = cache.get(given)
        if found is None:
            found = (fallback["id"], None, tags, ("fallback", -1, None, key, bool(text_missing and uses_text), code_blank, text_blank))
            if len(cache) < _CACHE_LIMIT:
                cache[given] = found
        return found

    return outcome


def _shown(key) -> str:
    return ", ".join(key) if isinstance(key, tuple) else str(key)


def _explainer(tracks: list[dict], fallback: dict, code_expr, text_expr, vocabulary: Vocabulary):
    def field(expr, lang: str) -> str:
        """The input as a rep reads it: its field's label, or the expression in words."""
        return vocabulary.say(expr.source.strip(), lang) if expr is not None else ""

    def which(expr, blank: list[str], lang: str) -> str:
        """The blank inputs behind a missing input, unless the input is just that field."""
        if blank == [expr.source.strip()] or not blank:
            return ""
        return f" ({vocabulary.names(blank, lang)})" if lang != "zh" else f"（{vocabulary.names(blank, lang)}）"
    has_when = any(track.get("when") for track in tracks)

    def explain(outcome: tuple, lang: str) -> list[dict]:
        words = WORDS.get(lang, WORDS["en"])
        label, _score, _tags, (matched_by, index, number, key, text_missing, *blanks) = outcome
        if matched_by != "fallback":
            track = tracks[index]
            name = localize(track.get("label", track["id"]), lang)
            if matched_by == "code":
                code = track["_shown_codes"][number]
                return [{"track": label, "matched_by": "code", "code": code, "value": _shown(key),
                         "text": words["code"].format(field=field(code_expr, lang), value=_shown(key), code=code, track=name)}]
            if matched_by == "keyword":
                keyword = track["_shown_keywords"][number]
                return [{"track": label, "matched_by": "keyword", "keyword": keyword,
                         "text": words["keyword"].format(field=field(text_expr, lang), keyword=keyword, track=name)}]
            return [{"track": label, "matched_by": "when", "when": track["when"],
                     "text": words["when"].format(when=vocabulary.say(track["when"], lang), track=name)}]
        reasons, missing = [], []
        code_blank, text_blank = (list(blank) for blank in blanks)
        if code_expr is not None:
            if key is None:
                blank = code_blank or sorted(code_expr.reads)
                missing += blank
                reasons.append({"missing": blank,
                                "text": words["code_missing"].format(field=field(code_expr, lang), fields=which(code_expr, blank, lang))})
            else:
                reasons.append({"value": _shown(key), "text": words["code_none"].format(field=field(code_expr, lang), value=_shown(key))})
        if text_expr is not None:
            if text_missing:
                blank = text_blank or sorted(text_expr.reads)
                missing += blank
                reasons.append({"missing": blank,
                                "text": words["text_missing"].format(field=field(text_expr, lang), fields=which(text_expr, blank, lang))})
            else:
                reasons.append({"text": words["text_none"].format(field=field(text_expr, lang))})
        if has_when:
            reasons.append({"text": words["when_none"]})
        name = localize(fallback.get("label", fallback["id"]), lang)
        reasons.append({"track": label, "matched_by": "fallback", "fallback": True, "missing_fields": missing,
                        "text": words["fallback"].format(track=name)})
        return reasons

    return explain


# -- SQL -------------------------------------------------------------------------------
# ``fold`` in SQL.  Spark runs ICU (bundled with Spark) through ``reflect``: NFKC, then
# full case folding, as Python does.  DuckDB has NFC but neither NFKC nor full case
# folding, so both are spelt out as per-character maps from Python's own tables:
# NFKC(s) = NFC(each character's NFKC), and casefold maps character by character.  One
# character may map to several: those are replaced one by one.  Every map is guarded by
# a regular expression of the characters it changes, so text without them (most) costs
# one match per map.  No image is itself a key of its map (both maps are idempotent), so
# the pieces of a map may be applied in any order and guarded on the unmapped text.
# Exact for every character of Python's Unicode database; DuckDB (utf8proc) and ICU
# may know newer characters than Python does, and DuckDB stops text at a NUL.

_CHUNK = 64  # characters per guarded piece of a one-to-one map (half as many for one-to-many)


@lru_cache(maxsize=1)
def _fold_tables() -> tuple[dict[str, str], dict[str, str], str]:
    """Python's compatibility map (characters whose NFKC differs from their NFC), its
    case-folding map, and the characters ``str.strip`` removes."""
    compat, folding, spaces = {}, {}, []
    for point in range(0x110000):
        if 0xD800 <= point < 0xE000:
            continue
        char = chr(point)
        if unicodedata.decomposition(char):
            nfkc = unicodedata.normalize("NFKC", char)
            if nfkc != unicodedata.normalize("NFC", char):
                compat[char] = nfkc
        folded = char.casefold()
        if folded != char:
            folding[char] = folded
        if char.isspace():
            spaces.append(char)
    return compat, folding, "".join(spaces)


def _char_class(chars) -> str:
    """An RE2 class of the characters, as ranges of code points."""
    points = sorted(ord(char) for char in chars)
    ranges, start, end = [], points[0], points[0]
    for point in points[1:]:
        if point == end + 1:
            end = point
            continue
        ranges.append((start, end))
        start = end = point
    ranges.append((start, end))
    return "[" + "".join(f"\\x{{{a:x}}}" if a == b else f"\\x{{{a:x}}}-\\x{{{b:x}}}" for a, b in ranges) + "]"


# Characters common in business data that folding changes (full-width forms, odd
# spaces, Latin capitals, …, ℃, ㎡, №, ™, ½, ㈱, ß, ﬁ): mapped first with one guard each,
# before the rest of a map is looked at.
_COMMON = frozenset(
    [chr(c) for c in range(0xFF01, 0xFF66)] + [chr(c) for c in range(0x41, 0x5B)] + [chr(c) for c in range(0xC0, 0xDF)]
    + list("\u00a0\u3000\u2002\u2003\u2009\u202f\u00b2\u00b3\u00b9\u2026\u2025\u2103\u2109\u33a1\u33a5\u338f\u338e"
           "\u339c\u339d\u339e\u2116\u2122\u2121\u00bd\u00bc\u00be\u3231\u3232\u00df\ufb01\ufb02")
)
_GROUP = 8  # guarded pieces per guarded group


def _map_chars(build, column: str, table: dict[str, str], name: str) -> str:
    """``column`` with every character replaced by its image in ``table`` (DuckDB): the
    common characters first, then the rest in groups of guarded pieces, so a text pays
    for the pieces it has characters of, and a text with none for one match per part."""
    dialect, string = build.dialect, build.dialect.string

    def guard(chars, value: str) -> str:
        return f"regexp_matches({value}, {string(_char_class(chars))})"

    def pieces(items: list, size: int) -> list[list]:
        return [items[start:start + size] for start in range(0, len(items), size)]

    def translate(value: str, piece, test: str | None) -> str:
        source, target = string("".join(c for c, _ in piece)), string("".join(i for _, i in piece))
        if test is not None:  # no characters to replace unless the piece's guard holds
            source = f"CASE WHEN {test} THEN {source} ELSE '' END"
        return f"translate({value}, {source}, {target})"

    def replace(value: str, piece, test: str | None) -> str:
        if test is None:
            return _replace_all(dialect, value, piece)
        return dialect.let(value, lambda v: f"CASE WHEN {test} THEN {_replace_all(dialect, v, piece)} ELSE {v} END")

    for part, apply, size in (("single", translate, _CHUNK), ("multi", replace, _CHUNK // 2)):
        items = sorted((char, image) for char, image in table.items() if (len(image) == 1) == (part == "single"))
        common = [(char, image) for char, image in items if char in _COMMON]
        rest = [(char, image) for char, image in items if char not in _COMMON]
        if common:
            column = build.column(f"{name}_{part}_common", f"CASE WHEN {guard([c for c, _ in common], column)} THEN "
                                  f"{apply(column, common, None)} ELSE {column} END")
        if not rest:
            continue
        mapped = column
        for group in pieces(pieces(rest, size), _GROUP):
            def body(value: str, group=group, source=column) -> str:
                for piece in group:
                    value = apply(value, piece, guard([c for c, _ in piece], source))
                return value

            test = guard([char for piece in group for char, _ in piece], column)
            mapped = dialect.let(mapped, lambda value, body=body, test=test: f"CASE WHEN {test} THEN {body(value)} ELSE {value} END")
        column = build.column(f"{name}_{part}", f"CASE WHEN {guard([c for c, _ in rest], column)} THEN {mapped} ELSE {column} END")
    return column


def _replace_all(dialect, value: str, pairs) -> str:
    """``value`` with each character of ``pairs`` replaced by its image."""
    for char, image in pairs:
        value = f"replace({value}, {dialect.string(char)}, {dialect.string(image)})"
    return value


def fold_sql(build, text: str, name: str) -> str:
    """:func:`fold` of a text expression; returns a column (DuckDB) or an expression."""
    dialect = build.dialect
    compat, folding, spaces = _fold_tables()
    if dialect.name == "spark":
        nfkc = f"reflect('com.ibm.icu.text.Normalizer', 'compose', {text}, true)"
        folded = f"reflect('com.ibm.icu.lang.UCharacter', 'foldCase', {nfkc}, true)"
        return f"(CASE WHEN {text} IS NULL THEN NULL ELSE trim(BOTH {dialect.string(spaces)} FROM {folded}) END)"
    column = build.column(f"{name}_text", text)
    column = _map_chars(build, column, compat, f"{name}_nfkd")
    column = build.column(f"{name}_nfc", f"nfc_normalize({column})")
    column = _map_chars(build, column, folding, f"{name}_fold")
    return build.column(name, f"trim({column}, {dialect.string(spaces)})")


_SEPARATOR = "\uffff"  # joins list items to fold them at once: NFKC and case folding keep it


def _code_text_sql(build, compiled) -> str:
    """A scalar code as :func:`code_key` writes it before folding (numbers as Python's str)."""
    dialect, code = build.dialect, compiled.code
    if compiled.type == "integer":
        return dialect.cast(code, "string")
    if compiled.type == "number":
        return dialect.let(code, lambda x: (
            f"(CASE WHEN isnan({x}) THEN 'nan' WHEN {x} = {dialect.double_literal(math.inf)} THEN 'inf'"
            f" WHEN {x} = {dialect.double_literal(-math.inf)} THEN '-inf'"
            f" WHEN {x} % 1 = 0 AND abs({x}) < 9.2e18 THEN {dialect.cast(dialect.cast(x, 'integer'), 'string')}"
            f" WHEN {x} % 1 = 0 AND abs({x}) < 1e38 THEN CAST(CAST({x} AS DECIMAL(38, 0)) AS {dialect.text_type})"
            f" WHEN {x} % 1 = 0 THEN NULL ELSE {dialect.float_text(x)} END)"))
    if compiled.type in ("none", "boolean"):
        return "CAST(NULL AS " + dialect.text_type + ")"
    return dialect.cast(code, "string")


def _list_join(dialect, items: str, separator: str) -> str:
    if dialect.name == "duckdb":
        return f"array_to_string({items}, {dialect.string(separator)})"
    return f"array_join({items}, {dialect.string(separator)})"


def _code_matches_sql(dialect, track_code: str, key: str) -> str:
    """:func:`code_matches` of a constant track code and a folded key."""
    length = len(track_code)
    rest = f"substr({key}, {length + 1})"
    return (f"({key} = {dialect.string(track_code)} OR (substr({key}, 1, {length}) = {dialect.string(track_code)}"
            f" AND length({key}) > {length} AND translate({rest}, '0123456789.-', '') = ''))")


def compile_industry_sql(build: SqlBuild) -> None:
    """The SQL twin of :func:`compile_industry`: the most specific code, else the first
    keyword, else the first ``when``, else the fallback, on text folded as Python folds it."""
    tracks, fallback, code_expr, text_expr, whens = _setup(build)
    if not _can_match(build, tracks, code_expr, text_expr, whens):
        build.outcome(label="NULL")
        return
    if any(d.severity == "error" for d in build.diagnostics):
        build.outcome(label="NULL")  # the plan reports them
        return
    dialect, literal = build.dialect, build.literal
    found = []  # (track index column, how it matched)
    if code_expr is not None:
        found.append((_code_track_sql(build, tracks, code_expr), "code"))
    if text_expr is not None:
        code = text_expr.code
        if text_expr.type == "list":
            code = _list_join(dialect, code, " ")
        elif text_expr.type in ("none", "boolean"):
            code = f"CAST(NULL AS {dialect.text_type})"
        else:
            code = dialect.cast(code, "string")
        text = fold_sql(build, code, "text")
        words = [f"WHEN instr({text}, {literal(word)}) > 0 THEN {index}"
                 for index, t in enumerate(tracks) for word in t["keywords"]]
        if words:
            found.append((build.column("keyword_track", f"CASE {' '.join(words)} END"), "keyword"))
    if whens:
        branches = " ".join(f"WHEN {condition.code} THEN {index}" for index, condition in whens)
        found.append((build.column("when_track", f"CASE {branches} END"), "when"))
    track = build.column("track", f"COALESCE({', '.join(column for column, _ in found)})" if len(found) > 1 else found[0][0])
    matched_by = " ".join(f"WHEN {column} IS NOT NULL THEN {literal(how)}" for column, how in found)

    def pick(values: list, otherwise: str) -> str:
        branches = " ".join(f"WHEN {index} THEN {value}" for index, value in enumerate(values))
        return f"CASE {track} {branches} ELSE {otherwise} END" if branches else otherwise

    def tag_list(entry: dict) -> str:
        return dialect.list_of([literal(str(tag)) for tag in entry.get("tags", ())])

    tagged = any(t.get("tags") for t in [*tracks, fallback])
    build.outcome(
        label=pick([literal(t["id"]) for t in tracks], literal(fallback["id"])),
        tags=pick([tag_list(t) for t in tracks], tag_list(fallback)) if tagged else None,
        matched_by=f"CASE {matched_by} ELSE 'fallback' END",
    )


def _code_track_sql(build, tracks: list[dict], code_expr) -> str:
    """The column of the track whose code matches most specifically (NULL: none)."""
    dialect = build.dialect
    codes = sorted(
        ((len(code), index, number, code) for index, t in enumerate(tracks) for number, code in enumerate(t["codes"])),
        key=lambda item: (-item[0], item[1], item[2]),
    )
    if code_expr.type == "list":
        # each item as code_key folds it: the items joined, folded at once, split again
        folded = fold_sql(build, _list_join(dialect, code_expr.code, _SEPARATOR), "codes")
        split = "split" if dialect.name == "spark" else "string_split"
        items = f"{split}({folded}, {dialect.string(_SEPARATOR)})"
        _compat, _folding, spaces = _fold_tables()
        keys = build.column("code_keys", dialect.list_filter(_transform(dialect, items, "k", _trim(dialect, "k", spaces)), "k", "k <> ''"))
        tests = [f"{dialect.list_length(dialect.list_filter(keys, 'k', _code_matches_sql(dialect, code, 'k')))} > 0"
                 for _length, _index, _number, code in codes]
    else:
        text = _code_text_sql(build, code_expr)
        key = fold_sql(build, text, "code") if code_expr.type not in ("integer", "number") else build.column("code", text)
        tests = [_code_matches_sql(dialect, code, key) for _length, _index, _number, code in codes]
    branches = " ".join(f"WHEN {test} THEN {index}" for test, (_length, index, _number, _code) in zip(tests, codes))
    return build.column("code_track", f"CASE {branches} END" if branches else "CAST(NULL AS BIGINT)")


def _transform(dialect, items: str, parameter: str, body: str) -> str:
    function = "list_transform" if dialect.name == "duckdb" else "transform"
    return f"{function}({items}, {dialect.lambda_(parameter, body)})"


def _trim(dialect, value: str, chars: str) -> str:
    if dialect.name == "duckdb":
        return f"trim({value}, {dialect.string(chars)})"
    return f"trim(BOTH {dialect.string(chars)} FROM {value})"


@hookimpl
def tierkit_scheme_kinds(register):
    register(
        SchemeKind.documented("industry", __doc__, CONFIG_SCHEMA, compile_industry, attributes={"matched_by": ("string", 0)},
                              compile_sql=compile_industry_sql)
    )
