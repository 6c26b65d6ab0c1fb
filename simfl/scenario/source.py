"""Reading scenario YAML with a map from every YAML path to its line, and ``-o`` overrides.

The line map lets every validation problem be reported as ``file:line: a.b.c: message``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

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

    def where(self, path: YamlPath) -> str:
        """Return ``file:line`` (or ``override 'a.b=1'``) for the nearest known ancestor."""
        for i in range(len(path), -1, -1):
            prefix = path[:i]
            if prefix in self.overridden:
                return f"{self.file}: override '{self.overridden[prefix]}'"
            if prefix in self.lines:
                return f"{self.file}:{self.lines[prefix]}"
        return self.file


def _construct(node: yaml.Node, path: YamlPath, lines: dict[YamlPath, int], file: str) -> Any:
    if isinstance(node, yaml.MappingNode):
        out: dict[str, Any] = {}
        for key_node, value_node in node.value:
            key = yaml.safe_load(yaml.serialize(key_node)) if key_node.tag != "tag:yaml.org,2002:str" else key_node.value
            if not isinstance(key, str):
                raise ScenarioError(
                    f"{file}:{key_node.start_mark.line + 1}: key {key!r} must be a string"
                )
            if key in out:
                raise ScenarioError(
                    f"{file}:{key_node.start_mark.line + 1}: {'.'.join(map(str, (*path, key)))}"
                    f" is given twice; keep one"
                )
            child = (*path, key)
            lines[child] = key_node.start_mark.line + 1
            out[key] = _construct(value_node, child, lines, file)
        return out
    if isinstance(node, yaml.SequenceNode):
        items = []
        for i, item in enumerate(node.value):
            child = (*path, i)
            lines[child] = item.start_mark.line + 1
            items.append(_construct(item, child, lines, file))
        return items
    return yaml.safe_load(yaml.serialize(node))


def parse_yaml(text: str, file: str = "<string>") -> ScenarioSource:
    """Return the scenario mapping in ``text`` with its line map.

    Raises
    ------
    ScenarioError
        If the text is not valid YAML or its top level is not a mapping.
    """
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = f":{mark.line + 1}" if mark is not None else ""
        problem = exc.problem or "invalid YAML"
        raise ScenarioError(
            f"{file}{line}: malformed YAML: {problem}"
            + (f" ({exc.context})" if exc.context else "")
            + "; check indentation, colons and quotes"
        ) from None
    except yaml.YAMLError as exc:
        raise ScenarioError(f"{file}: malformed YAML: {exc}") from None
    if root is None:
        raise ScenarioError(f"{file}: the file is empty; a scenario is a YAML mapping of sections")
    if not isinstance(root, yaml.MappingNode):
        raise ScenarioError(
            f"{file}:{root.start_mark.line + 1}: the top level must be a mapping of sections "
            f"(name:, data:, algorithm:, ...), not a {type(root).__name__.replace('Node', '').lower()}"
        )
    lines: dict[YamlPath, int] = {}
    try:
        data = _construct(root, (), lines, file)
    except yaml.YAMLError as exc:
        raise ScenarioError(f"{file}: malformed YAML value: {exc}") from None
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
    except (OSError, UnicodeDecodeError) as exc:
        raise ScenarioError(f"{p}: cannot read the scenario file: {exc}") from None
    return parse_yaml(text, file=str(p))


def apply_overrides(source: ScenarioSource, overrides: list[str]) -> ScenarioSource:
    """Return ``source`` with ``a.b.c=value`` overrides applied (values parsed as YAML).

    Raises
    ------
    ScenarioError
        One line per malformed override (no ``=``, empty path, or a path through a value).
    """
    problems = []
    for text in overrides:
        key, sep, raw = text.partition("=")
        parts = [p for p in key.strip().split(".")]
        if not sep or not key.strip() or any(not p for p in parts):
            problems.append(
                f"override '{text}': write it as a.b.c=value, e.g. algorithm.rounds=20"
            )
            continue
        try:
            value = yaml.safe_load(raw) if raw.strip() else ""
        except yaml.YAMLError:
            value = raw
        node: Any = source.data
        path: list[str | int] = []
        ok = True
        for part in parts[:-1]:
            path.append(part)
            if isinstance(node, dict):
                node = node.setdefault(part, {})
            elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
                path[-1] = int(part)
                node = node[int(part)]
            else:
                problems.append(
                    f"override '{text}': {'.'.join(map(str, path[:-1])) or 'top level'} "
                    f"is not a mapping, so it has no key {part!r}"
                )
                ok = False
                break
        if not ok:
            continue
        last: str | int = parts[-1]
        if isinstance(node, list) and isinstance(last, str) and last.isdigit():
            last = int(last)
            if last >= len(node):
                problems.append(f"override '{text}': index {last} is past the list's end")
                continue
        elif not isinstance(node, dict):
            problems.append(
                f"override '{text}': {'.'.join(map(str, path))} is not a mapping"
            )
            continue
        node[last] = value
        source.overridden[(*path, last)] = text
    if problems:
        raise ScenarioError(problems)
    return source
