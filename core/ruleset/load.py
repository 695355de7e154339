"""Find, load and merge rulesets; every merged value keeps the position it came from.

A ruleset is named by a path, or by a bundled name (``NAME.yaml`` in the folders the
``tierkit_ruleset_dirs`` hook returns).  ``extends: NAME_OR_PATH`` builds a ruleset on
another one; a relative path resolves against the extending file's folder, a name
against the bundled folders.  Chains are allowed; a cycle is an error naming the files.
Whatever a chain extends is a ``.yaml``/``.yml`` file inside the folder of the ruleset
named first or inside the bundled folders, so a ruleset from elsewhere cannot make
tierkit read (and echo in its errors) any other file.

Merge rules (the base is what ``extends`` names, the child is the extending file):

1. Mappings merge recursively and the child wins; a list or a scalar in the child
   replaces the base value whole.
2. ``fields`` and ``derive`` merge by name: a child entry replaces the base entry of the
   same name whole (no deep merge inside one field); new names follow the base ones,
   in child order.
3. ``schemes`` merge by ``id``.  First, the base schemes named in the child's top-level
   ``remove_schemes: [ids]`` are dropped (naming an id the base does not have is an
   error).  Then a child scheme whose id is a base scheme's is deep-merged into it in
   place (mappings recursively, lists replaced whole, e.g. a scheme's ``rules``); other
   child schemes are appended in child order.
4. ``rank`` is replaced whole (rule 1).
5. ``allocation`` merges as a mapping (rule 1): its ``rules`` list is replaced whole,
   ``default`` and ``capacity`` merge key by key.
6. ``extends`` and ``remove_schemes`` do not survive in the merged data;
   ``remove_schemes`` in a file without ``extends`` is an error.

Loading does not validate against the schema: see :func:`tierkit.ruleset.schema.validate_ruleset`.
"""

from __future__ import annotations

import difflib
import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tierkit.errors import Diagnostic, Position, RulesetError, TierkitError
from tierkit.registry import plugin_folders
from tierkit.ruleset.yamlload import LoadedYaml, PositionMap, _nearest, load_yaml_file

RULESET_SUFFIXES = (".yaml", ".yml")


def fingerprint_of(data: Any) -> str:
    """``sha256:`` + hex digest of the canonical JSON of ``data`` (sorted keys, compact)."""
    canonical = json.dumps(data, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return "sha256:" + hashlib.sha256(canonical.encode("utf-8")).hexdigest()


@dataclass
class Ruleset:
    """A loaded ruleset: the merged document and where each of its values was written."""

    data: dict
    source: Path
    positions: PositionMap
    fingerprint: str
    key_positions: PositionMap = field(default_factory=dict)
    content_positions: PositionMap = field(default_factory=dict)
    files: tuple[Path, ...] = ()  # the given file first, then what it extends, in order

    @property
    def name(self) -> str | None:
        return self.data.get("name")

    @property
    def version(self) -> str | None:
        return self.data.get("version")

    @property
    def id_field(self) -> str:
        """The field that identifies a customer (``id`` unless the ruleset says otherwise)."""
        return self.data.get("id_field", "id")

    def position(self, *path) -> Position | None:
        """The position of the value at ``path``, or of its nearest known parent."""
        return _nearest(self.positions, tuple(path))

    def key_position(self, *path) -> Position | None:
        """The position of the mapping key ending ``path``, else of the value or a parent."""
        return self.key_positions.get(tuple(path)) or self.position(*path)

    def content_position(self, *path) -> Position | None:
        """Where a string value's characters begin (after any quote): for expressions."""
        return self.content_positions.get(tuple(path)) or self.position(*path)


def bundled_dirs(pm) -> list[Path]:
    """The ruleset folders all plugins return, in hook order, without repeats."""
    return list(dict.fromkeys(plugin_folders(pm, "tierkit_ruleset_dirs")))


def available_rulesets(search_dirs: list[Path]) -> list[str]:
    """Names of the rulesets in ``search_dirs``, sorted."""
    names = set()
    for folder in search_dirs:
        folder = Path(folder)
        if folder.is_dir():
            names.update(p.stem for p in folder.iterdir() if p.suffix in RULESET_SUFFIXES and p.is_file())
    return sorted(names)


def resolve_ruleset_path(
    ref: str, search_dirs: list[Path], relative_to: Path | None = None, within: list[Path] | None = None
) -> Path:
    """The file ``ref`` names: an existing path (relative to ``relative_to`` when given),
    else ``NAME.yaml`` in the first of ``search_dirs`` that has it.

    With ``within`` (for ``extends``, which an untrusted ruleset writes), a path must
    lie inside one of those folders once links are resolved, and name a ``.yaml`` or
    ``.yml`` file: a ruleset can then neither probe nor read any other file."""
    ref = str(ref)
    candidate = Path(ref).expanduser()
    if not candidate.is_absolute() and relative_to is not None:
        candidate = Path(relative_to) / candidate
    if within is not None:
        _check_within(candidate, within)
    if candidate.is_file():
        return candidate
    if candidate.is_dir():
        raise TierkitError(f"{candidate} is a folder, not a ruleset file")
    if "/" in ref or "\\" in ref or candidate.suffix.lower() in RULESET_SUFFIXES:
        raise TierkitError(f"ruleset file not found: {candidate}")
    for folder in search_dirs:
        for suffix in RULESET_SUFFIXES:
            bundled = Path(folder) / f"{ref}{suffix}"
            if bundled.is_file():
                return bundled
    names = available_rulesets(search_dirs)
    if not names:
        raise TierkitError(f"unknown ruleset {ref!r}: no such file, and no bundled rulesets are installed")
    close = difflib.get_close_matches(ref, names, n=1)
    hint = (f"did you mean {close[0]!r}? " if close else "") + "bundled rulesets: " + ", ".join(names)
    raise TierkitError(f"unknown ruleset {ref!r}: no such file or bundled ruleset", hint=hint)


def _check_within(path: Path, folders: list[Path]) -> None:
    real = path.resolve()
    if not any(real.is_relative_to(Path(folder).resolve()) for folder in folders):
        raise TierkitError(
            f"{path} is outside the ruleset's folder and the bundled ruleset folders",
            hint="copy the base beside the ruleset, or have a plugin declare its folder with tierkit_ruleset_dirs",
        )
    if real.is_file() and real.suffix.lower() not in RULESET_SUFFIXES:
        raise TierkitError(f"{path} is not a ruleset file (.yaml or .yml)")


def load_ruleset(ref: str | Path, search_dirs: list[Path]) -> Ruleset:
    """Load a ruleset by path or bundled name and apply its ``extends`` chain.

    Raises :class:`TierkitError` when ``ref`` names nothing, :class:`RulesetError` for
    broken YAML or a broken ``extends``.  The result is not validated.
    """
    source = resolve_ruleset_path(str(ref), search_dirs)
    tree, files = _load_tree(source, search_dirs, [source.parent, *search_dirs], [])
    data, positions, key_positions, content_positions = _flatten(tree)
    return Ruleset(
        data=data,
        source=source,
        positions=positions,
        fingerprint=fingerprint_of(data),
        key_positions=key_positions,
        content_positions=content_positions,
        files=tuple(files),
    )


# -- values annotated with positions, so merging carries positions along -------------


@dataclass
class _Node:
    value: Any  # dict[str, _Node] | list[_Node] | scalar
    pos: Position | None = None
    key_pos: Position | None = None
    content_pos: Position | None = None


def _annotate(loaded: LoadedYaml, value: Any, path: tuple) -> _Node:
    if isinstance(value, dict):
        inner: Any = {k: _annotate(loaded, v, path + (k,)) for k, v in value.items()}
    elif isinstance(value, list):
        inner = [_annotate(loaded, v, path + (i,)) for i, v in enumerate(value)]
    else:
        inner = value
    return _Node(
        inner,
        loaded.positions.get(path),
        loaded.key_positions.get(path),
        loaded.content_positions.get(path),
    )


def _flatten(node: _Node):
    positions: PositionMap = {}
    key_positions: PositionMap = {}
    content_positions: PositionMap = {}

    def walk(node: _Node, path: tuple) -> Any:
        if node.pos is not None:
            positions[path] = node.pos
        if node.key_pos is not None:
            key_positions[path] = node.key_pos
        if node.content_pos is not None:
            content_positions[path] = node.content_pos
        if isinstance(node.value, dict):
            return {k: walk(v, path + (k,)) for k, v in node.value.items()}
        if isinstance(node.value, list):
            return [walk(v, path + (i,)) for i, v in enumerate(node.value)]
        return node.value

    return walk(node, ()), positions, key_positions, content_positions


def _load_tree(path: Path, search_dirs: list[Path], within: list[Path], chain: list[Path]) -> tuple[_Node, list[Path]]:
    """``within``: the folders ``extends`` may reach (the named ruleset's and the bundled ones)."""
    loaded = load_yaml_file(path)
    file = str(path)
    if loaded.data is None:
        raise RulesetError([Diagnostic("the ruleset file is empty", Position(file, 1, 1))])
    if not isinstance(loaded.data, dict):
        kind = "a list" if isinstance(loaded.data, list) else "a single value"
        raise RulesetError(
            [Diagnostic(f"a ruleset is a mapping of keys at the top level, not {kind}", loaded.position(()))]
        )
    tree = _annotate(loaded, loaded.data, ())
    top = tree.value
    extends = top.get("extends")
    if extends is None:
        if "remove_schemes" in top:
            raise RulesetError(
                [Diagnostic("remove_schemes only applies with extends", top["remove_schemes"].key_pos)]
            )
        return tree, [path]
    if not isinstance(extends.value, str) or not extends.value.strip():
        raise RulesetError([Diagnostic("extends must name a ruleset file or a bundled ruleset", extends.pos)])
    try:
        base_path = resolve_ruleset_path(extends.value.strip(), search_dirs, path.parent, within)
    except TierkitError as error:
        raise RulesetError([Diagnostic(error.diagnostic.message, extends.pos, hint=error.diagnostic.hint)]) from None
    seen = chain + [path]
    if any(base_path.resolve() == earlier.resolve() for earlier in seen):
        cycle = " -> ".join(str(p) for p in seen + [base_path])
        raise RulesetError([Diagnostic(f"extends cycle: {cycle}", extends.pos)])
    base, files = _load_tree(base_path, search_dirs, within, seen)
    return _merge_ruleset(base, tree), [path] + files


def _merge_ruleset(base: _Node, child: _Node) -> _Node:
    base_top, child_top = base.value, child.value
    merged: dict[str, _Node] = dict(base_top)
    for key, value in child_top.items():
        if key in ("extends", "remove_schemes", "schemes"):
            continue
        if key in merged and key in ("fields", "derive"):
            merged[key] = _merge_by_name(merged[key], value)
        elif key in merged:
            merged[key] = _deep_merge(merged[key], value)
        else:
            merged[key] = value
    schemes = merged.get("schemes")
    if "remove_schemes" in child_top:
        schemes = _remove_schemes(schemes, child_top["remove_schemes"])
    if "schemes" in child_top:
        schemes = _merge_schemes(schemes, child_top["schemes"])
    if schemes is not None:
        merged["schemes"] = schemes
    return _Node(merged, child.pos, child.key_pos, child.content_pos)


def _deep_merge(base: _Node, child: _Node) -> _Node:
    if not (isinstance(base.value, dict) and isinstance(child.value, dict)):
        return child
    merged = dict(base.value)
    for key, value in child.value.items():
        merged[key] = _deep_merge(merged[key], value) if key in merged else value
    return _Node(merged, child.pos, child.key_pos, child.content_pos)


def _merge_by_name(base: _Node, child: _Node) -> _Node:
    if not (isinstance(base.value, dict) and isinstance(child.value, dict)):
        return child
    merged = dict(base.value)
    merged.update(child.value)
    return _Node(merged, child.pos, child.key_pos, child.content_pos)


def _scheme_id(node: _Node) -> str | None:
    if isinstance(node.value, dict):
        ident = node.value.get("id")
        if ident is not None and isinstance(ident.value, str):
            return ident.value
    return None


def _remove_schemes(schemes: _Node | None, remove: _Node) -> _Node | None:
    if not isinstance(remove.value, list) or not all(isinstance(i.value, str) for i in remove.value):
        raise RulesetError([Diagnostic("remove_schemes must be a list of scheme ids", remove.pos)])
    items = schemes.value if schemes is not None and isinstance(schemes.value, list) else []
    known = [_scheme_id(item) for item in items]
    problems = []
    for entry in remove.value:
        if entry.value not in known:
            listed = ", ".join(k for k in known if k) or "none"
            problems.append(
                Diagnostic(
                    f"remove_schemes names {entry.value!r}, which the base ruleset does not have",
                    entry.pos,
                    hint=f"base schemes: {listed}",
                )
            )
    if problems:
        raise RulesetError(problems)
    if schemes is None or not isinstance(schemes.value, list):
        return schemes
    drop = {entry.value for entry in remove.value}
    kept = [item for item, ident in zip(items, known) if ident not in drop]
    return _Node(kept, schemes.pos, schemes.key_pos, schemes.content_pos)


def _merge_schemes(base: _Node | None, child: _Node) -> _Node:
    if base is None or not (isinstance(base.value, list) and isinstance(child.value, list)):
        return child
    merged = list(base.value)
    index = {}
    for i, item in enumerate(merged):
        ident = _scheme_id(item)
        if ident is not None and ident not in index:
            index[ident] = i
    for item in child.value:
        ident = _scheme_id(item)
        if ident is not None and ident in index:
            merged[index[ident]] = _deep_merge(merged[index[ident]], item)
        else:
            merged.append(item)
    return _Node(merged, child.pos, child.key_pos, child.content_pos)
