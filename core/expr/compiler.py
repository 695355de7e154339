"""The expression compiler: Jinja2 expression syntax in, Python or SQL out.

Consultants write conditions and scores the way they know from Ansible ``when:`` and
dbt: ``annual_procurement >= 1e8 and industry in ['government', 'finance']``.  Jinja's
own parser reads the text; this module walks the tree and emits code, so no Jinja
runtime runs per customer and no user text is ever evaluated as Python or run as SQL.

The front end (:class:`Checker`) checks names, types, calls and nullability against a
scope of :class:`Symbol` s, folds calls on constants and places every error at its
column; it asks an emitter for the code of each piece it accepts.  Two back ends:

- :class:`PythonEmitter` (:func:`compile_expression`): Python source the plan compiles
  once; missing operands are tested through temporaries, constants and helpers live
  in a :class:`Namespace`;
- :class:`tierkit.ir.from_expr.IrEmitter`: nodes of the engine-neutral IR
  (:mod:`tierkit.ir`), lowered to SQL for DuckDB and Spark
  (:func:`tierkit.ir.from_expr.compile_sql_expression`) with the same value as the
  Python code for every row, including where SQL's own operators differ.

Null semantics (a missing value is ``None`` in Python, NULL in SQL), the same as SQL's
so that every back end agrees:

- arithmetic, comparisons, ``in`` and function calls with a missing operand give a
  missing result; division (``/``, ``//``, ``%``) by zero gives a missing result;
- ``//`` is floor division and ``%`` takes the divisor's sign (as in Python), integers
  when both operands are; ``/`` and ``**`` give floating-point numbers, ``**`` missing
  when it has no real finite answer;
- ``x in [a, b]`` is ``x == a or x == b``: a missing item leaves the result missing
  unless another item matches (``not in`` negates that); ``in`` a string is a substring
  test, ``in`` a list value (a list field) plain membership;
- ``and``/``or``/``not`` use three-valued logic: ``false and missing`` is false,
  ``true or missing`` is true, otherwise a missing operand makes the result missing;
- a condition that is missing counts as not met (``x if c else y`` gives ``y``);
- ``x is none`` / ``x is defined`` test for a missing value and are never missing;
  ``x | default(y)`` replaces a missing value;
- ``~`` writes whole floats without ``.0``, booleans as ``True``/``False``, dates as
  ISO text.

Security: only declared names, attributes from a fixed list, and registered functions
can appear; anything else (dunder attributes, subscripts, method calls, imports) is a
ruleset error with a position, found when the ruleset is validated.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import difflib
import functools
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

from tierkit.errors import Diagnostic, Position
from tierkit.registry import Function

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
    inputs: frozenset[str] = frozenset()  # the names a derived feature reads


@dataclass(frozen=True)
class Compiled:
    """A checked expression: its source, its code (Python, SQL, or an IR node for a kind
    reading it through :class:`tierkit.kinds.IrBuild`), its type, and the names it reads.

    ``items`` holds the compiled items of a list literal (``None`` for any other value)."""

    source: str
    code: str
    type: str
    nullable: bool
    reads: frozenset[str]
    constant: bool = False
    value: Any = None
    element_type: str = "any"
    element_nullable: bool = False
    items: tuple[Compiled, ...] | None = field(default=None, repr=False, compare=False)


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


def names_in(source: str) -> set[str]:
    """The names an expression reads (functions' names included); none for one that
    does not parse, whose syntax error is reported when it is compiled."""
    try:
        tree = parse(source)
        return {node.name for node in [tree, *tree.find_all(nodes.Name)] if isinstance(node, nodes.Name)}
    except Exception:
        return set()


NOT_A_LITERAL = object()


def literal_value(node: nodes.Node) -> Any:
    """The value a literal node writes: a string, a boolean or a number, a negative
    number (``-5`` parses as ``Neg(Const(5))``) included; :data:`NOT_A_LITERAL` for any
    other node.  For authoring checks that read an expression without running it."""
    if isinstance(node, nodes.Const) and isinstance(node.value, (str, bool, int, float)):
        return node.value
    if isinstance(node, nodes.Neg) and isinstance(node.node, nodes.Const) \
            and isinstance(node.node.value, (int, float)) and not isinstance(node.node.value, bool):
        return -node.node.value
    return NOT_A_LITERAL


def constant_values(source: str) -> list | None:
    """Every value an expression can give, when each is a constant: a number or
    true/false, or ``a if c else b`` of such (nested), in the order written; ``None``
    when it can give any other value (or does not parse: its error is reported where
    it is compiled).  For authoring checks that prove a value is always on one side of
    a cut."""
    try:
        tree = parse(source)
    except Exception:
        return None

    def values(node) -> list | None:
        if isinstance(node, nodes.CondExpr) and node.expr2 is not None:
            left, right = values(node.expr1), values(node.expr2)
            return None if left is None or right is None else left + right
        value = literal_value(node)
        return [value] if isinstance(value, (int, float)) else None  # a number or true/false

    return values(tree)


def compile_expression(
    source: str,
    scope: Mapping[str, Symbol],
    functions: Mapping[str, Function],
    namespace: Namespace,
    position: Position | None = None,
) -> Compiled:
    """Check and compile one expression to Python, or raise :class:`ExpressionDiagnostic`."""
    return compile_with(source, scope, functions, PythonEmitter(namespace), position)


def compile_with(source, scope, functions, emitter, position=None) -> Compiled:
    """Check ``source`` and have ``emitter`` (a back end) write the code of what it accepts."""
    if not isinstance(source, str) or not source.strip():
        raise ExpressionDiagnostic(Diagnostic("expression is empty", position))
    try:
        tree = parse(source)
        compiled = Checker(source, scope, functions, emitter).visit(tree)
        if isinstance(emitter, PythonEmitter):
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
    """A hint naming the candidate closest to a misspelt ``name`` (``did you mean
    'finance'?``), or ``None`` when none is close."""
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


class Checker:
    """The front end: walks a Jinja expression tree, checks names, types and calls
    against the scope, folds calls on constants, and asks its emitter for the code of
    every piece it accepts."""

    OPERATOR_TEXT = {"eq": "==", "ne": "!=", "gt": ">", "gteq": ">=", "lt": "<", "lteq": "<=", "in": "in", "notin": "not in"}

    def __init__(self, source, scope, functions, emitter):
        self.source = source
        self.scope = scope
        self.functions = functions
        self.emit = emitter
        self._operators_seen: Counter[str] = Counter()

    def _operator_offset(self, op: str) -> int:
        """Jinja gives no columns, but comparisons are checked in source order: the
        n-th comparison with an operator is at that operator's n-th occurrence."""
        text = self.OPERATOR_TEXT[op]
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
        return self._result(self.emit.literal(value, type_), type_, value is None, constant=True, value=value)

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
        extra = dict(element_type=element, element_nullable=missing, items=tuple(items))
        if all(item.constant for item in items):
            values = tuple(item.value for item in items)
            code = self.emit.list_(items, element, values)
            return self._result(code, "list", False, *items, constant=True, value=values, **extra)
        return self._result(self.emit.list_(items, element, None), "list", False, *items, **extra)

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
        parts = [part for _, left, right in links for part in (left, right)]
        nullable = any(_link_nullable(*link) for link in links)
        if len(links) == 1:
            return self._result(self.emit.comparison(*links[0]), "boolean", nullable, *parts)
        return self._result(self.emit.chain(links), "boolean", nullable, *parts)

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

    def _boolean_operand(self, node, operator: str) -> Compiled:
        compiled = self.visit(node)
        if compiled.type not in ("boolean", "any", "none"):
            raise ExpressionError(
                f"'{operator}' needs true/false operands, not a {compiled.type}",
                _locate(self.source, operator),
                "compare it explicitly, e.g. x > 0 or x is not none",
            )
        return compiled

    def _logical(self, op: str, node) -> Compiled:
        left, right = self._boolean_operand(node.left, op), self._boolean_operand(node.right, op)
        return self._result(self.emit.logical(op, left, right), "boolean", left.nullable or right.nullable, left, right)

    def visit_And(self, node) -> Compiled:
        return self._logical("and", node)

    def visit_Or(self, node) -> Compiled:
        return self._logical("or", node)

    def visit_Not(self, node) -> Compiled:
        operand = self._boolean_operand(node.node, "not")
        return self._result(self.emit.not_(operand), "boolean", operand.nullable, operand)

    def _numeric_operand(self, node, operator: str) -> Compiled:
        compiled = self.visit(node)
        if compiled.type not in NUMERIC | {"any", "none"}:
            raise ExpressionError(f"'{operator}' needs numbers, not a {compiled.type}", _locate(self.source, operator))
        return compiled

    def visit_Neg(self, node) -> Compiled:
        operand = self._numeric_operand(node.node, "-")
        return self._result(self.emit.negative(operand), operand.type, operand.nullable, operand)

    def visit_Pos(self, node) -> Compiled:
        return self._numeric_operand(node.node, "+")

    def _arithmetic(self, node, symbol: str) -> Compiled:
        left = self._numeric_operand(node.left, symbol)
        right = self._numeric_operand(node.right, symbol)
        type_ = "number" if symbol == "/" else _numeric_result(left.type, right.type)
        if symbol in ("/", "//", "%"):  # a zero divisor gives a missing value, as in SQL
            return self._result(self.emit.divide(symbol, left, right, type_), type_, True, left, right)
        code = self.emit.arithmetic(symbol, left, right, type_)
        return self._result(code, type_, left.nullable or right.nullable, left, right)

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

    def visit_Div(self, node):
        return self._arithmetic(node, "/")

    def visit_Pow(self, node) -> Compiled:
        left = self._numeric_operand(node.left, "**")
        right = self._numeric_operand(node.right, "**")
        return self._result(self.emit.power(left, right), "number", True, left, right)

    def visit_Concat(self, node) -> Compiled:
        parts = [self.visit(item) for item in node.nodes]
        return self._result(self.emit.concat(parts), "string", any(p.nullable for p in parts), *parts)

    def visit_CondExpr(self, node) -> Compiled:
        test = self._boolean_operand(node.test, "if")
        yes = self.visit(node.expr1)
        no = self.visit(node.expr2) if node.expr2 is not None else self.visit_Const(nodes.Const(None))
        type_ = _unify(yes.type, no.type)
        if type_ is None:
            raise ExpressionError(f"the branches of 'if … else' give a {yes.type} and a {no.type}", _locate(self.source, "else"))
        code = self.emit.condition(test, yes, no, type_)
        return self._result(code, type_, yes.nullable or no.nullable, test, yes, no)

    # -- tests, filters, calls ------------------------------------------------
    def visit_Test(self, node: nodes.Test) -> Compiled:
        operand = self.visit(node.node)
        if node.name not in ("none", "undefined", "defined"):
            raise ExpressionError(
                f"unknown test 'is {node.name}'", _locate(self.source, node.name), "use 'is none' or 'is defined'"
            )
        if node.args or node.kwargs or node.dyn_args or node.dyn_kwargs:
            raise ExpressionError(f"'is {node.name}' takes no arguments", _locate(self.source, node.name))
        return self._result(self.emit.is_missing(operand, node.name != "defined"), "boolean", False, operand)

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
        result_type = function.result_type([a.type for a in args])
        if args and all(arg.constant for arg in args) and not function.needs_as_of:
            return self._folded(function, args, result_type, offset)
        if function.null_safe:
            nullable = function.nullable([a.nullable for a in args])
        else:
            nullable = True  # a function may find no answer (e.g. log of zero)
        as_of = None
        if function.needs_as_of:  # the run's as-of date, passed first
            symbol = self.scope.get("as_of")
            as_of = Compiled(self.source, symbol.code if symbol else "as_of", "date", False, frozenset())
        code = self.emit.call(function, args, result_type, as_of, offset)
        return self._result(code, result_type, nullable, *args)

    def _folded(self, function: Function, args: list[Compiled], result_type: str, offset: int) -> Compiled:
        """A call on constants is worked out once, now; ``date('2024-02-30')`` is then an
        error when the ruleset is validated, not a condition that silently never holds."""
        values = [arg.value for arg in args]
        shown = f"{function.name}({', '.join(map(repr, values))})"
        if not function.null_safe and any(value is None for value in values):
            return self._result(self.emit.value(None, result_type), result_type, True, *args, constant=True)
        try:
            value = _typed(function, result_type)(*values)
        except Exception as error:  # a plugin's function refusing these arguments, or giving the wrong type
            raise ExpressionError(f"{shown} fails: {error}", offset) from None
        if value is None and result_type == "date":  # a date literal that does not exist is a typo
            raise ExpressionError(f"{shown} is not a date", offset, "write an existing date as YYYY-MM-DD")
        if value is None:  # no answer (e.g. the log of zero): missing, as it would be per customer
            return self._result(self.emit.value(None, result_type), result_type, True, *args, constant=True)
        code = self.emit.value(value, result_type)
        return self._result(code, result_type, False, *args, constant=True, value=value)

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


def _link_nullable(op: str, left: Compiled, right: Compiled) -> bool:
    """Whether one comparison may be missing: a missing operand, or (``in`` a list
    literal) a missing item that might have matched."""
    if op in ("in", "notin") and right.type == "list" and right.element_nullable:
        return True
    return left.nullable or right.nullable


class PythonEmitter:
    """The Python back end: source the plan compiles into its row function.  Missing
    operands are tested once each through assignment expressions into temporaries;
    constants and helper functions live in the :class:`Namespace`."""

    COMPARE = {"eq": "==", "ne": "!=", "gt": ">", "gteq": ">=", "lt": "<", "lteq": "<="}

    def __init__(self, namespace: Namespace):
        self.ns = namespace

    def _guard(self, parts: list[Compiled], build) -> str:
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
            return body
        return f"(None if {' or '.join(checks)} else {body})"

    # -- values -----------------------------------------------------------------
    def literal(self, value, type_: str) -> str:
        return repr(value) if type_ != "number" or math.isfinite(value) else self.ns.constant(value)  # 1e999

    def value(self, value, type_: str) -> str:
        """A value worked out while compiling (a folded call)."""
        if value is None:
            return "None"
        return repr(value) if isinstance(value, (bool, int, str)) else self.ns.constant(value)

    def list_(self, items: list[Compiled], element_type: str, values: tuple | None) -> str:
        if values is not None:
            return self.ns.constant(values)
        return "(" + "".join(f"{item.code}, " for item in items) + ")"

    # -- comparisons and logic ----------------------------------------------------
    def comparison(self, op, left: Compiled, right: Compiled) -> str:
        if op in ("in", "notin"):
            negate = "not " if op == "notin" else ""
            container = right
            if right.constant and right.type == "list":
                container = Compiled(right.source, self.ns.constant(frozenset(right.value)), "list", False, right.reads)
            if right.type == "list" and right.element_nullable:
                member = self.ns.constant(_member, "_f")
                return self._guard([left, container], lambda c: f"{member}({c[0]}, {c[1]}, {op == 'notin'})")
            return self._guard([left, container], lambda c: f"({c[0]} {negate}in {c[1]})")
        symbol = self.COMPARE[op]
        return self._guard([left, right], lambda c: f"({c[0]} {symbol} {c[1]})")

    def chain(self, links) -> str:
        """``a < b < c``: every middle operand evaluated once, the links joined with `and`.
        A middle operand that is more than a name or a literal is computed first into a
        temporary: inside a link, a missing left side would skip its evaluation."""
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
            parts.append((self.comparison(op, left, right), _link_nullable(op, left, right)))
        code, nullable = parts[0]
        for part, part_nullable in parts[1:]:
            code, nullable = self._kleene("and", code, nullable, part, part_nullable), nullable or part_nullable
        return f"({''.join(assignments)}{code})[-1]" if assignments else code

    def _kleene(self, op: str, left: str, left_nullable: bool, right: str, right_nullable: bool) -> str:
        if not (left_nullable or right_nullable):
            return f"({left} {op} {right})"
        decisive = "False" if op == "and" else "True"
        other = "True" if op == "and" else "False"
        a, b = self.ns.temp(), self.ns.temp()
        return (
            f"({decisive} if ({a} := {left}) is {decisive} else "
            f"({decisive} if ({b} := {right}) is {decisive} else "
            f"(None if {a} is None or {b} is None else {other})))"
        )

    def logical(self, op: str, left: Compiled, right: Compiled) -> str:
        return self._kleene(op, left.code, left.nullable, right.code, right.nullable)

    def not_(self, operand: Compiled) -> str:
        return self._guard([operand], lambda c: f"(not {c[0]})")

    def is_missing(self, operand: Compiled, missing: bool) -> str:
        if not operand.nullable:
            return "False" if missing else "True"
        return f"({operand.code} is None)" if missing else f"({operand.code} is not None)"

    # -- arithmetic -----------------------------------------------------------------
    def negative(self, operand: Compiled) -> str:
        return self._guard([operand], lambda c: f"(-{c[0]})")

    def arithmetic(self, symbol: str, left: Compiled, right: Compiled, type_: str) -> str:
        return self._guard([left, right], lambda c: f"({c[0]} {symbol} {c[1]})")

    def divide(self, symbol: str, left: Compiled, right: Compiled, type_: str) -> str:
        divisor = self.ns.temp()
        return self._guard(
            [left, right], lambda c: f"(None if ({divisor} := {c[1]}) == 0 else {c[0]} {symbol} {divisor})"
        )

    def power(self, left: Compiled, right: Compiled) -> str:
        power = self.ns.constant(_safe_power, "_f")
        return self._guard([left, right], lambda c: f"{power}({c[0]}, {c[1]})")

    def concat(self, parts: list[Compiled]) -> str:
        text = self.ns.constant(_text, "_f")
        return self._guard(parts, lambda c: "(" + " + ".join(f"{text}({x})" for x in c) + ")")

    def condition(self, test: Compiled, yes: Compiled, no: Compiled, type_: str) -> str:
        return f"({yes.code} if {test.code} else {no.code})"

    # -- calls ------------------------------------------------------------------------
    def call(self, function: Function, args: list[Compiled], type_: str, as_of: Compiled | None, offset: int) -> str:
        impl = self.ns.constant(_typed(function, type_), "_f")
        prefix = ["as_of"] if as_of is not None else []
        if function.null_safe:
            return f"{impl}({', '.join(prefix + [a.code for a in args])})"
        return self._guard(args, lambda c: f"{impl}({', '.join(prefix + c)})")


_PYTHON_TYPES = {"number": (int, float), "integer": (int, float), "string": (str,), "boolean": (bool,),
                 "date": (dt.date,), "list": (list, tuple)}


@functools.cache  # one wrapper per function and type: compiling twice gives the same code and values
def _typed(function: Function, type_: str):
    """``function.impl``, failing with the function's name when it returns a value of
    another type than it declared (a plugin's bug would otherwise surface as a puzzling
    comparison error, or a wrong result, far from its cause)."""
    expected = _PYTHON_TYPES.get(type_)
    if expected is None:
        return function.impl
    impl, name, numeric = function.impl, function.name, type_ in NUMERIC

    @functools.wraps(impl)
    def checked(*args):
        value = impl(*args)
        if value is None or (isinstance(value, expected) and not (numeric and isinstance(value, bool))):
            return value
        raise TypeError(f"function {name}() returned {type(value).__name__} {_shown(value)}, not a {type_}")

    return checked


def _shown(value) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


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
