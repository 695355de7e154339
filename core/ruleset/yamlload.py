"""Load YAML with the position of every value, and without YAML 1.1's traps.

:func:`load_yaml` returns a :class:`LoadedYaml`: plain data (dict, list, str, int,
float, bool, None) plus, for every value, its ``file:line:col`` keyed by its JSON path
(``("schemes", 1, "indicators", 0, "weight")``).  Mapping keys have positions of their
own in ``key_positions`` (same path tuple), so "unknown key" can point at the key.

Scalars follow the YAML 1.2 core schema rather than PyYAML's YAML 1.1 one:

- only ``true``/``false`` (any case) are booleans; ``yes``, ``no``, ``on``, ``off``,
  ``y`` and ``n`` stay strings;
- ``2024-01-01`` stays a string (no ``datetime.date``);
- ``1e10`` and ``1.0e10`` are floats; ``0o17`` and ``0x1F`` are integers, ``017`` is 17
  and ``1_000`` is a string;
- ``~``, ``null`` and an empty value are ``None``.

Mapping keys are always strings (``1:`` gives the key ``"1"``), as in JSON.  Duplicate
keys, unsupported tags (``!!binary``, ``!custom``), complex keys and recursive aliases
are errors with a position.  ``<<`` merge keys are honoured; explicit keys win over
merged ones and earlier merge sources win over later ones.

A ruleset may come from anyone, so a file may not stand for a huge or deep tree: it has
at most :data:`MAX_FILE_BYTES` bytes and :data:`MAX_VALUES` keys and values (which keeps
checking a ruleset to seconds), values nest at most :data:`MAX_DEPTH` deep (counting
what aliases bring in), and all the aliases of a file together copy at most
:data:`MAX_ALIAS_VALUES` values (a "billion laughs" of nested aliases fails at the
alias that crosses the limit, before anything is built).  Each limit is an error at
the ``file:line:col`` where it is crossed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from yaml.events import AliasEvent, CollectionStartEvent
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from tierkit.errors import Diagnostic, InputError, Position, RulesetError

PositionMap = dict[tuple, Position]

MAX_FILE_BYTES = 16 * 1024 * 1024
MAX_DEPTH = 64
MAX_VALUES = 100_000
MAX_ALIAS_VALUES = 100_000

_NULL = "tag:yaml.org,2002:null"
_BOOL = "tag:yaml.org,2002:bool"
_INT = "tag:yaml.org,2002:int"
_FLOAT = "tag:yaml.org,2002:float"
_STR = "tag:yaml.org,2002:str"
_SEQ = "tag:yaml.org,2002:seq"
_MAP = "tag:yaml.org,2002:map"
_MERGE = "tag:yaml.org,2002:merge"

_INT_RE = re.compile(r"^(?:[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+)$")
_FLOAT_RE = re.compile(
    r"^(?:[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?"
    r"|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$"
)
_SURROGATE = re.compile("[\ud800-\udfff]")
_BOOL_RE = re.compile(r"^(?:true|false)$", re.IGNORECASE)
_NULL_RE = re.compile(r"^(?:~|null|Null|NULL|)$")


@dataclass(frozen=True, eq=False)
class ContentPosition(Position):
    """Where a string value's characters begin, and where each of them stands.

    Equal to the plain :class:`Position` of the first character.  ``anchors`` are
    ``(offset, line, col)`` wherever the characters stop following the source one for
    one (an escape, a quote written twice, a line break folded into a space, a block
    scalar's indentation), so that :meth:`shifted` finds the line and column of any
    character of the value: the one an expression error points at, say.
    """

    anchors: tuple[tuple[int, int, int], ...] = field(default=(), repr=False)

    def __eq__(self, other):
        if isinstance(other, Position):
            return (self.file, self.line, self.col) == (other.file, other.line, other.col)
        return NotImplemented

    __hash__ = Position.__hash__

    def shifted(self, columns: int) -> Position:
        """The position of the value's character at offset ``columns``."""
        offset, line, col = 0, self.line, self.col
        for anchor in self.anchors:
            if anchor[0] > columns:
                break
            offset, line, col = anchor
        return Position(self.file, line, col + columns - offset)


def _to_int(text: str) -> int:
    if text.startswith("0o"):
        return int(text[2:], 8)
    if text.startswith("0x"):
        return int(text[2:], 16)
    return int(text, 10)


def _to_float(text: str) -> float:
    lowered = text.lower()
    if lowered.endswith(".inf"):
        return float("-inf") if lowered.startswith("-") else float("inf")
    if lowered == ".nan":
        return float("nan")
    return float(text)


class _Positions(yaml.composer.Composer, yaml.constructor.SafeConstructor, yaml.resolver.Resolver):
    """Composing, bounds and building with positions, over any source of parse events."""

    yaml_implicit_resolvers: dict = {}  # replaced wholesale, see below

    def __init__(self, text: str, file: str = "<string>"):
        self._read(text)
        yaml.composer.Composer.__init__(self)
        yaml.constructor.SafeConstructor.__init__(self)
        yaml.resolver.Resolver.__init__(self)
        self.name = file  # every mark (and so every error) carries the file name
        self._text = text
        self._problems: list[Diagnostic] = []
        self._building: set[int] = set()
        self._depth = 0  # of the node being composed
        self._values = 0  # keys and values composed so far
        self._copied = 0  # values the aliases so far stand for
        self._shapes: dict[int, tuple[int, int]] = {}  # id(node) -> (values in it, its depth)
        self.positions: PositionMap = {}
        self.key_positions: PositionMap = {}
        self.content_positions: PositionMap = {}

    # -- bounds: composing counts what each node holds and how deep it goes -----------

    def compose_node(self, parent, index):
        event = self.peek_event()
        if isinstance(event, AliasEvent):
            node = super().compose_node(parent, index)
            size, height = self._shapes.get(id(node), (1, 1))  # (1, 1): an alias inside its own anchor
            self._copied += size
            if self._copied > MAX_ALIAS_VALUES:
                self._fail(f"too many aliases (limit {MAX_ALIAS_VALUES})", event.start_mark)
            self._check_depth(self._depth + height, event.start_mark)
            return node
        self._depth += 1
        self._values += 1
        if self._values > MAX_VALUES:
            self._fail(f"too many values (limit {MAX_VALUES:,} keys and values in a file)", event.start_mark)
        if isinstance(event, CollectionStartEvent):
            self._check_depth(self._depth, event.start_mark)
        node = super().compose_node(parent, index)
        self._depth -= 1
        if isinstance(node, ScalarNode):
            self._shapes[id(node)] = (1, 1)
            return node
        children = [part for pair in node.value for part in pair] if isinstance(node, MappingNode) else node.value
        shapes = [self._shapes.get(id(child), (1, 1)) for child in children]
        self._shapes[id(node)] = (1 + sum(size for size, _ in shapes), 1 + max((height for _, height in shapes), default=0))
        return node

    def _check_depth(self, depth: int, mark) -> None:
        if depth > MAX_DEPTH:
            self._fail(f"values nest too deep (limit {MAX_DEPTH} levels)", mark)

    def _fail(self, message: str, mark) -> None:
        raise RulesetError([Diagnostic(message, self._position(mark))])

    # -- building data with positions ------------------------------------------------

    def build(self, node: Node | None) -> Any:
        """Plain data for ``node``, filling the position maps; raise on any problem."""
        data = None if node is None else self._build(node, ())
        if self._problems:
            raise RulesetError(self._problems)
        return data

    def _position(self, mark) -> Position:
        return Position(self.name, mark.line + 1, mark.column + 1)

    def _problem(self, message: str, mark, hint: str | None = None) -> None:
        self._problems.append(Diagnostic(message, self._position(mark), hint=hint))

    def _build(self, node: Node, path: tuple) -> Any:
        self.positions[path] = self._position(node.start_mark)
        if isinstance(node, ScalarNode):
            value = self._scalar(node)
            if isinstance(value, str):
                self.content_positions[path] = self._content_position(node)
            return value
        if id(node) in self._building:
            self._problem("an alias refers to a value that contains it", node.start_mark)
            return None
        self._building.add(id(node))
        try:
            if isinstance(node, SequenceNode):
                if node.tag != _SEQ:
                    self._problem(f"unsupported YAML tag {_short_tag(node.tag)!r}", node.start_mark)
                return [self._build(item, path + (index,)) for index, item in enumerate(node.value)]
            if node.tag != _MAP:
                self._problem(f"unsupported YAML tag {_short_tag(node.tag)!r}", node.start_mark)
            return self._mapping(node, path)
        finally:
            self._building.discard(id(node))

    def _mapping(self, node: MappingNode, path: tuple) -> dict:
        own: dict[str, Any] = {}
        first_seen: dict[str, Node] = {}
        merged: list[tuple[str, Node, Node]] = []
        for key_node, value_node in node.value:
            if key_node.tag == _MERGE:
                merged.extend(self._merge_entries(value_node))
                continue
            key = self._key(key_node)
            if key is None:
                continue
            if key in first_seen:
                first = first_seen[key].start_mark.line + 1
                self._problem(f"duplicate key {key!r}", key_node.start_mark, hint=f"first at line {first}")
                continue
            first_seen[key] = key_node
            self.key_positions[path + (key,)] = self._position(key_node.start_mark)
            own[key] = self._build(value_node, path + (key,))
        if not merged:
            return own
        result: dict[str, Any] = {}
        for key, key_node, value_node in merged:
            if key in own or key in result:
                continue
            self.key_positions[path + (key,)] = self._position(key_node.start_mark)
            result[key] = self._build(value_node, path + (key,))
        result.update(own)
        return result

    def _merge_entries(self, node: Node) -> list[tuple[str, Node, Node]]:
        sources = node.value if isinstance(node, SequenceNode) else [node]
        entries: list[tuple[str, Node, Node]] = []
        for source in sources:
            if not isinstance(source, MappingNode):
                self._problem("a '<<' merge key takes a mapping or a list of mappings", source.start_mark)
                continue
            if id(source) in self._building:
                self._problem("an alias refers to a value that contains it", source.start_mark)
                continue
            self._building.add(id(source))
            try:
                own: list[tuple[str, Node, Node]] = []
                nested: list[tuple[str, Node, Node]] = []
                for key_node, value_node in source.value:
                    if key_node.tag == _MERGE:
                        nested.extend(self._merge_entries(value_node))
                    else:
                        key = self._key(key_node)
                        if key is not None:
                            own.append((key, key_node, value_node))
                entries.extend(own + nested)
            finally:
                self._building.discard(id(source))
        return entries

    def _key(self, node: Node) -> str | None:
        if not isinstance(node, ScalarNode):
            self._problem("a mapping key must be a plain value, not a list or a mapping", node.start_mark)
            return None
        return self._characters(node)

    def _characters(self, node: ScalarNode) -> str | None:
        """The scalar's text, unless an escape (``"\\ud800"``) made half a character of it."""
        surrogate = _SURROGATE.search(node.value)
        if surrogate is None:
            return node.value
        self._problem(f"\\u{ord(surrogate.group()):04x} is half of a character, not one", node.start_mark,
                      hint="write the character itself, or \\U and its eight digits")
        return None

    def _scalar(self, node: ScalarNode) -> Any:
        tag, text = node.tag, self._characters(node)
        if text is None:
            return None
        try:
            if tag == _STR:
                return text
            if tag == _NULL:
                return None
            if tag == _BOOL:
                if not _BOOL_RE.match(text):
                    raise ValueError
                return text.lower() == "true"
            if tag == _INT:
                return _to_int(text.strip())
            if tag == _FLOAT:
                return _to_float(text.strip())
        except ValueError:
            self._problem(f"cannot read {text!r} as {_short_tag(tag)}", node.start_mark)
            return None
        self._problem(f"unsupported YAML tag {_short_tag(tag)!r}", node.start_mark)
        return None

    def _content_position(self, node: ScalarNode) -> Position:
        """Where the characters of a string scalar begin (after a quote, tag or anchor)."""
        text = self._text
        i, line, col = node.start_mark.index, node.start_mark.line, node.start_mark.column
        size = len(text)
        # Skip node properties (&anchor, !tag) and the blanks after them.
        while i < size and text[i] in "&!":
            while i < size and text[i] not in " \t\r\n":
                i, col = i + 1, col + 1
            while i < size and text[i] in " \t\r\n":
                if text[i] == "\n":
                    line, col = line + 1, 0
                else:
                    col += 1
                i += 1
        end = node.end_mark.index
        if node.style in ("'", '"'):
            first = walk = (i + 1, line, col + 1)
            end -= 1  # the closing quote
        elif node.style in ("|", ">"):
            header_end = text.find("\n", i)
            if header_end == -1:
                return self._position(node.start_mark)
            walk = (header_end + 1, line + 1, 0)
            first = None
            end_of_line = header_end
            while end_of_line != -1 and first is None:
                line, start = line + 1, end_of_line + 1
                end_of_line = text.find("\n", start)
                content = text[start : end_of_line if end_of_line != -1 else size]
                if content.strip(" \t\r"):
                    indent = len(content) - len(content.lstrip(" "))
                    first = (start + indent, line, indent)
            if first is None:
                return self._position(node.start_mark)
        else:
            first = walk = (i, line, col)
        anchors = _anchors(text, walk, end, node.value, node.style, first[1:])
        if anchors:
            return ContentPosition(self.name, first[1] + 1, first[2] + 1, anchors)
        return Position(self.name, first[1] + 1, first[2] + 1)


def _anchors(text: str, walk: tuple[int, int, int], end: int, value: str, style, first: tuple[int, int]) -> tuple:
    """``(offset, line, col)`` (1-based) wherever the characters of a scalar's ``value``
    stop following its source ``text[walk[0]:end]`` one for one; ``first`` is where
    offset 0 is taken to stand (0-based line and column).

    Each character of the value is matched with the next source character that
    gives it: an escape (``\\"``, ``\\x41``) or a doubled quote in quoted styles, a line
    break for a folded space, the character itself otherwise; whatever is skipped
    (indentation, the break after an escaped line end, a doubled quote's second half)
    moves the next character away from where it would otherwise be.
    """
    index, line, col = walk
    anchors, expected = [], first
    for offset, char in enumerate(value):
        width = 1
        while index < end:
            raw = text[index]
            if style == '"' and raw == "\\":
                following = text[index + 1 : index + 2]
                if following in ("\n", "\r"):  # an escaped line break gives no character
                    index, col = index + 1, col + 1
                    continue
                width = 2 + {"x": 2, "u": 4, "U": 8}.get(following, 0)
                break
            if style == "'" and raw == "'":  # '' stands for one quote
                width = 2
                break
            if raw == char or (raw == "\n" and char in " \n"):
                break
            index, line, col = (index + 1, line + 1, 0) if raw == "\n" else (index + 1, line, col + 1)
        else:
            break  # the source ran out (it should not): what was found still holds
        if (line, col) != expected:
            anchors.append((offset, line + 1, col + 1))
        expected = (line, col + 1)
        if text[index] == "\n":
            index, line, col = index + 1, line + 1, 0
        else:
            index, col = index + width, col + width
    return tuple(anchors)


def _short_tag(tag: str) -> str:
    return "!!" + tag[len("tag:yaml.org,2002:") :] if tag.startswith("tag:yaml.org,2002:") else tag


def _yaml_bool(loader, node):
    return loader.construct_scalar(node).lower() == "true"


def _yaml_int(loader, node):
    return _to_int(loader.construct_scalar(node).strip())


def _yaml_float(loader, node):
    return _to_float(loader.construct_scalar(node).strip())


_Positions.add_implicit_resolver(_BOOL, _BOOL_RE, list("tTfF"))
_Positions.add_implicit_resolver(_INT, _INT_RE, list("-+0123456789"))  # before floats
_Positions.add_implicit_resolver(_FLOAT, _FLOAT_RE, list("-+.0123456789"))
_Positions.add_implicit_resolver(_NULL, _NULL_RE, ["~", "n", "N", ""])
_Positions.add_implicit_resolver(_MERGE, re.compile(r"^(?:<<)$"), ["<"])
_Positions.add_constructor(_BOOL, _yaml_bool)
_Positions.add_constructor(_INT, _yaml_int)
_Positions.add_constructor(_FLOAT, _yaml_float)


class PositionLoader(_Positions, yaml.reader.Reader, yaml.scanner.Scanner, yaml.parser.Parser):
    """A safe loader with YAML 1.2 core scalars that also records positions.

    ``yaml.load(text, Loader=PositionLoader)`` gives plain data with the same scalar
    rules; :func:`load_yaml` additionally returns the positions.  Its parser is
    PyYAML's own, whose messages say what was expected and what was found.
    """

    def _read(self, text: str) -> None:
        yaml.reader.Reader.__init__(self, text)
        yaml.scanner.Scanner.__init__(self)
        yaml.parser.Parser.__init__(self)


if yaml.__with_libyaml__:

    class FastPositionLoader(_Positions, yaml.cyaml.CParser):
        """:class:`PositionLoader` over libyaml's parser: the same events and marks,
        twenty times faster than PyYAML's Python scanner (a ruleset loads in a quarter
        of the time).  A file it cannot parse is parsed again by
        :class:`PositionLoader`, for that parser's clearer message."""

        def _read(self, text: str) -> None:
            yaml.cyaml.CParser.__init__(self, text)

else:  # pragma: no cover - PyYAML built without libyaml
    FastPositionLoader = PositionLoader


@dataclass
class LoadedYaml:
    """One YAML file's data with the position of each value, key and string content."""

    data: Any
    positions: PositionMap
    key_positions: PositionMap
    file: str
    content_positions: PositionMap = field(default_factory=dict)
    text: str = ""

    def position(self, path: tuple = ()) -> Position | None:
        """The position of the value at ``path``, or of its nearest known parent."""
        return _nearest(self.positions, tuple(path))

    def content_position(self, path: tuple) -> Position | None:
        """Where a string's characters begin; the value's position for other values."""
        path = tuple(path)
        return self.content_positions.get(path) or self.position(path)


def _nearest(positions: PositionMap, path: tuple) -> Position | None:
    while True:
        found = positions.get(path)
        if found is not None or not path:
            return found
        path = path[:-1]


def load_yaml(text: str, file: str | Path) -> LoadedYaml:
    """Parse one YAML document; errors are a :class:`RulesetError` at ``file:line:col``."""
    file = str(file)
    if len(text) > MAX_FILE_BYTES:
        raise _too_large(file)
    if text.startswith("\ufeff"):
        text = text[1:]
    try:
        return load_with(FastPositionLoader, text, file)
    except (yaml.MarkedYAMLError, yaml.reader.ReaderError):
        pass  # parsed again by PyYAML's parser: its message, and its bounds (libyaml's are not ours)
    try:
        return load_with(PositionLoader, text, file)
    except yaml.MarkedYAMLError as error:
        raise RulesetError([_syntax_diagnostic(error, file)]) from None
    except yaml.reader.ReaderError as error:
        raise RulesetError([_reader_diagnostic(error, text, file)]) from None


def load_with(loader_class: type[_Positions], text: str, file: str) -> LoadedYaml:
    """``text`` loaded by one of the two loaders; a parse error is raised as its parser raises it."""
    loader = loader_class(text, file)
    try:
        data = loader.build(loader.get_single_node())
        return LoadedYaml(data, loader.positions, loader.key_positions, file, loader.content_positions, text)
    finally:
        loader.dispose()


def load_yaml_file(path: str | Path) -> LoadedYaml:
    """Read and parse a YAML file (UTF-8); an unreadable file is an :class:`InputError`."""
    file = str(path)
    try:
        with open(path, "rb") as stream:
            data = stream.read(MAX_FILE_BYTES + 1)  # no more than the limit, even from /dev/zero
        if len(data) > MAX_FILE_BYTES:
            raise _too_large(file)
        text = data.decode("utf-8").replace("\r\n", "\n").replace("\r", "\n")  # as text mode reads it
    except UnicodeDecodeError as error:
        raise InputError(f"not UTF-8 text (byte {error.start})", Position(file)) from None
    except OSError as error:
        raise InputError(f"cannot read file: {error.strerror or error}", Position(file)) from None
    return load_yaml(text, file)


def _too_large(file: str) -> RulesetError:
    return RulesetError([Diagnostic(f"the file is too large (limit {MAX_FILE_BYTES:,} bytes)", Position(file))])


def _syntax_diagnostic(error: yaml.MarkedYAMLError, file: str) -> Diagnostic:
    mark = error.problem_mark or error.context_mark
    position = Position(file, mark.line + 1, mark.column + 1) if mark else Position(file)
    problem = " ".join((error.problem or error.context or "cannot parse").split())
    hint = None
    if error.problem and error.context:
        hint = " ".join(error.context.split())
        if error.context_mark is not None and error.context_mark.line != getattr(mark, "line", None):
            hint += f" at line {error.context_mark.line + 1}"
    return Diagnostic(f"invalid YAML: {problem}", position, hint=hint)


def _reader_diagnostic(error: yaml.reader.ReaderError, text: str, file: str) -> Diagnostic:
    before = text[: error.position]
    line = before.count("\n") + 1
    col = error.position - (before.rfind("\n") + 1) + 1
    character = error.character if isinstance(error.character, str) else chr(error.character)
    return Diagnostic(f"invalid YAML: special character {character!r} is not allowed", Position(file, line, col))
