"""The expression compiler: Jinja2 expression syntax in, Python source out.

Consultants write conditions and scores the way they know from Ansible ``when:`` and
dbt: ``annual_procurement >= 1e8 and industry in ['government', 'finance']``.  Jinja's
own parser reads the text; this module walks the tree and emits Python source that
the plan compiles once, so no Jinja runtime runs per customer and no user text is
ever evaluated as Python.  The front end (checking names, types and calls against
a :class:`Scope`) and the back end (:class:`PythonBackend`, emitting code) are kept
apart so other back ends can reuse the checked tree.

Null semantics (a missing value is ``None``), the same as SQL's so that every back
end agrees:

- arithmetic, comparisons, ``in`` and function calls with a missing operand give a
  missing result; division by zero gives a missing result;
- ``x in [a, b]`` is ``x == a or x == b``: a missing item leaves the result missing
  unless another item matches (``not in`` negates that);
- ``and``/``or``/``not`` use three-valued logic: ``false and missing`` is false,
  ``true or missing`` is true, otherwise a missing operand makes the result missing;
- a condition that is missing counts as not met;
- ``x is none`` / ``x is defined`` test for a missing value and are never missing;
  ``x | default(y)`` replaces a missing value.

Security: only declared names, attributes from a fixed list, and registered functions
can appear; anything else (dunder attributes, subscripts, method calls, imports) is a
ruleset error with a position, found when the ruleset is validated.
"""

from __future__ import annotations

import dataclasses
import difflib
import math
import re
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from jinja2 import Environment, nodes
from jinja2.exceptions import TemplateSyntaxError
from jinja2.lexer import ignored_tokens
from jinja2.parser import Parser

from .errors import Diagnostic, Position
from .registry import Function

NUMERIC = {"number", "integer"}
ORDERED = {"number", "integer", "string", "date"}
TYPE_NAMES = ("number", "integer", "string", "boolean", "date", "list", "any")

_ENV = Environment()


@dataclass(frozen=True)
class Symbol:
    """A name an expression may read: a field, a derived feature, ``as_of``, or an
    outcome of another scheme (``type == 'outcome'`` with ``attributes``)."""

    name: str
    type: str
    nullable: bool
    code: str
    attributes: Mapping[str, Symbol] = field(default_factory=dict)
    values: tuple[str, ...] = ()


@dataclass(frozen=True)
class Compiled:
    """A checked expression: Python source, its type, and what it reads."""

    source: str
    code: str
    type: str
    nullable: bool
    reads: frozenset[str]
    constant: bool = False
    value: Any = None
    element_type: str = "any"
    element_nullable: bool = False


class ExpressionError(Exception):
    """A ruleset error inside one expression; ``offset`` is the column within it."""

    def __init__(self, message: str, offset: int = 0, hint: str | None = None):
        super().__init__(message)
        self.offset = offset
        self.hint = hint


class Namespace:
    """Names the generated code needs: constants, functions and unique temporaries."""

    def __init__(self) -> None:
        self.values: dict[str, Any] = {}
        self._ids: dict[int, str] = {}
        self._temps = 0

    def constant(self, value: Any, prefix: str = "_k") -> str:
        key = id(value)
        if key in self._ids:
            return self._ids[key]
        name = f"{prefix}{len(self.values)}"
        self.values[name] = value
        self._ids[key] = name
        return name

    def temp(self) -> str:
        self._temps += 1
        return f"_t{self._temps}"


def parse(source: str) -> nodes.Expr:
    """Jinja's parser, in the state it uses for ``{{ … }}`` bodies.

    A syntax error gets an ``offset``: the column within ``source`` of what it is about.
    """
    parser = None
    try:
        parser = Parser(_ENV, source, state="variable")
        tree = parser.parse_expression()
        if not parser.stream.eos:
            token = parser.stream.current
            raise TemplateSyntaxError(f"unexpected {token.value!r} after the expression", token.lineno)
    except TemplateSyntaxError as error:
        error.offset = _offset_of_syntax_error(source, error.message or "", parser)
        raise
    except ValueError:  # an integer literal too long to convert
        error = TemplateSyntaxError("a number literal is too long", 1)
        error.offset = 0
        raise error from None
    return tree


def compile_expression(
    source: str,
    scope: Mapping[str, Symbol],
    functions: Mapping[str, Function],
    namespace: Namespace,
    position: Position | None = None,
) -> Compiled:
    """Check and compile one expression, or raise :class:`ExpressionDiagnostic`."""
    if not isinstance(source, str) or not source.strip():
        raise ExpressionDiagnostic(Diagnostic("expression is empty", position))
    try:
        tree = parse(source)
        compiled = PythonBackend(source, scope, functions, namespace).visit(tree)
        _check_nesting(compiled.code)
        return compiled
    except TemplateSyntaxError as error:
        message = error.message or "syntax error"
        offset = getattr(error, "offset", None)
        if offset is None:
            offset = _offset_of_syntax_error(source, message)
        raise ExpressionDiagnostic(_diagnostic(f"syntax error: {message}", source, offset, position)) from None
    except ExpressionError as error:
        raise ExpressionDiagnostic(_diagnostic(str(error), source, error.offset, position, error.hint)) from None
    except RecursionError:
        raise ExpressionDiagnostic(_diagnostic(_TOO_DEEP, source, 0, position)) from None


_TOO_DEEP = "the expression is nested too deeply; split it into derived features"


def _check_nesting(code: str) -> None:
    """Python limits how deeply code may nest; a long chain of `or`s can reach it."""
    try:
        compile(code, "<expression>", "eval")
    except SyntaxError as error:
        if "too many nested" not in str(error):
            raise
        raise ExpressionError(_TOO_DEEP) from None


class ExpressionDiagnostic(Exception):
    """Carries the :class:`Diagnostic` for one bad expression."""

    def __init__(self, diagnostic: Diagnostic):
        super().__init__(str(diagnostic))
        self.diagnostic = diagnostic


def _diagnostic(message, source, offset, position, hint=None) -> Diagnostic:
    where = position.shifted(offset) if position else None
    # One line, as every diagnostic is: a block scalar's line breaks are shown as spaces.
    shown = re.sub(r"[ \t]*\n\s*", " ", source.rstrip("\n"))
    return Diagnostic(f"{message} in expression `{shown}`", where, "error", hint)


def _offset_of_syntax_error(source: str, message: str, parser: Parser | None = None) -> int:
    """Jinja reports no column: take the lexer's offset, else the parser's current token,
    else find the token the message names."""
    at = re.search(r" at (\d+)$", message)
    if at:
        return int(at.group(1))
    if parser is not None:
        offset = _current_token_offset(source, parser)
        if offset is not None:
            return offset
    match = re.search(r"got '([^']+)'|unexpected '([^']+)'|unexpected (\S+)", message)
    if match:
        token = next(group for group in match.groups() if group)
        found = source.find(token)
        if found >= 0:
            return found
        if "end of" in token or "end of" in message:
            return len(source)
    return 0


def _current_token_offset(source: str, parser: Parser) -> int | None:
    """Where the parser's current token starts: as many tokens from the end as it has left."""
    try:
        left = sum(1 for _ in parser.stream)  # the current token and those after it
        starts, at = [], 0
        for _, kind, text in _ENV.lexer.tokeniter(source, None, state="variable"):
            if kind not in ignored_tokens:
                starts.append(at)
            at += len(text)
    except (TemplateSyntaxError, ValueError):
        return None
    return starts[-left] if 0 < left <= len(starts) else len(source)


def _quoted_text_offset(source: str, text: str) -> int:
    """Where the text of the string literal ``'text'`` (or ``"text"``) begins in ``source``.

    Searching for the bare text could find it inside a name (``'dust'`` in ``industry``).
    """
    found = [at for at in (source.find(f"'{text}'"), source.find(f'"{text}"')) if at >= 0]
    return min(found) + 1 if found else max(source.find(text), 0)


def did_you_mean(name: str, candidates) -> str | None:
    close = difflib.get_close_matches(name, list(candidates), n=1, cutoff=0.6)
    return f"did you mean {close[0]!r}?" if close else None


def _locate(source: str, text: str) -> int:
    """Column of ``text`` in ``source`` outside string literals, best effort."""
    pattern = re.compile(r"(?<![\w.])" + re.escape(text) + r"(?!\w)") if text.isidentifier() else re.compile(re.escape(text))
    masked = re.sub(r"'[^']*'|\"[^\"]*\"", lambda m: " " * len(m.group()), source)
    match = pattern.search(masked)
    return match.start() if match else 0


_OPERATOR_PATTERNS = {
    ">": r"(?<![<>=!])>(?!=)",
    "<": r"(?<![<>=!])<(?!=)",
    ">=": r">=",
    "<=": r"<=",
    "==": r"==",
    "!=": r"!=",
    "in": r"(?<![\w.])(?<!not )in(?!\w)",
    "not in": r"(?<![\w.])not\s+in(?!\w)",
}


def _nth_operator(source: str, text: str, index: int) -> int:
    """Column of the ``index``-th (0-based) ``text`` operator outside string literals."""
    masked = re.sub(r"'[^']*'|\"[^\"]*\"", lambda m: " " * len(m.group()), source)
    found = list(re.finditer(_OPERATOR_PATTERNS[text], masked))
    return found[min(index, len(found) - 1)].start() if found else 0


def _attribute_offset(source: str, attr: str) -> int:
    """Column of ``.attr`` (the name after the dot) in ``source``, best effort."""
    found = re.search(r"\.\s*" + re.escape(attr) + r"(?!\w)", source)
    return found.end() - len(attr) if found else 0


def _numeric_result(left: str, right: str) -> str:
    return "integer" if left == right == "integer" else "number"


def _compatible(left: str, right: str) -> bool:
    if "any" in (left, right) or left == right:
        return True
    return left in NUMERIC and right in NUMERIC


class PythonBackend:
    """Walks a Jinja expression tree, checks it against the scope, emits Python."""

    COMPARE = {"eq": "==", "ne": "!=", "gt": ">", "gteq": ">=", "lt": "<", "lteq": "<="}
    ARITHMETIC = {"Add": "+", "Sub": "-", "Mul": "*", "Mod": "%", "FloorDiv": "//"}

    def __init__(self, source, scope, functions, namespace: Namespace):
        self.source = source
        self.scope = scope
        self.functions = functions
        self.ns = namespace
        self._operators_seen: Counter[str] = Counter()

    def _operator_offset(self, op: str) -> int:
        """Jinja gives no columns, but comparisons are checked in source order: the
        n-th comparison with an operator is at that operator's n-th occurrence."""
        text = self._operator_text(op)
        index = self._operators_seen[text]
        self._operators_seen[text] += 1
        return _nth_operator(self.source, text, index)

    # -- dispatch -------------------------------------------------------------
    def visit(self, node: nodes.Node) -> Compiled:
        method = getattr(self, f"visit_{type(node).__name__}", None)
        if method is None:
            raise ExpressionError(f"{self._describe(node)} is not supported", self._node_offset(node))
        return method(node)

    def _describe(self, node) -> str:
        names = {"Getitem": "subscript [...]", "Slice": "slice", "Dict": "dict literal", "Filter": "filter"}
        return names.get(type(node).__name__, f"syntax '{type(node).__name__}'")

    def _node_offset(self, node) -> int:
        for attribute in ("name", "attr"):
            text = getattr(node, attribute, None)
            if isinstance(text, str):
                return _locate(self.source, text)
        return 0

    def _result(self, code, type_, nullable, *parts: Compiled, **extra) -> Compiled:
        reads = frozenset().union(*(p.reads for p in parts)) if parts else frozenset()
        return Compiled(self.source, code, type_, nullable, reads, **extra)

    def _guard(self, parts: list[Compiled], build) -> tuple[str, bool]:
        """Code that yields None when any nullable part is None, else ``build(codes)``."""
        codes, checks = [], []
        for part in parts:
            if part.nullable:
                temp = self.ns.temp()
                checks.append(f"({temp} := {part.code}) is None")
                codes.append(temp)
            else:
                codes.append(part.code)
        body = build(codes)
        if not checks:
            return body, False
        return f"(None if {' or '.join(checks)} else {body})", True

    # -- leaves ---------------------------------------------------------------
    def visit_Const(self, node: nodes.Const) -> Compiled:
        value = node.value
        if value is None:
            type_ = "none"
        elif isinstance(value, bool):
            type_ = "boolean"
        elif isinstance(value, int):
            type_ = "integer"
        elif isinstance(value, float):
            type_ = "number"
        elif isinstance(value, str):
            type_ = "string"
        else:
            raise ExpressionError(f"literal {value!r} is not supported")
        code = repr(value) if type_ != "number" or math.isfinite(value) else self.ns.constant(value)  # 1e999
        return self._result(code, type_, value is None, constant=True, value=value)

    def visit_List(self, node) -> Compiled:
        items = [self.visit(item) for item in node.items]
        element = "any"
        for item in items:
            if item.type == "none":
                continue
            if element != "any" and not _compatible(element, item.type):
                raise ExpressionError(f"list mixes {element} and {item.type} values", _locate(self.source, "["))
            element = item.type if element in ("any", "integer") else element
        missing = any(item.nullable for item in items)
        if all(item.constant for item in items):
            values = tuple(item.value for item in items)
            return self._result(
                self.ns.constant(values), "list", False, *items,
                constant=True, value=values, element_type=element, element_nullable=missing,
            )
        code = "(" + "".join(f"{item.code}, " for item in items) + ")"
        return self._result(code, "list", False, *items, element_type=element, element_nullable=missing)

    visit_Tuple = visit_List

    def visit_Name(self, node: nodes.Name) -> Compiled:
        symbol = self.scope.get(node.name)
        if symbol is None:
            if node.name in self.functions:
                raise ExpressionError(f"{node.name!r} is a function; call it as {node.name}(...)", _locate(self.source, node.name))
            raise ExpressionError(
                f"unknown name {node.name!r}",
                _locate(self.source, node.name),
                did_you_mean(node.name, self.scope),
            )
        return Compiled(self.source, symbol.code, symbol.type, symbol.nullable, frozenset({symbol.name}))

    def visit_Getattr(self, node: nodes.Getattr) -> Compiled:
        offset = _attribute_offset(self.source, node.attr)
        if node.attr.startswith("_"):
            raise ExpressionError(f"attribute {node.attr!r} is not allowed", offset)
        if not isinstance(node.node, nodes.Name) or node.node.name not in self.scope:
            raise ExpressionError(f"attribute {node.attr!r} can only be read from a scheme outcome", offset)
        symbol = self.scope[node.node.name]
        if symbol.type != "outcome":
            raise ExpressionError(f"{symbol.name!r} is a {symbol.type} and has no attribute {node.attr!r}", offset)
        attribute = symbol.attributes.get(node.attr)
        if attribute is None:
            allowed = ", ".join(sorted(symbol.attributes))
            raise ExpressionError(
                f"scheme {symbol.name!r} has no attribute {node.attr!r} (it has {allowed})",
                offset,
                did_you_mean(node.attr, symbol.attributes),
            )
        return Compiled(self.source, attribute.code, attribute.type, attribute.nullable, frozenset({symbol.name}))

    # -- operators ------------------------------------------------------------
    def visit_Compare(self, node: nodes.Compare) -> Compiled:
        left_node, left = node.expr, self.visit(node.expr)
        links = []
        for operand in node.ops:
            right = self.visit(operand.expr)
            self._check_comparison(operand.op, left, right, left_node, operand.expr)
            links.append((operand.op, left, right))
            left_node, left = operand.expr, right
        if len(links) == 1:
            return self._comparison(*links[0])
        # a < b < c: every middle operand evaluated once, the links joined with `and`.
        # A middle operand that is more than a name or a literal is computed first into a
        # temporary: inside a link, a missing left side would skip its evaluation.
        assignments, middles = [], []
        for _, _, middle in links[:-1]:
            if not (middle.constant or middle.code.isidentifier()):
                temp = self.ns.temp()
                assignments.append(f"({temp} := {middle.code}), ")
                middle = dataclasses.replace(middle, code=temp, constant=False)
            middles.append(middle)
        parts = []
        for index, (op, left, right) in enumerate(links):
            left = middles[index - 1] if index else left
            right = middles[index] if index < len(middles) else right
            parts.append(self._comparison(op, left, right))
        result = parts[0]
        for part in parts[1:]:
            result = self._kleene("and", result, part)
        if assignments:
            result = dataclasses.replace(result, code=f"({''.join(assignments)}{result.code})[-1]")
        return result

    def _check_comparison(self, op, left: Compiled, right: Compiled, left_node, right_node) -> None:
        offset = self._operator_offset(op)
        if "none" in (left.type, right.type) and op in ("eq", "ne"):
            raise ExpressionError(
                "comparing with none is always missing", offset, "test for a missing value with 'is none' or 'is not none'"
            )
        if op in ("in", "notin"):
            if right.type == "string":
                if left.type not in ("string", "any"):
                    raise ExpressionError(f"'in' a string needs a string on the left, not a {left.type}", offset)
                return
            if right.type not in ("list", "any"):
                raise ExpressionError(f"'in' needs a list or a string on the right, not a {right.type}", offset)
            if not _compatible(left.type, right.element_type):
                raise ExpressionError(f"cannot look for a {left.type} in a list of {right.element_type} values", offset)
            self._check_enum_literals(left_node, right_node)
            return
        if not _compatible(left.type, right.type):
            hint = "write dates as date('2024-01-31')" if "date" in (left.type, right.type) else None
            raise ExpressionError(f"cannot compare a {left.type} with a {right.type}", offset, hint)
        if op not in ("eq", "ne") and left.type not in ORDERED | {"any"}:
            raise ExpressionError(f"a {left.type} has no order; only == and != apply", offset)
        self._check_enum_literals(left_node, right_node)
        self._check_enum_literals(right_node, left_node)

    def _check_enum_literals(self, name_node, literal_node) -> None:
        """``industry == 'goverment'`` can never be true: say so, with a suggestion."""
        if not isinstance(name_node, nodes.Name) or name_node.name not in self.scope:
            return
        allowed = self.scope[name_node.name].values
        if not allowed:
            return
        literals = literal_node.items if isinstance(literal_node, (nodes.List, nodes.Tuple)) else [literal_node]
        for literal in literals:
            if isinstance(literal, nodes.Const) and isinstance(literal.value, str) and literal.value not in allowed:
                raise ExpressionError(
                    f"{literal.value!r} is not a value of {name_node.name} ({', '.join(allowed)})",
                    _quoted_text_offset(self.source, literal.value),
                    did_you_mean(literal.value, allowed),
                )

    def _operator_text(self, op: str) -> str:
        return {"in": "in", "notin": "not in"}.get(op) or self.COMPARE[op]

    def _comparison(self, op, left: Compiled, right: Compiled) -> Compiled:
        if op in ("in", "notin"):
            negate = "not " if op == "notin" else ""
            container = right
            if right.constant and right.type == "list":
                container = Compiled(self.source, self.ns.constant(frozenset(right.value)), "list", False, right.reads)
            if right.type == "list" and right.element_nullable:
                member = self.ns.constant(_member, "_f")
                code, _ = self._guard([left, container], lambda c: f"{member}({c[0]}, {c[1]}, {op == 'notin'})")
                return self._result(code, "boolean", True, left, right)
            code, nullable = self._guard([left, container], lambda c: f"({c[0]} {negate}in {c[1]})")
            return self._result(code, "boolean", nullable, left, right)
        symbol = self.COMPARE[op]
        code, nullable = self._guard([left, right], lambda c: f"({c[0]} {symbol} {c[1]})")
        return self._result(code, "boolean", nullable, left, right)

    def _kleene(self, op: str, left: Compiled, right: Compiled) -> Compiled:
        if not (left.nullable or right.nullable):
            return self._result(f"({left.code} {op} {right.code})", "boolean", False, left, right)
        decisive = "False" if op == "and" else "True"
        other = "True" if op == "and" else "False"
        a, b = self.ns.temp(), self.ns.temp()
        code = (
            f"({decisive} if ({a} := {left.code}) is {decisive} else "
            f"({decisive} if ({b} := {right.code}) is {decisive} else "
            f"(None if {a} is None or {b} is None else {other})))"
        )
        return self._result(code, "boolean", True, left, right)

    def _boolean_operand(self, node, operator: str) -> Compiled:
        compiled = self.visit(node)
        if compiled.type not in ("boolean", "any", "none"):
            raise ExpressionError(
                f"'{operator}' needs true/false operands, not a {compiled.type}",
                _locate(self.source, operator),
                "compare it explicitly, e.g. x > 0 or x is not none",
            )
        return compiled

    def visit_And(self, node) -> Compiled:
        return self._kleene("and", self._boolean_operand(node.left, "and"), self._boolean_operand(node.right, "and"))

    def visit_Or(self, node) -> Compiled:
        return self._kleene("or", self._boolean_operand(node.left, "or"), self._boolean_operand(node.right, "or"))

    def visit_Not(self, node) -> Compiled:
        operand = self._boolean_operand(node.node, "not")
        code, nullable = self._guard([operand], lambda c: f"(not {c[0]})")
        return self._result(code, "boolean", nullable, operand)

    def _numeric_operand(self, node, operator: str) -> Compiled:
        compiled = self.visit(node)
        if compiled.type not in NUMERIC | {"any", "none"}:
            raise ExpressionError(f"'{operator}' needs numbers, not a {compiled.type}", _locate(self.source, operator))
        return compiled

    def visit_Neg(self, node) -> Compiled:
        operand = self._numeric_operand(node.node, "-")
        code, nullable = self._guard([operand], lambda c: f"(-{c[0]})")
        return self._result(code, operand.type, nullable, operand)

    def visit_Pos(self, node) -> Compiled:
        return self._numeric_operand(node.node, "+")

    def _arithmetic(self, node, symbol: str) -> Compiled:
        left = self._numeric_operand(node.left, symbol)
        right = self._numeric_operand(node.right, symbol)
        type_ = _numeric_result(left.type, right.type)
        if symbol in ("//", "%"):
            return self._divide(left, right, symbol, type_)
        code, nullable = self._guard([left, right], lambda c: f"({c[0]} {symbol} {c[1]})")
        return self._result(code, type_, nullable, left, right)

    def _divide(self, left: Compiled, right: Compiled, symbol: str, type_: str) -> Compiled:
        """A zero divisor gives a missing value, as in SQL."""
        divisor = self.ns.temp()
        code, _ = self._guard(
            [left, right], lambda c: f"(None if ({divisor} := {c[1]}) == 0 else {c[0]} {symbol} {divisor})"
        )
        return self._result(code, type_, True, left, right)

    def visit_Add(self, node):
        return self._arithmetic(node, "+")

    def visit_Sub(self, node):
        return self._arithmetic(node, "-")

    def visit_Mul(self, node):
        return self._arithmetic(node, "*")

    def visit_Mod(self, node):
        return self._arithmetic(node, "%")

    def visit_FloorDiv(self, node):
        return self._arithmetic(node, "//")

    def visit_Div(self, node) -> Compiled:
        left = self._numeric_operand(node.left, "/")
        right = self._numeric_operand(node.right, "/")
        return self._divide(left, right, "/", "number")

    def visit_Pow(self, node) -> Compiled:
        left = self._numeric_operand(node.left, "**")
        right = self._numeric_operand(node.right, "**")
        power = self.ns.constant(_safe_power, "_f")
        code, _ = self._guard([left, right], lambda c: f"{power}({c[0]}, {c[1]})")
        return self._result(code, "number", True, left, right)

    def visit_Concat(self, node) -> Compiled:
        parts = [self.visit(item) for item in node.nodes]
        text = self.ns.constant(_text, "_f")
        code, nullable = self._guard(parts, lambda c: "(" + " + ".join(f"{text}({x})" for x in c) + ")")
        return self._result(code, "string", nullable, *parts)

    def visit_CondExpr(self, node) -> Compiled:
        test = self._boolean_operand(node.test, "if")
        yes = self.visit(node.expr1)
        no = self.visit(node.expr2) if node.expr2 is not None else self.visit_Const(nodes.Const(None))
        type_ = _unify(yes.type, no.type)
        if type_ is None:
            raise ExpressionError(f"the branches of 'if … else' give a {yes.type} and a {no.type}", _locate(self.source, "else"))
        code = f"({yes.code} if {test.code} else {no.code})"
        return self._result(code, type_, yes.nullable or no.nullable, test, yes, no)

    # -- tests, filters, calls ------------------------------------------------
    def visit_Test(self, node: nodes.Test) -> Compiled:
        operand = self.visit(node.node)
        if node.name in ("none", "undefined"):
            code = f"({operand.code} is None)" if operand.nullable else "False"
        elif node.name == "defined":
            code = f"({operand.code} is not None)" if operand.nullable else "True"
        else:
            raise ExpressionError(
                f"unknown test 'is {node.name}'", _locate(self.source, node.name), "use 'is none' or 'is defined'"
            )
        if node.args or node.kwargs or node.dyn_args or node.dyn_kwargs:
            raise ExpressionError(f"'is {node.name}' takes no arguments", _locate(self.source, node.name))
        return self._result(code, "boolean", False, operand)

    def visit_Filter(self, node: nodes.Filter) -> Compiled:
        if node.node is None:
            raise ExpressionError("a filter needs a value on its left", _locate(self.source, node.name))
        return self._call(node.name, [node.node, *node.args], node)

    def visit_Call(self, node: nodes.Call) -> Compiled:
        if not isinstance(node.node, nodes.Name):
            target = getattr(node.node, "attr", None) or getattr(node.node, "name", "this")
            raise ExpressionError(
                f"only registered functions can be called; {target!r} is not one",
                _attribute_offset(self.source, target) if isinstance(node.node, nodes.Getattr) else 0,
            )
        return self._call(node.node.name, node.args, node)

    def _call(self, name: str, arg_nodes, node) -> Compiled:
        offset = _locate(self.source, name)
        if node.kwargs or node.dyn_args or node.dyn_kwargs:
            raise ExpressionError(f"{name}() takes positional arguments only", offset)
        function = self.functions.get(name)
        if function is None:
            raise ExpressionError(f"unknown function {name!r}", offset, did_you_mean(name, self.functions))
        args = [self.visit(arg) for arg in arg_nodes]
        self._check_arguments(function, args, offset)
        if function.null_safe:
            self._check_alternatives(function, args, offset)
        if args and all(arg.constant for arg in args) and not function.needs_as_of:
            return self._folded(function, args, offset)
        impl = self.ns.constant(function.impl, "_f")
        prefix = ["as_of"] if function.needs_as_of else []
        if function.null_safe:
            code = f"{impl}({', '.join(prefix + [a.code for a in args])})"
            nullable = function.nullable([a.nullable for a in args])
        else:
            code, _ = self._guard(args, lambda c: f"{impl}({', '.join(prefix + c)})")
            nullable = True  # a function may find no answer (e.g. log of zero)
        return self._result(code, function.result_type([a.type for a in args]), nullable, *args)

    def _folded(self, function: Function, args: list[Compiled], offset: int) -> Compiled:
        """A call on constants is worked out once, now; ``date('2024-02-30')`` is then an
        error when the ruleset is validated, not a condition that silently never holds."""
        values = [arg.value for arg in args]
        shown = f"{function.name}({', '.join(map(repr, values))})"
        if not function.null_safe and any(value is None for value in values):
            return self._result("None", function.result_type([a.type for a in args]), True, *args, constant=True)
        try:
            value = function.impl(*values)
        except Exception as error:  # a plugin's function refusing these arguments
            raise ExpressionError(f"{shown} fails: {error}", offset) from None
        result_type = function.result_type([a.type for a in args])
        if value is None and result_type == "date":  # a date literal that does not exist is a typo
            raise ExpressionError(f"{shown} is not a date", offset, "write an existing date as YYYY-MM-DD")
        if value is None:  # no answer (e.g. the log of zero): missing, as it would be per customer
            return self._result("None", result_type, True, *args, constant=True)
        code = repr(value) if isinstance(value, (bool, int, str)) else self.ns.constant(value)
        return self._result(code, function.result_type([a.type for a in args]), False, *args, constant=True, value=value)

    def _check_arguments(self, function: Function, args: list[Compiled], offset: int) -> None:
        least = len(function.params) if function.min_args is None else function.min_args
        most = None if function.variadic else len(function.params)
        if len(args) < least or (most is not None and len(args) > most):
            expected = f"{least}" if least == most else f"{least} or more" if most is None else f"{least} to {most}"
            raise ExpressionError(f"{function.name}() takes {expected} arguments, got {len(args)}", offset)
        for index, arg in enumerate(args):
            expected = function.params[min(index, len(function.params) - 1)]
            if expected == "any" or arg.type in ("any", "none"):
                continue
            if expected == arg.type or (expected == "number" and arg.type == "integer"):
                continue
            hint = "write dates as date('2024-01-31')" if expected == "date" and arg.type == "string" else None
            raise ExpressionError(
                f"argument {index + 1} of {function.name}() must be a {expected}, not a {arg.type}", offset, hint
            )

    def _check_alternatives(self, function: Function, args: list[Compiled], offset: int) -> None:
        """A null-safe function (``default``, ``coalesce``) gives one of its ``any``
        arguments, so they must have one type: a string fallback for a number would
        break whatever uses the result."""
        common = "none"
        for index, arg in enumerate(args):
            if function.params[min(index, len(function.params) - 1)] != "any":
                continue
            unified = _unify(common, arg.type)
            if unified is None:
                raise ExpressionError(
                    f"the arguments of {function.name}() must have one type, not a {common} and a {arg.type}", offset
                )
            common = unified


def _unify(left: str, right: str) -> str | None:
    if left == right:
        return left
    if left == "none":
        return right
    if right == "none":
        return left
    if left in NUMERIC and right in NUMERIC:
        return "number"
    if "any" in (left, right):
        return "any"
    return None


def _member(value, items, negate: bool):
    """``in`` as SQL's ``IN``: true when an item equals the value, else missing when an
    item is missing (it might have matched), else false; ``not in`` is its negation."""
    if value in items:
        return not negate
    return None if None in items else negate


def _safe_power(base, exponent):
    """``**`` with no way to hang a run on a huge power or raise on a bad one."""
    try:
        result = float(base) ** float(exponent)
    except (OverflowError, ZeroDivisionError):
        return None
    return None if isinstance(result, complex) else result


def _text(value) -> str:
    """How ``~`` writes a value: whole floats without ``.0``, booleans as Jinja does."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)
