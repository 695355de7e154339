"""Expressions said in words: what a rep reads instead of a condition's source text.

A reason that prints ``industry == 'finance'`` makes a rep decode a formula; the same
condition reads ``行业属于 金融`` once each name is its field's label, each enum value its
declared label and each operator a word.  :class:`Vocabulary` holds the ruleset's labels
(fields, derived features, enum values, schemes and their labels); :func:`say` walks
the expression's syntax tree (:func:`tierkit.expr.compiler.parse`) and writes it in one
language.  Kinds reach the ruleset's vocabulary as ``build.vocabulary`` and say an
expression when a reason is explained, in that reason's language.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from jinja2 import nodes

from tierkit.ruleset.labels import LANGUAGES, localize, show_number

WORDS = {
    "en": {"and": "{} and {}", "or": "{} or {}", "not": "not ({})", "eq": "{} is {}", "ne": "{} is not {}",
           "in": "{} is {}", "notin": "{} is not {}", "list": " or ", "missing": "{} is missing", "known": "{} is known",
           "days_since": "days since {}", "if": "{1} if {0}, else {2}", "yes": "yes", "no": "no", "none": "missing",
           "as_of": "the as-of date", "score": "{} score", "group": "{} group", "rank": "rank"},
    "zh": {"and": "{}，且{}", "or": "{}或{}", "not": "并非（{}）", "eq": "{}属于 {}", "ne": "{}不属于 {}",
           "in": "{}属于 {}", "notin": "{}不属于 {}", "list": "、", "missing": "{}缺失", "known": "{}已知",
           "days_since": "距{}的天数", "if": "{0}时为 {1}，否则 {2}", "yes": "是", "no": "否", "none": "缺失",
           "as_of": "数据日期", "score": "{}得分", "group": "{}大类", "rank": "排名"},
}
SYMBOLS = {"gt": ">", "gteq": "≥", "lt": "<", "lteq": "≤", "Add": "+", "Sub": "−", "Mul": "×", "Div": "÷",
           "FloorDiv": "÷", "Mod": "mod", "Pow": "^"}


class Vocabulary:
    """The ruleset's names and values as labels: ``_names`` maps a field, derived feature
    or scheme id to its label; ``_values`` maps a name to its values' labels (an enum
    field's ``labels:``, a scheme's label displays); ``_inputs`` maps a derived feature
    to the names it reads.  Schemes add theirs as they compile."""

    def __init__(self, data: Mapping[str, Any] | None = None):
        from tierkit.expr.compiler import names_in

        data = data or {}
        self._names: dict[str, Any] = {}
        self._values: dict[str, Mapping[str, Any]] = {}
        self._inputs: dict[str, set[str]] = {}
        for name, spec in (data.get("fields") or {}).items():
            if isinstance(spec, Mapping):
                self._names[name] = spec.get("label", name)
                self._values[name] = spec.get("labels") or {}
        for name, spec in (data.get("derive") or {}).items():
            if isinstance(spec, Mapping):
                self._names[name] = spec.get("label", name)
            self._inputs[name] = names_in(str(spec.get("expr", "") if isinstance(spec, Mapping) else spec))
        for scheme in data.get("schemes") or []:
            if isinstance(scheme, Mapping) and "id" in scheme:
                self._names[scheme["id"]] = scheme.get("label", scheme["id"])

        self._said: dict[tuple[str, str], str] = {}

    def add_field(self, name: str, label: Any) -> None:
        """A field the ruleset does not declare itself (an order feature), with its label."""
        if label is not None:
            self._names.setdefault(name, label)

    def add_scheme(self, scheme_id: str, labels: Mapping[str, Any]) -> None:
        self._values[scheme_id] = labels

    def say(self, source: str, lang: str) -> str:
        """An expression in words (kept: a reason says the same few conditions often)."""
        key = (source, lang)
        if key not in self._said:
            self._said[key] = say(source, self, lang)
        return self._said[key]

    def names(self, names, lang: str) -> str:
        """Field names as their labels, in a list a sentence can hold."""
        return ("、" if lang == "zh" else ", ").join(self.name(name, lang) for name in names)

    def blank_of(self, missing, compiled) -> list[str]:
        """The blank inputs among ``missing`` (found for several expressions at once by
        :meth:`tierkit.plan.build.SchemeBuild.missing_names`) that ``compiled`` reads, itself
        or through derived features; its source when none of them is."""
        behind, waiting = set(), list(compiled.reads)
        while waiting:
            name = waiting.pop()
            if name not in behind:
                behind.add(name)
                waiting += self._inputs.get(name, ())
        return list(dict.fromkeys(field for field in missing if field in behind)) or [compiled.source]

    def name(self, name: str, lang: str) -> str:
        return str(localize(self._names.get(name, name), lang))

    def value(self, name: str | None, value: Any, lang: str) -> str:
        """A value as a rep reads it: an enum or label id by its label, else the value."""
        if isinstance(value, str):
            return str(localize(self._values.get(name or "", {}).get(value, value), lang))
        words = WORDS.get(lang, WORDS["en"])
        if isinstance(value, bool):
            return words["yes" if value else "no"]
        return words["none"] if value is None else show_number(value)

    def values_of(self, name: str | None) -> Mapping[Any, Any]:
        """``name``'s values as :meth:`value` says them, in both languages, as a table a
        reason template looks a value up in (``in:<table>``)."""
        return _SaidValues(self, name)


class _SaidValues(Mapping):
    """Any value of one name, in words, looked up as a table is; it lists no keys,
    since every value has its words."""

    def __init__(self, vocabulary: Vocabulary, name: str | None):
        self.vocabulary, self.name = vocabulary, name

    def __getitem__(self, value):
        return {lang: self.vocabulary.value(self.name, value, lang) for lang in LANGUAGES}

    def __iter__(self):
        return iter(())

    def __len__(self) -> int:
        return 0


def say(source: str, vocabulary: Vocabulary, lang: str) -> str:
    """``source`` in words; an expression that does not parse is given back as is."""
    from tierkit.expr.compiler import parse

    try:
        tree = parse(source)
    except Exception:  # a broken expression was reported when the ruleset was checked
        return source
    return _Sayer(vocabulary, lang).say(tree)


class _Sayer:
    def __init__(self, vocabulary: Vocabulary, lang: str):
        self.vocabulary = vocabulary
        self.lang = lang
        self.words = WORDS.get(lang, WORDS["en"])

    def say(self, node: nodes.Node, about: str | None = None) -> str:
        """A node in words; ``about`` names what a constant is compared with."""
        method = getattr(self, f"say_{type(node).__name__}", None)
        if method is not None:
            return method(node, about)
        symbol = SYMBOLS.get(type(node).__name__)
        if symbol is not None and isinstance(node, nodes.BinExpr):
            return f"{self.say(node.left)} {symbol} {self.say(node.right)}"
        return "…"  # a construct no ruleset expression of the bundled kinds uses

    def say_Name(self, node, about) -> str:
        if node.name == "as_of":
            return self.words["as_of"]
        if node.name == "rank":
            return self.words["rank"]
        return self.vocabulary.name(node.name, self.lang)

    def say_Getattr(self, node, about) -> str:
        owner = self.say(node.node)
        if node.attr == "label":
            return owner
        return self.words[node.attr].format(owner) if node.attr in ("score", "group") else f"{owner} {node.attr}"

    def say_Const(self, node, about) -> str:
        return self.vocabulary.value(about, node.value, self.lang)

    def say_List(self, node, about) -> str:
        return self.words["list"].join(self.say(item, about) for item in node.items)

    def say_Concat(self, node, about) -> str:
        return " ".join(self.say(part) for part in node.nodes if not (isinstance(part, nodes.Const) and not str(part.value).strip()))

    def say_Neg(self, node, about) -> str:
        return f"−{self.say(node.node)}"

    def say_And(self, node, about) -> str:
        return self.words["and"].format(self._grouped(node.left), self._grouped(node.right))

    def _grouped(self, node) -> str:
        """An ``or`` inside an ``and`` in brackets, so the words keep the precedence."""
        said = self.say(node)
        return (f"（{said}）" if self.lang == "zh" else f"({said})") if isinstance(node, nodes.Or) else said

    def say_Or(self, node, about) -> str:
        return self.words["or"].format(self.say(node.left), self.say(node.right))

    def say_Not(self, node, about) -> str:
        inner = node.node
        if isinstance(inner, nodes.Test) and inner.name == "none":
            return self.words["known"].format(self.say(inner.node))
        return self.words["not"].format(self.say(inner))

    def say_Test(self, node, about) -> str:
        if node.name == "none":
            return self.words["missing"].format(self.say(node.node))
        return f"{self.say(node.node)} {node.name}"

    def say_CondExpr(self, node, about) -> str:
        parts = [self.say(node.test), self.say(node.expr1), self.say(node.expr2) if node.expr2 is not None else "—"]
        return self.words["if"].format(*parts)

    def say_Call(self, node, about) -> str:
        name = getattr(node.node, "name", "")
        args = [self.say(arg) for arg in node.args]
        if name == "days_since" and len(args) == 1:
            return self.words["days_since"].format(args[0])
        return f"{name}({', '.join(args)})"

    def say_Filter(self, node, about) -> str:
        return f"{node.name}({self.say(node.node)})" if node.node is not None else node.name

    def say_Compare(self, node, about) -> str:
        left, text = node.expr, None
        for operand in node.ops:
            subject = _subject(left)
            said_left = self.say(left)
            right = self.say(operand.expr, subject)
            if operand.op in ("eq", "ne", "in", "notin"):
                link = self.words[operand.op].format(said_left, right)
            else:
                link = f"{said_left} {SYMBOLS.get(operand.op, operand.op)} {right}"
            text = link if text is None else self.words["and"].format(text, link)
            left = operand.expr
        return text or ""


def _subject(node: nodes.Node) -> str | None:
    """The name a compared constant belongs to: ``industry`` in ``industry == 'x'``,
    ``grade`` in ``grade.label == 'S'``."""
    if isinstance(node, nodes.Name):
        return node.name
    if isinstance(node, nodes.Getattr) and node.attr == "label" and isinstance(node.node, nodes.Name):
        return node.node.name
    return None
