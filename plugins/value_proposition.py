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

from tierkit.kinds import (
    And, Arith, Call, Cast, Compare, Defined, DType, IrBuild, IsMissing, Let, ListOf, Lit, Logic, LogicKind, Not, Or, Pick, Reason,
    Ref, case, did_you_mean, hookimpl, holds, known, lit, logic_kind, total,
)

UNKNOWN = "unknown"
GROUPS = {
    "price_sensitive": {"en": "Price-sensitive", "zh": "价格敏感型"},
    "value_driven": {"en": "Value-driven", "zh": "价值导向型"},
}
CONTENT_KEYS = ("strategy", "talking_points", "actions")
TIE = 1e-9

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

TEMPLATES = {
    "en": {
        "value_proposition.signal": "{signal:in:signals}: {amount:+g} → {signal:in:targets}",
        "value_proposition.missing": "{signal:in:signals}: missing ({fields:names}), not counted",
        "value_proposition.winner": "highest total {total:g} → {type:label} ({group:in:groups})",
        "value_proposition.tie": "tied at {total:g} with {tie:label}; {type:label} is declared first",
        "value_proposition.none": "no signal points to a type",
        "value_proposition.cancel": "the signals cancel out: no type has a total above 0",
    },
    "zh": {
        "value_proposition.signal": "{signal:in:signals}：{amount:+g} → {signal:in:targets}",
        "value_proposition.missing": "{signal:in:signals}：缺失（{fields:names}），不计入",
        "value_proposition.winner": "总分最高 {total:g} → {type:label}（{group:in:groups}）",
        "value_proposition.tie": "与 {tie:label} 同为 {total:g} 分；{type:label} 排在前面",
        "value_proposition.none": "没有任何信号指向某一类型",
        "value_proposition.cancel": "信号相互抵消：没有类型的总分大于 0",
    },
}
F = DType.FLOAT


def define(build: IrBuild) -> Defined | None:
    """Each signal's amount (its weight when its condition holds, weight × its value when
    the value is a number; 0 when missing or NaN), each type's total added in signal
    order, and the winner chosen type by type: a total above ``TIE`` that beats the best
    so far by more than ``TIE`` (a NaN total never wins).  The winner's and the
    unknown's reasons carry every type's total (``total_<type>``) and the tie reason a
    flag per type (``tied_<type>``), which :func:`_finish` gathers into ``totals`` and
    ``tie`` as the records showed them."""
    types = _types(build)
    signals = _signals(build, types)
    if build.failed:
        return None
    lets, reasons, readers, amounts = [], [], {}, []
    for index, (signal, compiled) in enumerate(signals):
        value, weight = Ref(f"value{index}", compiled.code.dtype), lit(signal["weight"])
        lets.append(Let(f"value{index}", compiled.code))
        if signal["config"].get("when") is not None:
            missing, counts = IsMissing(value), holds(value)
            amount = case((value, weight), default=lit(0.0))
        else:
            missing = Or((IsMissing(value), Call("isnan", (Cast(value, F),), DType.BOOL)))
            counts = Not(missing)
            amount = case((missing, lit(0.0)), default=Arith("*", weight, value))
        lets += [Let(f"missing{index}", missing), Let(f"amount{index}", amount)]
        amounts.append(Ref(f"amount{index}", F))
        blank, read = build.blank_inputs(compiled)
        readers[blank] = read
        key = lit(signal["key"])
        reasons.append(Reason("value_proposition.missing", (("signal", key), ("missing", lit(True)), ("fields", blank)),
                              Ref(f"missing{index}", DType.BOOL)))
        if signal["targets"]:
            said = value if signal["config"].get("when") is None else lit(True)
            reasons.append(Reason("value_proposition.signal", (("signal", key), ("value", said), ("amount", amounts[-1])),
                                  counts))
    totals = []
    for target in range(len(types)):
        lets.append(Let(f"total{target}", total(lit(0.0), *(a for a, (s, _c) in zip(amounts, signals) if target in s["targets"]))))
        totals.append(Ref(f"total{target}", F))
    best, best_total = Lit(None, DType.INT), Lit(None, F)
    for index, type_total in enumerate(totals):
        wins = And((Not(Call("isnan", (type_total,), DType.BOOL)), Compare(">", type_total, lit(TIE)),
                    Or((IsMissing(best), Compare(">", type_total, Arith("+", best_total, lit(TIE)))))))
        lets += [Let(f"best{index}", case((wins, lit(index)), default=best)),
                 Let(f"best_total{index}", case((wins, type_total), default=best_total))]
        best, best_total = Ref(f"best{index}", DType.INT), Ref(f"best_total{index}", F)
    ids, groups = [entry["id"] for entry in types], [entry["group"] for entry in types]
    label = Pick(best, tuple(map(lit, ids)), lit(UNKNOWN))
    group = Pick(best, tuple(map(lit, groups)), Lit(None, DType.STR))
    tags = Pick(best, tuple(ListOf((lit(g),), DType.STR) for g in groups), ListOf((), DType.STR))
    every_total = tuple((f"total_{id_}", type_total) for id_, type_total in zip(ids, totals))
    tied = tuple((f"tied_{id_}", holds(And((Compare("!=", best, lit(index)),
                                            Compare("<=", Call("abs", (Arith("-", type_total, best_total),), F), lit(TIE))))))
                 for index, (id_, type_total) in enumerate(zip(ids, totals)))
    fired = Or(tuple(Compare("!=", a, lit(0.0)) for a, (s, _c) in zip(amounts, signals) if s["targets"])) \
        if any(s["targets"] for s, _c in signals) else lit(False)
    decided = known(best)
    reasons += [
        Reason("value_proposition.winner", (("type", label), ("group", group), ("total", best_total), *every_total), decided),
        Reason("value_proposition.tie", (("type", label), ("total", best_total), *tied),
               And((decided, Or(tuple(flag for _name, flag in tied))))),
        Reason("value_proposition.cancel", (("unknown", lit(True)), *every_total), And((IsMissing(best), fired))),
        Reason("value_proposition.none", (("unknown", lit(True)), *every_total), And((IsMissing(best), Not(fired)))),
    ]
    logic = Logic(build.id, tuple(lets), label, best_total, (("group", group),), tuple(reasons), tags=tags)
    labels = {entry["id"]: entry.get("label", entry["id"]) for entry in types}
    labels[UNKNOWN] = UNKNOWN_CONTENT["label"]
    about = {entry["id"]: _about(entry) for entry in types}
    about[UNKNOWN] = _about(UNKNOWN_CONTENT)
    names = {signal["key"]: signal["name"] for signal, _c in signals}
    targets = {signal["key"]: [types[t].get("label", types[t]["id"]) for t in signal["targets"]] for signal, _c in signals}
    tables = {"signals": names, "targets": targets, "groups": GROUPS}
    return Defined(logic, labels, readers=readers, tables=tables, finish=_finish, about=about)


def _finish(records: list[dict], outcome: tuple) -> None:
    """Every type's total as ``totals`` and the tied types as ``tie``, as one field each."""
    for record in records:
        totals = {key[6:]: record.pop(key) for key in list(record) if key.startswith("total_")}
        tied = [key[5:] for key in list(record) if key.startswith("tied_") and record.pop(key)]
        if totals:
            record["totals"] = totals
        if record["code"] == "value_proposition.tie":
            record["tie"] = tied


def _signals(build, types: list[dict]) -> list[tuple[dict, object]]:
    """The signals (targets as type indices, weight, the key and name reasons show them
    by), each with its compiled expression."""
    order = {entry["id"]: index for index, entry in enumerate(types)}
    signals = []
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
        signals.append(({
            "config": signal, "targets": tuple(targets), "weight": float(signal.get("weight", 1)),
            "key": signal.get("id", f"#{index + 1}"),
            "name": signal.get("label", signal.get("id", signal.get("when", signal.get("value")))),
        }, compiled))
    return signals


def _about(entry: dict) -> dict:
    about = {key: entry[key] for key in CONTENT_KEYS if entry.get(key)}
    if entry.get("group"):
        about["group"] = GROUPS[entry["group"]]
    return about


def _types(build: IrBuild) -> list[dict]:
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


VALUE_PROPOSITION = LogicKind(define, TEMPLATES, (("group", "string"),))


@hookimpl
def tierkit_scheme_kinds(register):
    register(logic_kind("value_proposition", __doc__, CONFIG_SCHEMA, VALUE_PROPOSITION))
