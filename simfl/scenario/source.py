"""Reading scenario YAML with a map from every YAML path to its line, and ``-o`` overrides.

The line map lets every validation problem be reported as ``file:line: a.b.c: message``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from yaml.constructor import SafeConstructor

from simfl.errors import ScenarioError

YamlPath = tuple[str | int, ...]


@dataclass
class ScenarioSource:
    """Raw scenario data plus where each value came from.

    Attributes
    ----------
    data
        The parsed YAML mapping (overrides applied).
    file
        Display name of the file (``quickstart.yaml``) or ``<string>``.
    lines
        YAML path -> 1-based line number of the key (or list item) in the file.
    overridden
        YAML paths set by ``-o`` overrides, with the override text (reported instead of lines).
    """

    data: dict[str, Any]
    file: str
    lines: dict[YamlPath, int] = field(default_factory=dict)
    overridden: dict[YamlPath, str] = field(default_factory=dict)
    relative: dict[YamlPath, tuple[str, str]] = field(default_factory=dict)
    """Relative file paths as written, and the folder they were resolved against."""

    def where(self, path: YamlPath) -> str:
        """Return ``file:line`` (or ``override 'a.b=1'``) for the nearest known ancestor."""
        for i in range(len(path), -1, -1):
            prefix = path[:i]
            if prefix in self.overridden:
                text = self.overridden[prefix]
                return f"{self.file}: {text}" if text.startswith("--") else (
                    f"{self.file}: override '{text}'")
            if prefix in self.lines:
                return f"{self.file}:{self.lines[prefix]}"
        return self.file


class _Loader(yaml.SafeLoader):
    """PyYAML's safe loader, reading ``1e-3`` as a number as YAML 1.2 does (1.1 needs a dot)."""


_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(r"^[-+]?(?:[0-9][0-9_]*(?:\.[0-9_]*)?|\.[0-9_]+)[eE][-+]?[0-9]+$"),
    list("-+0123456789."),
)

_STR_TAG = "tag:yaml.org,2002:str"
_MERGE_TAG = "tag:yaml.org,2002:merge"


def _scalar(node: yaml.Node, path: YamlPath, file: str, problems: list[str]) -> Any:
    """Return the Python value of a scalar node; a bad tagged value becomes a problem."""
    try:
        return SafeConstructor().construct_object(node, deep=True)
    except (yaml.YAMLError, ValueError) as exc:
        reason = exc.problem if isinstance(exc, yaml.MarkedYAMLError) else str(exc)
        where = ".".join(map(str, path)) or "value"
        problems.append(
            f"{file}:{node.start_mark.line + 1}: {where}: cannot read {node.value!r} "
            f"({reason}); write a plain value, e.g. a number, text or 2026-02-24T12:00:00Z"
        )
        return None


def _merge(
    node: yaml.Node,
    path: YamlPath,
    line: int,
    merged: dict[str, tuple[Any, int]],
    file: str,
    problems: list[str],
) -> None:
    """Collect the keys of a ``<<: *anchor`` merge (earlier mappings win, as in YAML)."""
    sources = node.value if isinstance(node, yaml.SequenceNode) else [node]
    for source in sources:
        if not isinstance(source, yaml.MappingNode):
            problems.append(f"{file}:{line}: '<<' merges mappings; follow it with an alias of "
                            "a mapping such as *defaults")
            continue
        for key, value in _construct(source, path, {}, file, problems).items():
            merged.setdefault(key, (value, line))


def _construct(
    node: yaml.Node, path: YamlPath, lines: dict[YamlPath, int], file: str, problems: list[str]
) -> Any:
    if isinstance(node, yaml.MappingNode):
        out: dict[str, Any] = {}
        first_line: dict[str, int] = {}
        merged: dict[str, tuple[Any, int]] = {}
        for key_node, value_node in node.value:
            line = key_node.start_mark.line + 1
            if key_node.tag == _MERGE_TAG:
                _merge(value_node, path, line, merged, file, problems)
                continue
            key = key_node.value if key_node.tag == _STR_TAG else _scalar(
                key_node, path, file, problems)
            if not isinstance(key, str):
                problems.append(
                    f"{file}:{line}: key {key!r} must be text; quote it or rename it "
                    "(YAML reads yes/no/on/off/null and numbers as non-text)"
                )
                continue
            dotted = ".".join(map(str, (*path, key)))
            if key in out:
                problems.append(
                    f"{file}:{line}: {dotted} is given twice (first on line {first_line[key]}); "
                    "keep one"
                )
                continue
            child = (*path, key)
            lines[child] = line
            first_line[key] = line
            out[key] = _construct(value_node, child, lines, file, problems)
        for key, (value, line) in merged.items():
            if key not in out:  # keys written out beat keys merged in with <<
                out[key] = value
                lines[(*path, key)] = line
        return out
    if isinstance(node, yaml.SequenceNode):
        items = []
        for i, item in enumerate(node.value):
            child = (*path, i)
            lines[child] = item.start_mark.line + 1
            items.append(_construct(item, child, lines, file, problems))
        return items
    return _scalar(node, path, file, problems)


MAX_YAML_VALUES = 100_000
"""Most values a scenario may hold once its aliases are expanded (a real one has hundreds)."""


def _check_expansion(root: yaml.Node, file: str) -> None:
    """Refuse recursive aliases and aliases that expand beyond :data:`MAX_YAML_VALUES`.

    An alias reuses a node, so nine nested levels of nine aliases make 9**9 values from a
    few lines (a "billion laughs" file). Sizes are counted per distinct node, in linear time.
    """
    sizes: dict[int, int] = {}
    open_nodes: set[int] = set()
    stack: list[tuple[yaml.Node, bool]] = [(root, False)]
    while stack:
        node, children_done = stack.pop()
        key = id(node)
        if key in sizes:
            continue
        children = ([part for pair in node.value for part in pair]
                    if isinstance(node, yaml.MappingNode) else
                    list(node.value) if isinstance(node, yaml.SequenceNode) else [])
        line = node.start_mark.line + 1
        if children_done:
            open_nodes.discard(key)
            sizes[key] = 1 + sum(sizes[id(child)] for child in children)
            if sizes[key] > MAX_YAML_VALUES:
                raise ScenarioError(
                    f"{file}:{line}: aliases (*name) expand this value to more than "
                    f"{MAX_YAML_VALUES:,} values; a scenario is small, so write the values out "
                    "or nest fewer aliases")
            continue
        if key in open_nodes:
            raise ScenarioError(f"{file}:{line}: an alias refers to a value that contains it "
                                "(a recursive alias); a scenario must be a tree of values")
        open_nodes.add(key)
        stack.append((node, True))
        for child in children:
            if id(child) in open_nodes:
                raise ScenarioError(
                    f"{file}:{child.start_mark.line + 1}: an alias refers to a value that "
                    "contains it (a recursive alias); a scenario must be a tree of values")
            stack.append((child, False))


def _yaml_problem(exc: yaml.YAMLError, text: str, file: str) -> str:
    """Return the one-line message of a YAML syntax error, with its line and a hint."""
    if isinstance(exc, yaml.MarkedYAMLError):
        mark = exc.problem_mark or exc.context_mark
        line = f":{mark.line + 1}" if mark is not None else ""
        problem = exc.problem or "invalid YAML"
        if exc.context:
            ctx_mark = exc.context_mark
            started = (f" started on line {ctx_mark.line + 1}"
                       if ctx_mark is not None and mark is not None
                       and ctx_mark.line != mark.line else "")
            problem += f" ({exc.context}{started})"
        hint = ("YAML indents with spaces, never tabs" if "'\\t'" in problem
                else "check indentation, colons and quotes")
        return f"{file}{line}: malformed YAML: {problem}; {hint}"
    position = getattr(exc, "position", None)
    line = f":{text[:position].count(chr(10)) + 1}" if isinstance(position, int) else ""
    reason = str(exc).split("\n")[0]
    return f"{file}{line}: malformed YAML: {reason}; remove the character or re-save as UTF-8"


def parse_yaml(text: str, file: str = "<string>") -> ScenarioSource:
    """Return the scenario mapping in ``text`` with its line map.

    Raises
    ------
    ScenarioError
        If the text is not valid YAML or its top level is not a mapping; one line per
        problem (every duplicate key and unreadable value is listed).
    """
    try:
        root = yaml.compose(text, Loader=_Loader)
    except yaml.YAMLError as exc:
        raise ScenarioError(_yaml_problem(exc, text, file)) from None
    except RecursionError:
        raise ScenarioError(f"{file}: values are nested too deeply to read; a scenario nests "
                            "a few levels of sections") from None
    if root is None:
        raise ScenarioError(f"{file}: the file is empty; a scenario is a YAML mapping of sections")
    if not isinstance(root, yaml.MappingNode):
        kind = type(root).__name__.replace("Node", "").lower()
        raise ScenarioError(
            f"{file}:{root.start_mark.line + 1}: the top level must be a mapping of sections "
            f"(name:, data:, algorithm:, ...), not a {kind}"
        )
    _check_expansion(root, file)
    lines: dict[YamlPath, int] = {}
    problems: list[str] = []
    try:
        data = _construct(root, (), lines, file, problems)
    except RecursionError:
        raise ScenarioError(f"{file}: values are nested too deeply to read; a scenario nests "
                            "a few levels of sections") from None
    if problems:
        raise ScenarioError(problems)
    return ScenarioSource(data=data, file=file, lines=lines)


def read_scenario_file(path: str | Path) -> ScenarioSource:
    """Return the parsed scenario at ``path`` with its line map.

    Raises
    ------
    ScenarioError
        If the file is missing, unreadable, or malformed YAML.
    """
    p = Path(path)
    if not p.exists():
        raise ScenarioError(f"{p}: no such scenario file; check the path (cwd: {Path.cwd()})")
    if p.is_dir():
        raise ScenarioError(f"{p}: is a directory; give a scenario .yaml file")
    try:
        text = p.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise ScenarioError(
            f"{p}: byte {exc.start} is not UTF-8 text; a scenario is a YAML text file "
            "(re-save it as UTF-8)"
        ) from None
    except OSError as exc:
        raise ScenarioError(f"{p}: cannot read the scenario file ({exc.strerror})") from None
    return parse_yaml(text, file=str(p))


def yaml_value(raw: str, where: str = "value") -> Any:
    """Return the YAML value of a command-line value such as ``-o a=RAW`` (text if not YAML).

    Read as scenario files are (``1e-3`` is a number); ``where`` names it in errors.

    Raises
    ------
    ScenarioError
        If its aliases are recursive or expand too far (see :data:`MAX_YAML_VALUES`).
    """
    if not raw.strip():
        return ""
    try:
        node = yaml.compose(raw, Loader=_Loader)
        if node is not None:
            _check_expansion(node, where)
        return yaml.load(raw, Loader=_Loader)  # a SafeLoader subclass: safe
    except (yaml.YAMLError, ValueError, RecursionError):
        return raw


def _no_key(text: str, path: list[str | int], node: Any, part: str) -> str:
    """Return why override ``text`` cannot go below ``path`` (whose value is ``node``)."""
    where = ".".join(map(str, path)) or "the top level"
    if isinstance(node, list) and not node:
        return f"override '{text}': {where} is an empty list, so it has no item {part!r}"
    if isinstance(node, list):
        return (f"override '{text}': {where} is a list of {len(node)}, so {part!r} must be an "
                f"index from 0 to {len(node) - 1}")
    return (f"override '{text}': {where} is {node!r}, a single value, so it has no key "
            f"{part!r}; override {where} itself")


def apply_overrides(source: ScenarioSource, overrides: list[str]) -> ScenarioSource:
    """Return ``source`` with ``a.b.c=value`` overrides applied (values parsed as YAML).

    Missing mappings on the way are created (``devices.availability.on_s=60``); a number
    indexes a list (``model.hidden.0=128``).

    Raises
    ------
    ScenarioError
        One line per malformed override (no ``=``, empty key, a path through a single
        value, or a list index past the end), each naming the file and the override text.
    """
    problems = []
    for text in overrides:
        key, sep, raw = text.partition("=")
        parts = [p.strip() for p in key.split(".")]
        if not sep or not key.strip() or any(not p for p in parts):
            reason = ("has no '='" if not sep else "has no key before '='" if not key.strip()
                      else "has an empty key between dots")
            problems.append(f"{source.file}: override '{text}' {reason}; write it as "
                            "a.b.c=value, e.g. algorithm.rounds=20")
            continue
        value = yaml_value(raw, f"{source.file}: override '{text}', line")
        node: Any = source.data
        path: list[str | int] = []
        created: list[YamlPath] = []
        problem = None
        for part in parts:
            is_last = len(path) == len(parts) - 1
            if isinstance(node, dict):
                if not is_last and node.get(part) is None:
                    node[part] = {}
                    created.append((*path, part))
                step: str | int = part
            elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
                step = int(part)
            else:
                problem = _no_key(text, path, node, part)
                break
            if is_last:
                node[step] = value
            else:
                node = node[step]
            path.append(step)
        if problem is not None:
            problems.append(f"{source.file}: {problem}")
            continue
        for created_path in created:
            source.overridden.setdefault(created_path, text)
        target = tuple(path)
        source.overridden[target] = text
        for stale in [k for k in (*source.lines, *source.overridden) if k[:len(target)] == target
                      and len(k) > len(target)]:
            source.lines.pop(stale, None)  # the file's (or an earlier override's) old value
            source.overridden.pop(stale, None)
    if problems:
        raise ScenarioError(problems)
    return source
