"""The ruleset JSON Schema, composed from the core schema and the installed kinds, and
validation whose every error is a sentence at ``file:line:col``.

The static part ships as package data (``ruleset-core.schema.json``).  Each scheme kind
adds its ``config_schema``: an object schema whose ``properties`` (and ``required``)
are the keys a scheme of that kind takes besides ``id``, ``kind``, ``label`` and
``description``.  It may ``$ref`` the core definitions (``#/$defs/label``,
``#/$defs/expression``, ``#/$defs/identifier``, ``#/$defs/plan``) and may carry
``$defs`` of its own, which are hoisted to ``#/$defs/<kind>.<name>``.  A scheme is
checked against its kind's keys only (``if kind == K then ...``), so a typo in a key is
an error; a scheme of an unknown kind reports the unknown kind and nothing else.
"""

from __future__ import annotations

import copy
import difflib
import json
import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache, lru_cache
from importlib.resources import files
from typing import TYPE_CHECKING, Any

from tierkit.errors import Diagnostic, TierkitError
from tierkit.registry import SchemeKind
from tierkit.ruleset.load import Ruleset

if TYPE_CHECKING:  # jsonschema is imported when a ruleset is validated, not for every command
    from jsonschema.exceptions import ValidationError

SCHEMA_ID = "https://tierkit.dev/schema/ruleset-1.json"
COMMON_SCHEME_KEYS = ("id", "kind", "label", "description")

_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_PATTERN_WORDS = {
    "^[A-Za-z_][A-Za-z0-9_]*$": "an identifier (letters, digits and '_', not starting with a digit)",
    "^[a-z0-9][a-z0-9_-]*$": "lowercase letters, digits, '-' and '_', starting with a letter or digit",
}
_TYPE_WORDS = {
    "number": "a number",
    "integer": "a whole number",
    "string": "a string",
    "boolean": "true or false",
    "object": "a mapping",
    "array": "a list",
    "null": "empty",
}


@cache
def _core_schema_text() -> str:
    return (files("tierkit.ruleset") / "ruleset-core.schema.json").read_text(encoding="utf-8")


def core_schema() -> dict:
    """The static part of the ruleset schema (a fresh copy)."""
    return json.loads(_core_schema_text())


def ruleset_schema(kinds: Mapping[str, SchemeKind]) -> dict:
    """The full ruleset JSON Schema (Draft 2020-12) for the given scheme kinds."""
    schema = core_schema()
    defs = schema["$defs"]
    scheme = defs["scheme"]
    common = scheme["properties"]
    names = sorted(kinds)
    listing = "; ".join(f"{name}: {kinds[name].description}" for name in names) or "none installed"
    common["kind"]["enum"] = names
    common["kind"]["description"] = f"The scheme kind. Installed kinds: {listing}."
    branches = []
    for name in names:
        branches.append(
            {
                "if": {"properties": {"kind": {"const": name}}, "required": ["kind"]},
                "then": _kind_branch(name, kinds[name], common, defs),
            }
        )
    if branches:
        scheme["allOf"] = branches
    return schema


def _kind_branch(name: str, kind: SchemeKind, common: dict, defs: dict) -> dict:
    config = copy.deepcopy(dict(kind.config_schema))
    if not is_builtin(kind):
        check_config_schema(name, config)
    if config.get("type", "object") != "object":
        raise TierkitError(f"scheme kind {name!r} has a config schema that is not an object schema")
    own_defs = config.pop("$defs", {})
    renames = {f"#/$defs/{key}": f"#/$defs/{name}.{key}" for key in own_defs}
    for key, value in own_defs.items():
        defs[f"{name}.{key}"] = _rewrite_refs(value, renames)
    config = _rewrite_refs(config, renames)
    properties = config.pop("properties", {})
    required = config.pop("required", [])
    for key in ("type", "additionalProperties", "title", "description", "$id", "$schema"):
        config.pop(key, None)
    branch = {
        "title": f"{name} scheme",
        "description": kind.description,
        "properties": {**copy.deepcopy(common), **properties},
        "additionalProperties": False,
        **config,
    }
    if required:
        branch["required"] = list(required)
    return branch


def is_builtin(kind: SchemeKind) -> bool:
    """A kind of tierkit's own plugins: its schema is checked by the test suite, not on
    every run (checking all of them took most of the time of ``tierkit validate``)."""
    # A kind stated as IR compiles through the core's LogicKind: its own module is its define's.
    function = getattr(getattr(kind.compile, "__self__", None), "define", kind.compile)
    return getattr(function, "__module__", "").startswith("tierkit.plugins.")


def check_config_schema(name: str, config: Mapping[str, Any]) -> None:
    """A plugin's config schema must itself be a valid JSON Schema."""
    from jsonschema import Draft202012Validator
    from jsonschema.exceptions import SchemaError

    try:
        Draft202012Validator.check_schema(config)
    except SchemaError as error:
        raise TierkitError(f"scheme kind {name!r} has an invalid config schema: {error.message}") from None


def _rewrite_refs(value: Any, renames: dict[str, str]) -> Any:
    if isinstance(value, dict):
        return {
            k: renames.get(v, v) if k == "$ref" and isinstance(v, str) else _rewrite_refs(v, renames)
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [_rewrite_refs(v, renames) for v in value]
    return value


def undocumented_properties(schema: Mapping[str, Any]) -> list[str]:
    """Schema locations of properties that lack a ``title`` or a ``description``
    (directly, or on the definition they ``$ref``); ``if`` conditions are skipped."""
    missing: list[str] = []

    def documented(sub: Mapping[str, Any]) -> bool:
        if "title" in sub and "description" in sub:
            return True
        ref = sub.get("$ref", "")
        if ref.startswith("#/$defs/"):
            target = schema.get("$defs", {}).get(ref[len("#/$defs/") :], {})
            return "title" in target and "description" in target
        return False

    def walk(node: Any, where: str) -> None:
        if isinstance(node, dict):
            for key in ("properties", "patternProperties"):
                for prop, sub in (node.get(key) or {}).items():
                    if isinstance(sub, dict) and not documented(sub):
                        missing.append(f"{where}/{key}/{prop}")
            for key, value in node.items():
                if key != "if":  # conditions, not properties
                    walk(value, f"{where}/{key}")
        elif isinstance(node, list):
            for index, value in enumerate(node):
                walk(value, f"{where}/{index}")

    walk(dict(schema), "#")
    return missing


# -- validation ----------------------------------------------------------------------


@dataclass(frozen=True)
class _Problem:
    path: tuple
    message: str
    hint: str | None = None
    key: str | None = None  # point at this key of the mapping at ``path``
    rule: str = ""  # the JSON Schema keyword behind it
    missing: str | None = None  # for a missing required key
    at_own_key: bool = False  # point at the key the value at ``path`` stands under
    suggests: str | None = None  # for an unknown key: the allowed key it resembles


@dataclass(frozen=True)
class _KindSchema:
    """A kind as far as the schema reads it, compared by its schema's identity: the
    same installed kind in every registry a process builds."""

    kind: SchemeKind

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _KindSchema) and (self.kind.config_schema is other.kind.config_schema
                                                   and self.kind.description == other.kind.description)

    def __hash__(self) -> int:
        return hash((id(self.kind.config_schema), self.kind.description))


@lru_cache(maxsize=8)
def _validator(kinds: tuple[tuple[str, _KindSchema], ...]):
    """The validator of the schema for these kinds, built once per process: composing the
    schema and its validator was most of validating a ruleset, in a process (a test
    run, a service) that validates many."""
    from jsonschema import Draft202012Validator

    return Draft202012Validator(ruleset_schema({name: held.kind for name, held in kinds}))


def validate_ruleset(ruleset: Ruleset, kinds: Mapping[str, SchemeKind]) -> list[Diagnostic]:
    """Every schema error of ``ruleset`` as a sentence at its position, sorted."""
    validator = _validator(tuple((name, _KindSchema(kinds[name])) for name in sorted(kinds)))
    problems: list[_Problem] = []
    for error in validator.iter_errors(ruleset.data):
        problems.extend(_explain(error, kinds))
    problems.extend(_duplicate_scheme_ids(ruleset))
    problems = _prune(problems)

    diagnostics: list[Diagnostic] = []
    seen = set()
    for problem in problems:
        if problem.key is not None:
            position = ruleset.key_position(*problem.path, problem.key)
        elif problem.at_own_key:
            position = ruleset.key_position(*problem.path)
        else:
            position = ruleset.position(*problem.path)
        diagnostic = Diagnostic(problem.message, position, hint=problem.hint)
        if diagnostic not in seen:
            seen.add(diagnostic)
            diagnostics.append(diagnostic)
    files = [str(f) for f in ruleset.files] or [str(ruleset.source)]

    def order(d: Diagnostic):
        p = d.position
        if p is None:
            return (1, 0, "", 0, 0, d.message)
        rank = files.index(p.file) if p.file in files else len(files)
        return (0, rank, p.file, p.line or 0, p.col or 0, d.message)

    return sorted(diagnostics, key=order)


def _prune(problems: list[_Problem]) -> list[_Problem]:
    """One problem each: a wrong type hides other complaints about the same value, and
    a misspelt key (with its suggestion) hides the 'missing required key' it causes."""
    typed = {p.path for p in problems if p.rule == "type" and p.key is None}
    suggested = {(p.path, p.suggests) for p in problems if p.suggests}
    kept = []
    for p in problems:
        if p.path in typed and p.key is None and p.rule != "type":
            continue
        if p.missing is not None and (p.path, p.missing) in suggested:
            continue
        kept.append(p)
    return kept


def _explain(error: ValidationError, kinds: Mapping[str, SchemeKind]) -> list[_Problem]:
    path = tuple(error.absolute_path)
    rule = error.validator
    instance = error.instance
    subject = _subject(path)

    if rule in ("anyOf", "oneOf"):
        return _explain_alternatives(error, kinds)

    if rule == "additionalProperties" and error.validator_value is False and isinstance(instance, dict):
        schema = error.schema if isinstance(error.schema, dict) else {}
        allowed = list(schema.get("properties", {}))
        patterns = list(schema.get("patternProperties", {}))
        where = "at the top level" if not path else f"in {_show_path(path)}"
        problems = []
        for key in instance:
            if key in allowed or any(re.search(p, key) for p in patterns):
                continue
            close = difflib.get_close_matches(key, allowed, n=1)
            hints = []
            if close:
                hints.append(f"did you mean {close[0]!r}?")
            if "^x_" in patterns:
                hints.append("custom keys start with 'x_'")
            problems.append(
                _Problem(
                    path,
                    f"unknown key {key!r} {where}",
                    " ".join(hints) or None,
                    key=key,
                    rule=rule,
                    suggests=close[0] if close else None,
                )
            )
        return problems

    if rule == "required" and isinstance(instance, dict):
        schema = error.schema if isinstance(error.schema, dict) else {}
        known = set(schema.get("properties", {}))
        problems = []
        for key in error.validator_value:
            if key in instance:
                continue
            strays = [k for k in instance if k not in known]
            close = difflib.get_close_matches(key, strays, n=1)
            hint = f"is {close[0]!r} a misspelling of it?" if close else None
            problems.append(
                _Problem(
                    path, f"{subject} is missing required key {key!r}", hint, rule=rule, missing=key, at_own_key=True
                )
            )
        return problems

    if rule == "propertyNames" or "propertyNames" in error.absolute_schema_path:
        name = str(instance)
        pattern = error.validator_value if rule == "pattern" else None
        words = _PATTERN_WORDS.get(pattern, f"of the form {pattern}" if pattern else "a valid name")
        where = _show_path(path) or "the ruleset"
        return [_Problem(path, f"key {name!r} in {where} must be {words}", key=name, rule="propertyNames")]

    if rule == "type":
        expected = error.validator_value
        expected = [expected] if isinstance(expected, str) else list(expected)
        hint = _type_hint(expected, instance)
        message = f"{subject} must be {_type_words(expected)}, not {_describe(instance)}"
        return [_Problem(path, message, hint, rule=rule)]

    if rule == "enum":
        options = list(error.validator_value)
        if len(path) == 3 and path[0] == "schemes" and path[2] == "kind":
            return [_unknown_kind(path, instance, kinds)]
        close = difflib.get_close_matches(str(instance), [str(o) for o in options], n=1)
        hint = f"did you mean {close[0]!r}?" if close else None
        listed = ", ".join(_show_option(o) for o in options)
        return [_Problem(path, f"{subject} must be one of {listed}, not {_show_value(instance)}", hint, rule=rule)]

    if rule == "const":
        hint = "this tierkit reads ruleset format 1" if path == ("tierkit",) else None
        expected = _show_option(error.validator_value)
        return [_Problem(path, f"{subject} must be {expected}, not {_show_value(instance)}", hint, rule=rule)]

    if rule == "pattern":
        pattern = error.validator_value
        words = _PATTERN_WORDS.get(pattern, f"of the form {pattern}")
        return [_Problem(path, f"{subject} must be {words}, not {_show_value(instance)}", rule=rule)]

    bounds = {
        "minimum": "at least",
        "exclusiveMinimum": "greater than",
        "maximum": "at most",
        "exclusiveMaximum": "less than",
    }
    if rule in bounds:
        limit = _show_option(error.validator_value)
        return [_Problem(path, f"{subject} must be {bounds[rule]} {limit}, not {_show_value(instance)}", rule=rule)]

    if rule in ("minItems", "minLength", "minProperties"):
        count = error.validator_value
        if count == 1:
            hint = None
            if rule == "minProperties" and isinstance(error.schema, dict) and error.schema.get("properties"):
                hint = "give at least one of " + ", ".join(error.schema["properties"])
            return [_Problem(path, f"{subject} must not be empty", hint, rule=rule)]
        unit = {"minItems": "items", "minLength": "characters", "minProperties": "keys"}[rule]
        return [_Problem(path, f"{subject} must have at least {count} {unit}", rule=rule)]

    if rule in ("maxItems", "maxLength", "maxProperties"):
        unit = {"maxItems": "items", "maxLength": "characters", "maxProperties": "keys"}[rule]
        return [_Problem(path, f"{subject} must have at most {error.validator_value} {unit}", rule=rule)]

    if rule == "uniqueItems" and isinstance(instance, list):
        repeated = next((item for i, item in enumerate(instance) if item in instance[:i]), None)
        return [_Problem(path, f"{subject} lists {_show_value(repeated)} more than once", rule=rule)]

    if rule is None:  # a false schema
        return [_Problem(path, f"{subject} is not allowed here", rule="false")]

    return [_Problem(path, f"{subject} is not valid: {error.message}", rule=str(rule))]


def _explain_alternatives(error: ValidationError, kinds) -> list[_Problem]:
    """anyOf/oneOf: when no alternative has the right type say which types would do,
    else explain the errors of the most relevant alternative of the right type."""
    path = tuple(error.absolute_path)
    subject = _subject(path)
    if not error.context:
        return [_Problem(path, f"{subject} matches more than one allowed form", rule=error.validator)]
    branches: dict[Any, list[ValidationError]] = {}
    for sub in error.context:
        branches.setdefault(sub.relative_schema_path[0], []).append(sub)
    wrong_type = {
        branch: sub.validator_value
        for branch, subs in branches.items()
        for sub in subs
        if sub.validator == "type" and not sub.relative_path
    }
    candidates = [sub for branch, subs in branches.items() if branch not in wrong_type for sub in subs]
    if not candidates:
        expected: list[str] = []
        for value in wrong_type.values():
            for name in [value] if isinstance(value, str) else value:
                if name not in expected:
                    expected.append(name)
        hint = _type_hint(expected, error.instance)
        message = f"{subject} must be {_type_words(expected)}, not {_describe(error.instance)}"
        return [_Problem(path, message, hint, rule="type")]
    from jsonschema.exceptions import best_match

    chosen = best_match(candidates).relative_schema_path[0]
    problems: list[_Problem] = []
    for sub in branches[chosen]:
        problems.extend(_explain(sub, kinds))
    return problems


def _unknown_kind(path: tuple, instance: Any, kinds: Mapping[str, SchemeKind]) -> _Problem:
    names = sorted(kinds)
    listed = f"installed kinds: {', '.join(names)}" if names else "no scheme kinds are installed"
    close = difflib.get_close_matches(str(instance), names, n=1)
    hint = (f"did you mean {close[0]!r}? " if close else "") + listed
    return _Problem(path, f"unknown scheme kind {_show_value(instance)}", hint, rule="enum")


def _duplicate_scheme_ids(ruleset: Ruleset) -> list[_Problem]:
    schemes = ruleset.data.get("schemes")
    if not isinstance(schemes, list):
        return []
    first: dict[str, int] = {}
    problems = []
    for index, scheme in enumerate(schemes):
        ident = scheme.get("id") if isinstance(scheme, dict) else None
        if not isinstance(ident, str):
            continue
        if ident in first:
            where = ruleset.position("schemes", first[ident], "id")
            hint = None
            if where is not None and where.line is not None:
                here = ruleset.position("schemes", index, "id")
                same_file = here is not None and here.file == where.file
                hint = f"first at line {where.line}" + ("" if same_file else f" of {where.file}")
            problems.append(_Problem(("schemes", index, "id"), f"duplicate scheme id {ident!r}", hint, rule="unique"))
        else:
            first[ident] = index
    return problems


# -- wording -------------------------------------------------------------------------


def _show_path(path: tuple) -> str:
    text = ""
    for part in path:
        if isinstance(part, int):
            text += f"[{part}]"
        elif _IDENTIFIER.match(part):
            text += f".{part}" if text else part
        else:
            text += f"[{part!r}]"
    return text


def _subject(path: tuple) -> str:
    return _show_path(path) or "the ruleset"


def _type_words(types: list[str]) -> str:
    if "integer" in types and "number" in types:
        types = [t for t in types if t != "integer"]
    words = [_TYPE_WORDS.get(t, t) for t in types]
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " or " + words[-1]


def _quote(text: str, limit: int = 40) -> str:
    if len(text) > limit:
        text = text[: limit - 1] + "…"
    return repr(text)


def _describe(value: Any) -> str:
    if value is None:
        return "empty"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return f"a number ({value!r})"
    if isinstance(value, str):
        return f"a string ({_quote(value)})"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    return type(value).__name__


def _show_value(value: Any) -> str:
    if value is None:
        return "empty"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return _quote(value)
    if isinstance(value, (int, float)):
        return repr(value)
    return _describe(value)


def _show_option(value: Any) -> str:
    return value if isinstance(value, str) else _show_value(value)


def _type_hint(expected: list[str], value: Any) -> str | None:
    if "string" in expected and isinstance(value, (bool, int, float)) and value is not None:
        return "put it in quotes to keep it as text"
    if isinstance(value, str) and ("number" in expected or "integer" in expected):
        try:
            float(value)
        except ValueError:
            return None
        return "remove the quotes to make it a number"
    if isinstance(value, str) and "boolean" in expected and value.lower() in ("yes", "no", "on", "off", "y", "n"):
        return "write true or false"
    return None


# -- excerpts ------------------------------------------------------------------------

_LINE_BREAK = re.compile(r"\r\n|[\n\r\x85\u2028\u2029]")


def format_diagnostic_with_excerpt(diag: Diagnostic, source_text: str) -> str:
    """``file:line:col: message`` followed by the source line and a caret under the column."""
    head = str(diag)
    position = diag.position
    if position is None or position.line is None:
        return head
    lines = _LINE_BREAK.split(source_text)
    if not 1 <= position.line <= len(lines):
        return head
    line = lines[position.line - 1].rstrip()
    number = str(position.line)
    gutter = " " * len(number)
    out = [head, f" {number} | {line}"]
    if position.col is not None:
        pad = "".join(
            "\t" if ch == "\t" else "  " if unicodedata.east_asian_width(ch) in "WF" else " "
            for ch in line[: position.col - 1]
        ) + " " * max(0, position.col - 1 - len(line))
        out.append(f" {gutter} | {pad}^")
    return "\n".join(out)
