"""The ``value_proposition`` scheme kind: price-sensitive or value-driven (价值主张/需求导向).

Declared signals vote for need types.  A signal is a condition (``when``: true counts
1) or a number (``value``: counts as itself), multiplied by its ``weight`` (default
1, may be negative) and added to each type it names.  The type with the highest
positive total wins; on a tie the type declared first wins.  The built-in types are
cost-sensitive (成本敏感型, in the price-sensitive group 价格敏感型), quality-seeking
(品质追求型) and innovation-driven (创新驱动型), both value-driven (价值导向型); the
group is a tag and the outcome attribute ``group``.  ``types`` lists the types in tie
order, keeps the built-in ones by id, overrides their content or adds new ones.  A
customer no signal points anywhere (every signal false or missing, or totals at zero
or below) is ``unknown``, with the missing signals named, never a guessed type.
Each type's playbook says whether to fight on price or on value.

Example::

    - id: need
      kind: value_proposition
      label: {en: Need type, zh: 需求导向}
      signals:
        - {id: haggler, when: "discount_requests >= 3", type: cost_sensitive, weight: 2}
        - {id: spec, when: "asks_for_certificates", type: quality_seeking}
        - {id: pilots, value: "pilot_projects", type: [innovation_driven, quality_seeking], weight: 0.5}
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from tierkit.build import CompiledScheme, SchemeBuild
from tierkit.expr import did_you_mean
from tierkit.hookspecs import hookimpl
from tierkit.labels import localize
from tierkit.registry import SchemeKind
from tierkit.words import Vocabulary

if TYPE_CHECKING:
    from tierkit.sqlbuild import SqlBuild

UNKNOWN = "unknown"
GROUPS = {
    "price_sensitive": {"en": "Price-sensitive", "zh": "价格敏感型"},
    "value_driven": {"en": "Value-driven", "zh": "价值导向型"},
}
CONTENT_KEYS = ("strategy", "talking_points", "actions")
TIE = 1e-9
_CACHE_LIMIT = 65_536

LABEL_REF = {"$ref": "#/$defs/label"}
IDENTIFIER = {"type": "string", "pattern": "^[A-Za-z_][A-Za-z0-9_]*$"}


def _t(en: str, zh: str) -> dict:
    return {"en": en, "zh": zh}


BUILTIN_TYPES = {
    "cost_sensitive": {
        "group": "price_sensitive",
        "label": _t("Cost-sensitive", "成本敏感型"),
        "strategy": _t("Fight on price: a lean standard offer at a sharp price; keep the cost to serve low",
                       "打价格战：标准化方案、有竞争力的价格，控制服务成本"),
        "talking_points": [
            _t("Price per unit and total cost, side by side with the alternatives", "单价与总成本，与替代方案逐项对比"),
            _t("Volume discounts and flexible payment terms", "批量折扣与灵活账期"),
            _t("No paying for features they will not use", "不为用不到的功能买单"),
        ],
        "actions": [
            _t("Offer standard configurations and bundles", "提供标准配置与组合套餐"),
            _t("Set a floor price before negotiating; trade concessions for volume or term", "谈判前定好底价，以量或合同期换让步"),
            _t("Serve through inside sales and self-service", "以电话销售和自助服务为主"),
        ],
    },
    "quality_seeking": {
        "group": "value_driven",
        "label": _t("Quality-seeking", "品质追求型"),
        "strategy": _t("Fight on value: prove quality and reliability; defend the price, do not lead with discounts",
                       "打价值战：证明品质与可靠性，守住价格，不先让折扣"),
        "talking_points": [
            _t("Quality record, certifications and failure rates", "质量记录、认证与故障率"),
            _t("Total cost of ownership over the product's life", "全生命周期总拥有成本"),
            _t("References from demanding customers", "高要求客户的案例"),
        ],
        "actions": [
            _t("Site visits and factory audits", "安排参观与验厂"),
            _t("Offer service-level guarantees", "提供服务等级承诺"),
            _t("Involve solution engineers early", "尽早引入方案工程师"),
        ],
    },
    "innovation_driven": {
        "group": "value_driven",
        "label": _t("Innovation-driven", "创新驱动型"),
        "strategy": _t("Fight on value: sell the new capability and co-innovation, not the price",
                       "打价值战：卖新能力与共同创新，而不是价格"),
        "talking_points": [
            _t("Roadmap and what is new", "产品路线图与新功能"),
            _t("Early access and joint pilots", "抢先体验与联合试点"),
            _t("Competitive edge the customer gains", "客户由此获得的竞争优势"),
        ],
        "actions": [
            _t("Propose a pilot with clear success criteria", "提出有明确成功标准的试点"),
            _t("Bring product and R&D people to the table", "让产品和研发人员参与交流"),
            _t("Invite to user groups and launch events", "邀请参加用户社区与发布会"),
        ],
    },
}
UNKNOWN_CONTENT = {
    "label": _t("Unknown", "未知"),
    "strategy": _t("Find out first: what decides their purchase, price or value", "先弄清楚：决定其采购的是价格还是价值"),
    "talking_points": [
        _t("What mattered most in your last purchase?", "上一次采购时最看重什么？"),
        _t("How is a supplier chosen, and who decides?", "如何选择供应商，由谁决定？"),
    ],
    "actions": [_t("Record discount requests, quality demands and interest in new features", "记录其折扣要求、质量要求和对新功能的兴趣")],
}

TYPE = {
    "type": "object",
    "title": "Need type",
    "description": "A need type: a built-in one by id (overriding its content) or a new one with its group.",
    "properties": {
        "id": {**IDENTIFIER, "title": "Type id", "description": "The label this type gives, e.g. cost_sensitive."},
        "group": {"enum": list(GROUPS), "title": "Group",
                  "description": "price_sensitive or value_driven: the coarse group, a tag and the attribute group."},
        "label": LABEL_REF,
        "strategy": {**LABEL_REF, "title": "Strategy", "description": "Whether and how to fight on price or on value."},
        "talking_points": {"type": "array", "items": LABEL_REF, "title": "Talking points",
                           "description": "What to say to this type (bilingual labels)."},
        "actions": {"type": "array", "items": LABEL_REF, "title": "Actions",
                    "description": "What to do with this type (bilingual labels)."},
    },
    "required": ["id"],
    "additionalProperties": False,
}

CONFIG_SCHEMA = {
    "type": "object",
    "properties": {
        "types": {
            "type": "array",
            "minItems": 1,
            "title": "Types",
            "description": "The need types in tie-break order; default cost_sensitive, quality_seeking, innovation_driven.",
            "items": {"anyOf": [IDENTIFIER, TYPE]},
        },
        "signals": {
            "type": "array",
            "minItems": 1,
            "title": "Signals",
            "description": "Evidence for the types: a condition or a number, weighted towards one or more types.",
            "items": {
                "type": "object",
                "properties": {
                    "id": {**IDENTIFIER, "title": "Signal id", "description": "Names the signal in reasons."},
                    "label": LABEL_REF,
                    "when": {"type": "string", "title": "Condition",
                             "description": "An expression; when true the signal counts 1 × weight."},
                    "value": {"type": "string", "title": "Value",
                              "description": "An expression giving a number; the signal counts value × weight."},
                    "type": {
                        "title": "Types",
                        "description": "The type, or list of types, the signal's weight goes to.",
                        "anyOf": [IDENTIFIER, {"type": "array", "items": IDENTIFIER, "minItems": 1}],
                    },
                    "weight": {"type": "number", "default": 1, "title": "Weight",
                               "description": "What the signal is worth (default 1); negative counts against the types."},
                },
                "required": ["type"],
                "additionalProperties": False,
            },
        },
    },
    "required": ["signals"],
}

WORDS = {
    "en": {
        "signal": "{signal}: {amount:+g} → {types}",
        "missing": "{signal}: missing ({fields}), not counted",
        "winner": "highest total {total:g} → {type} ({group})",
        "tie": "tied at {total:g} with {others}; {type} is declared first",
        "none": "no signal points to a type",
        "cancel": "the signals cancel out: no type has a total above 0",
    },
    "zh": {
        "signal": "{signal}：{amount:+g} → {types}",
        "missing": "{signal}：缺失（{fields}），不计入",
        "winner": "总分最高 {total:g} → {type}（{group}）",
        "tie": "与 {others} 同为 {total:g} 分；{type} 排在前面",
        "none": "没有任何信号指向某一类型",
        "cancel": "信号相互抵消：没有类型的总分大于 0",
    },
}


def compile_value_proposition(build: SchemeBuild) -> CompiledScheme:
    types = _types(build)
    signals, codes, compiled = _signals(build, types)
    decide = build.constant(_decider(types, signals))
    temps = [build.temp() for _ in codes]
    blanks = "".join(f"({build.missing_names(c)} if {t} is None else ()), " for t, c in zip(temps, compiled))
    build.row([*(f"{t} = {code}" for t, code in zip(temps, codes)),
               f"{build.outcome.local} = {decide}(({''.join(t + ', ' for t in temps)}), ({blanks}))"], [build.outcome])

    labels = {entry["id"]: entry.get("label", entry["id"]) for entry in types}
    labels[UNKNOWN] = UNKNOWN_CONTENT["label"]
    about = {entry["id"]: _about(entry) for entry in types}
    about[UNKNOWN] = _about(UNKNOWN_CONTENT)
    return CompiledScheme(explain=_explainer(types, signals, build.vocabulary), labels=labels, about=about)


def _signals(build, types: list[dict]) -> tuple[list[dict], list[str], list]:
    """The signals (targets as type indices, weight, the fields read), each one's
    compiled code and its expression: the same checks for the Python and the SQL back end."""
    order = {entry["id"]: index for index, entry in enumerate(types)}
    signals, codes, compiled_all = [], [], []
    for index, signal in enumerate(build.value("signals", default=[])):
        has_when, has_value = signal.get("when") is not None, signal.get("value") is not None
        if has_when == has_value:
            build.error("a signal needs exactly one of when (a condition) or value (a number)", "signals", index)
            continue
        compiled = build.condition("signals", index, "when") if has_when else build.number("signals", index, "value")
        names = signal["type"] if isinstance(signal["type"], list) else [signal["type"]]
        targets = []
        for name in names:
            if name not in order:
                build.error(f"signal type {name!r} is not among the types ({', '.join(order)})", "signals", index, "type",
                            hint=did_you_mean(name, order))
            elif order[name] not in targets:
                targets.append(order[name])
        signals.append({
            "config": signal, "targets": tuple(targets), "weight": float(signal.get("weight", 1)),
            "reads": sorted(compiled.reads), "name": signal.get("label", signal.get("id", signal.get("when", signal.get("value")))),
        })
        codes.append(compiled.code)
        compiled_all.append(compiled)
    return signals, codes, compiled_all


def compile_value_proposition_sql(build: SqlBuild) -> None:
    """The SQL twin of :func:`compile_value_proposition`: the totals added up in signal
    order, as the Python step adds them, and the winner chosen type by type."""
    types = _types(build)
    signals, codes, _compiled = _signals(build, types)
    dialect, literal = build.dialect, build.literal
    amounts = []
    for signal, code in zip(signals, codes):
        weight = literal(signal["weight"])
        if signal["config"].get("when") is not None:
            amounts.append(f"CASE WHEN {code} THEN {weight} ELSE {literal(0.0)} END")
        else:
            value = build.column("value", dialect.double(code))
            amounts.append(f"CASE WHEN {value} IS NULL OR isnan({value}) THEN {literal(0.0)} ELSE {weight} * {value} END")
    totals = []
    for index in range(len(types)):
        total = literal(0.0)
        for signal, amount in zip(signals, amounts):
            if index in signal["targets"]:
                total = f"({total} + {amount})"
        totals.append(build.column(f"total{index}", total))
    tie = literal(TIE)
    best, best_total = "CAST(NULL AS BIGINT)", "CAST(NULL AS DOUBLE)"
    for index, total in enumerate(totals):
        wins = (f"NOT isnan({total}) AND {total} > {tie}"
                f" AND ({best} IS NULL OR {total} > {best_total} + {tie})")
        best, best_total = (build.column(f"best{index}", f"CASE WHEN {wins} THEN {index} ELSE {best} END"),
                            build.column(f"best_total{index}", f"CASE WHEN {wins} THEN {total} ELSE {best_total} END"))

    def pick(values: list[str], otherwise: str) -> str:
        branches = " ".join(f"WHEN {index} THEN {value}" for index, value in enumerate(values))
        return f"CASE {best} {branches} ELSE {otherwise} END" if values else otherwise

    build.outcome(
        label=pick([literal(entry["id"]) for entry in types], literal(UNKNOWN)),
        score=best_total,
        tags=pick([dialect.list_of([literal(entry["group"])]) for entry in types], dialect.list_of([])),
        group=pick([literal(entry["group"]) for entry in types], "NULL"),
    )

def _about(entry: dict) -> dict:
    about = {key: entry[key] for key in CONTENT_KEYS if entry.get(key)}
    if entry.get("group"):
        about["group"] = GROUPS[entry["group"]]
    return about


def _types(build: SchemeBuild) -> list[dict]:
    entries = build.value("types")
    if entries is None:
        return [{"id": name, **content} for name, content in BUILTIN_TYPES.items()]
    types, seen = [], set()
    for index, entry in enumerate(entries):
        own = {"id": entry} if isinstance(entry, str) else dict(entry)
        base = BUILTIN_TYPES.get(own["id"])
        if own["id"] in seen or own["id"] == UNKNOWN:
            build.error(f"type {own['id']!r} is listed twice" if own["id"] in seen else "the type id 'unknown' is reserved",
                        "types", index)
            continue
        if base is None and not own.get("group"):
            build.error(f"type {own['id']!r} is not built in, so it needs a group (price_sensitive or value_driven)",
                        "types", index, hint=did_you_mean(own["id"], BUILTIN_TYPES))
            continue
        seen.add(own["id"])
        types.append({**(base or {}), **own})
    return types


def _decider(types: list[dict], signals: list[dict]):
    """``decide(values) -> outcome``: totals per type, the winner, memoised per values."""
    count = len(types)
    groups = [entry["group"] for entry in types]
    ids = [entry["id"] for entry in types]
    tag_of = [(group,) for group in groups]
    plan = [(signal["weight"], signal["targets"]) for signal in signals]
    cache: dict = {}

    def decide(values: tuple, blanks: tuple) -> tuple:
        """The outcome of ``values``; its detail ends with each signal's blank inputs."""
        try:
            found = cache.get(values)
        except TypeError:  # an unhashable value: decide without the memo
            found = outcome(values)
        else:
            if found is None:
                found = outcome(values)
                if len(cache) < _CACHE_LIMIT:
                    cache[values] = found
        return (*found[:3], (*found[3], blanks))

    def outcome(values: tuple) -> tuple:
        totals = [0.0] * count
        for value, (weight, targets) in zip(values, plan):
            if value is None or value is False or (isinstance(value, float) and math.isnan(value)):
                continue
            amount = weight if value is True else weight * value
            for target in targets:
                totals[target] += amount
        best = None
        for index, total in enumerate(totals):
            if total > TIE and (best is None or total > totals[best] + TIE):
                best = index
        totals_t = tuple(totals)
        if best is None:
            return (UNKNOWN, None, (), (None, values, totals_t, None))
        return (ids[best], totals[best], tag_of[best], (groups[best], values, totals_t, best))

    return decide


def _explainer(types: list[dict], signals: list[dict], vocabulary: Vocabulary):
    def type_name(index: int, lang: str) -> str:
        return localize(types[index].get("label", types[index]["id"]), lang)

    def explain(outcome: tuple, lang: str) -> list[dict]:
        words = WORDS.get(lang, WORDS["en"])
        _label, _score, _tags, (group, values, totals, best, blanks) = outcome
        reasons, fired = [], False
        for signal, value, blank in zip(signals, values, blanks):
            name = localize(signal["name"], lang)
            if value is None or (isinstance(value, float) and math.isnan(value)):
                fields = list(blank or signal["reads"])
                reasons.append({"signal": signal["config"].get("id"), "missing": True, "fields": fields,
                                "text": words["missing"].format(signal=name, fields=vocabulary.names(fields, lang))})
                continue
            if value is False or not signal["targets"]:
                continue
            amount = signal["weight"] if value is True else signal["weight"] * value
            fired = fired or amount != 0
            shown = ", ".join(type_name(t, lang) for t in signal["targets"])
            reasons.append({"signal": signal["config"].get("id"), "value": value, "amount": amount,
                            "types": [types[t]["id"] for t in signal["targets"]],
                            "text": words["signal"].format(signal=name, amount=amount, types=shown)})
        if best is None:
            reasons.append({"unknown": True, "totals": dict(zip((t["id"] for t in types), totals)),
                            "text": words["cancel" if fired else "none"]})
            return reasons
        total = totals[best]
        reasons.append({"type": types[best]["id"], "group": group, "total": total,
                        "totals": dict(zip((t["id"] for t in types), totals)),
                        "text": words["winner"].format(total=total, type=type_name(best, lang),
                                                       group=localize(GROUPS[group], lang))})
        tied = [index for index, other in enumerate(totals) if index != best and abs(other - total) <= TIE]
        if tied:
            reasons.append({"tie": [types[index]["id"] for index in tied],
                            "text": words["tie"].format(total=total, type=type_name(best, lang),
                                                        others=", ".join(type_name(i, lang) for i in tied))})
        return reasons

    return explain


@hookimpl
def tierkit_scheme_kinds(register):
    register(
        SchemeKind.documented("value_proposition", __doc__, CONFIG_SCHEMA, compile_value_proposition, attributes={"group": ("string", 0)},
                              compile_sql=compile_value_proposition_sql)
    )
