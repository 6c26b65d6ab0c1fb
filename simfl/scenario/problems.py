"""Turning pydantic validation errors into one teaching line per problem.

Each line reads ``file:line: yaml.path: what is wrong; what is allowed``.
"""

from __future__ import annotations

import difflib
import math
import types
import typing
from typing import Any

from pydantic import BaseModel, BeforeValidator, ValidationError
from pydantic.fields import FieldInfo

from simfl.scenario.rules import RULE_SEPARATOR
from simfl.scenario.source import ScenarioSource, YamlPath

MOVED_KEYS: dict[YamlPath, str] = {
    ("algorithm", "edges"): "groups.count",
    ("algorithm", "edge_assignment"): "groups.assignment",
}
"""Keys that moved to another section, and where they live now."""


def _data_path(loc: tuple[Any, ...], data: Any) -> YamlPath:
    """Drop pydantic's union-tag and validator elements from ``loc`` by walking the data."""
    out: list[str | int] = []
    node = data
    for i, part in enumerate(loc):
        in_dict = isinstance(node, dict) and part in node
        in_list = isinstance(node, list) and isinstance(part, int) and part < len(node)
        following = loc[i + 1] if i + 1 < len(loc) else None
        # a discriminated-union tag, e.g. ('algorithm', 'fedavg', 'rounds'), even when the
        # data also has a key named like the tag (algorithm: {name: fedavg, fedavg: ...})
        is_tag = (isinstance(node, dict) and node.get("name") == part and following is not None
                  and not (in_dict and isinstance(node[part], dict) and following in node[part]))
        if is_tag:
            continue
        if in_dict or in_list:
            out.append(part)
            node = node[part]
        elif isinstance(part, str) and ("[" in part or "function" in part):
            continue  # pydantic's internal step names
        else:
            out.append(part)
            node = None
    return tuple(out)


def _model_at(model: type[BaseModel], path: YamlPath, data: Any) -> type[BaseModel] | None:
    """Return the pydantic model class that validates the mapping at ``path``."""
    current: Any = model
    node = data
    for part in path:
        if isinstance(part, int):  # a list item: ``current`` is already the item's model
            node = node[part] if isinstance(node, list) and part < len(node) else None
            continue
        if not (isinstance(current, type) and issubclass(current, BaseModel)):
            return None
        field = current.model_fields.get(str(part))
        if field is None:
            return None
        node = node.get(part) if isinstance(node, dict) else None
        current = _resolve(field.annotation, node)
    return current if isinstance(current, type) and issubclass(current, BaseModel) else None


def _resolve(annotation: Any, node: Any) -> Any:
    """Pick the BaseModel class in ``annotation`` (unions by their ``name`` literal)."""
    args = typing.get_args(annotation)
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    candidates = [a for a in _flatten(args) if isinstance(a, type) and issubclass(a, BaseModel)]
    if len(candidates) == 1:
        return candidates[0]
    for cand in candidates:
        if isinstance(node, dict) and node.get("name") in _tags(cand):
            return cand
    return None


def _tags(model_cls: type[BaseModel]) -> tuple[Any, ...]:
    """Return the values of ``model_cls.name`` if it is a ``Literal`` tag, else ``()``."""
    name_field = model_cls.model_fields.get("name")
    if name_field is None or typing.get_origin(name_field.annotation) is not typing.Literal:
        return ()
    return typing.get_args(name_field.annotation)


def _union_tags(model: type[BaseModel], path: YamlPath, data: Any) -> list[str]:
    """Return the tag values allowed for the tagged union at ``path`` (``algorithm``)."""
    parent = _model_at(model, path[:-1], data) if path else None
    field = parent.model_fields.get(str(path[-1])) if parent is not None else None
    if field is None:
        return []
    members = [a for a in _flatten(typing.get_args(field.annotation))
               if isinstance(a, type) and issubclass(a, BaseModel)]
    return [repr(tag) for cls in members for tag in _tags(cls)]


def _flatten(args: tuple[Any, ...]) -> list[Any]:
    out: list[Any] = []
    for a in args:
        inner = typing.get_args(a)
        if inner and typing.get_origin(a) is not typing.Literal:
            out.extend(_flatten(inner))
        else:
            out.append(a)
    return out


def _describe(
    error: Any, model_cls: type[BaseModel] | None, tags: list[str], written: Any = None
) -> str:
    kind = error["type"]
    value = error.get("input")
    ctx = error.get("ctx") or {}
    if kind == "extra_forbidden":
        if model_cls is None:
            return "unknown key; remove it (every key is listed in docs/scenario_reference.md)"
        fields = sorted(model_cls.model_fields)
        close = difflib.get_close_matches(str(error["loc"][-1]), fields, n=1, cutoff=0.5)
        hint = f"did you mean {close[0]!r}? " if close else ""
        return f"unknown key; {hint}allowed keys here are: {', '.join(fields)}"
    if kind == "missing":
        return "is required but missing; add it"
    if kind == "literal_error":
        return f"{value!r} is not allowed; choose one of {ctx.get('expected', '')}"
    if kind == "union_tag_invalid":
        return f"{ctx.get('tag')!r} is unknown; choose one of {ctx.get('expected_tags', '')}"
    if kind == "union_tag_not_found":
        choices = f"; choose one of {', '.join(tags)}" if tags else ""
        return f"is missing; it says which one to use{choices}"
    if kind in ("greater_than", "greater_than_equal", "less_than", "less_than_equal"):
        sign = {"greater_than": ">", "greater_than_equal": ">=", "less_than": "<",
                "less_than_equal": "<="}[kind]
        bound = next(iter(ctx.values())) if ctx else "?"
        unit_text = isinstance(written, str) and written != value
        shown = f"{written!r} (= {value})" if unit_text else repr(value)
        return f"{shown} is out of range; it must be {sign} {bound}"
    if kind in ("int_parsing", "int_type", "int_from_float"):
        return f"expected a whole number, got {value!r}"
    if kind == "finite_number":
        return f"{value} is not a finite number; give a finite value"
    if kind in ("float_parsing", "float_type"):
        return f"expected a number, got {value!r}"
    if kind in ("bool_parsing", "bool_type"):
        return f"expected true or false, got {value!r}"
    if kind in ("string_type",):
        return f"expected text, got {value!r}"
    if kind in ("dict_type", "model_type", "model_attributes_type"):
        return f"expected a mapping of keys, got {value!r}"
    if kind == "list_type":
        return f"expected a list, got {value!r}"
    if kind == "string_pattern_mismatch":
        return f"{value!r} must match {ctx.get('pattern')} (letters, digits, _ . - only)"
    if kind == "path_type":
        return f"expected a path (text such as data/mnist), got {value!r}"
    if kind.startswith("datetime"):
        return f"expected an ISO 8601 UTC time such as 2026-02-24T12:00:00Z, got {value!r}"
    if kind == "value_error":
        return str(ctx.get("error", error["msg"]))
    return f"{error['msg']} (got {value!r})"


def _leaf_types(annotation: Any) -> set[Any]:
    """Return the plain types ``annotation`` allows (Annotated and unions unpacked).

    A quantity with units (an ``Annotated`` type with a before-validator, such as
    :data:`~simfl.scenario.units.DurationS`) allows text too (``'5 min'``).
    """
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        inner, *metadata = typing.get_args(annotation)
        parses_text = any(isinstance(m, BeforeValidator) for m in metadata)
        return _leaf_types(inner) | ({str} if parses_text else set())
    if origin in (typing.Union, types.UnionType):
        return set().union(*(_leaf_types(a) for a in typing.get_args(annotation)))
    return {origin or annotation}


def _annotation_of(field: FieldInfo) -> Any:
    """Return a field's annotation with the metadata pydantic moved out of it put back."""
    if not field.metadata:
        return field.annotation
    return typing.Annotated[(field.annotation, *field.metadata)]


def _item_annotation(annotation: Any) -> Any:
    """Return the item type of the ``list[...]`` inside ``annotation`` (or ``None``)."""
    origin = typing.get_origin(annotation)
    if origin is list:
        return typing.get_args(annotation)[0]
    for arg in typing.get_args(annotation) if origin is not typing.Literal else ():
        found = _item_annotation(arg)
        if found is not None:
            return found
    return None


def _slips_in(annotation: Any, value: Any, path: YamlPath, out: list[tuple[YamlPath, str]]) -> None:
    allowed = _leaf_types(annotation)
    if isinstance(value, bool) and bool not in allowed and allowed & {int, float}:
        number = "a number" if float in allowed else "a whole number"
        out.append((path, f"expected {number}, got {str(value).lower()} (a boolean)"))
    elif isinstance(value, int | float) and not isinstance(value, bool) and allowed == {bool}:
        out.append((path, f"expected true or false, got {value!r}"))
    elif isinstance(value, str) and allowed and allowed <= {int, float, bool, type(None)}:
        out.append((path, _quoted(value, allowed)))
    elif isinstance(value, float) and not math.isfinite(value):
        out.append((path, f"{value} is not a finite number; give a finite value"))
    elif isinstance(value, dict) and typing.get_origin(annotation) is dict:
        item = typing.get_args(annotation)[1]
        for key, child in value.items():
            _slips_in(item, child, (*path, key), out)
    elif isinstance(value, dict):
        cls = _resolve(annotation, value)
        for key, child in value.items():
            field = cls.model_fields.get(key) if cls is not None else None
            _slips_in(_annotation_of(field) if field is not None else Any, child, (*path, key),
                      out)
    elif isinstance(value, list):
        item = _item_annotation(annotation)
        for i, child in enumerate(value):
            _slips_in(item if item is not None else Any, child, (*path, i), out)


def _quoted(value: str, allowed: set[Any]) -> str:
    """Return the message for text where only numbers or booleans are allowed."""
    if allowed & {int, float}:
        expected = "a number" if float in allowed else "a whole number"
        fix = "write the number without quotes"
    else:
        expected, fix = "true or false", "write true or false without quotes"
    return f"expected {expected}, got the text {value!r}; {fix} (quoted values are text)"


def type_slips(model: type[BaseModel], data: dict[str, Any]) -> list[tuple[YamlPath, str]]:
    """Return ``(yaml path, message)`` for values pydantic's lax mode would let through.

    These are ``true``/``false`` where a number is expected (pydantic reads them as 1 and 0),
    quoted text where a number or a boolean is expected (pydantic would convert ``'3'``; a
    user who quotes a number made a mistake or meant text) and infinite or NaN numbers
    (``.inf``, ``.nan``).
    """
    out: list[tuple[YamlPath, str]] = []
    _slips_in(model, data, (), out)
    return out


def _written(data: Any, path: YamlPath) -> Any:
    """Return the value at ``path`` as written in the YAML (``None`` if there is none)."""
    node = data
    for part in path:
        if not isinstance(node, dict | list):
            return None
        try:
            node = node[part]  # type: ignore[index]
        except (KeyError, IndexError, TypeError):
            return None
    return node


def _line_of(source: ScenarioSource, path: YamlPath) -> int:
    """Return the line of ``path`` or of its nearest ancestor in the file (for sorting)."""
    for i in range(len(path), -1, -1):
        if path[:i] in source.lines:
            return source.lines[path[:i]]
    return 10**9


def scenario_problems(
    error: ValidationError | None,
    source: ScenarioSource,
    model: type[BaseModel],
    slips: list[tuple[YamlPath, str]] | None = None,
) -> list[str]:
    """Return one ``file:line: path: message`` line per problem, in file order.

    ``error`` is pydantic's (or ``None``); ``slips`` come from :func:`type_slips` and are
    dropped where pydantic already reported the same path.
    """
    found: list[tuple[YamlPath, str]] = []
    for err in error.errors(include_url=False) if error is not None else []:
        path = _data_path(tuple(err["loc"]), source.data)
        if err["type"] in ("union_tag_invalid", "union_tag_not_found"):
            path = (*path, str((err.get("ctx") or {}).get("discriminator", "name")).strip("'"))
        parent_cls = _model_at(model, path[:-1], source.data) if path else model
        tags = _union_tags(model, path[:-1], source.data) if path else []
        moved = MOVED_KEYS.get(path) if err["type"] == "extra_forbidden" else None
        message = (f"this key moved to {moved} (client groups are one section for every "
                   "algorithm)" if moved else
                   _describe(err, parent_cls, tags, _written(source.data, path)))
        found.append((path, message))
    slip_messages = {message for _, message in slips or []}
    # a cross-key rule that pydantic reports at its section (or the top level) is also a
    # slip with a precise path: keep the precise one
    found = [(p, m) for p, m in found if not set(m.split(RULE_SEPARATOR)) <= slip_messages]
    reported = {path for path, _ in found}
    found.extend(item for item in slips or [] if item[0] not in reported)
    lines: list[tuple[int, str, str]] = []
    for path, message in found:
        dotted = ".".join(str(p) for p in path) or "(top level)"
        lines.append((_line_of(source, path), dotted, f"{source.where(path)}: {dotted}: {message}"))
    lines.sort(key=lambda item: item[:2])
    return [text for _, _, text in lines]


def format_validation_error(
    error: ValidationError, source: ScenarioSource, model: type[BaseModel]
) -> list[str]:
    """Return one ``file:line: path: message`` line per problem in ``error``, in file order."""
    return scenario_problems(error, source, model)
