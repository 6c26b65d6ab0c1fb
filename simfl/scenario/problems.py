"""Turning pydantic validation errors into one teaching line per problem.

Each line reads ``file:line: yaml.path: what is wrong; what is allowed``.
"""

from __future__ import annotations

import difflib
from typing import Any

from pydantic import BaseModel, ValidationError

from simfl.scenario.source import ScenarioSource, YamlPath


def _data_path(loc: tuple[Any, ...], data: Any) -> YamlPath:
    """Drop pydantic's union-tag and validator elements from ``loc`` by walking the data."""
    out: list[str | int] = []
    node = data
    for part in loc:
        if isinstance(node, dict) and part in node:
            out.append(part)
            node = node[part]
        elif isinstance(node, list) and isinstance(part, int) and part < len(node):
            out.append(part)
            node = node[part]
        elif isinstance(node, dict) and node.get("name") == part:
            continue  # discriminated-union tag, e.g. ('algorithm', 'fedavg', 'rounds')
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
    import typing

    args = typing.get_args(annotation)
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    candidates = [a for a in _flatten(args) if isinstance(a, type) and issubclass(a, BaseModel)]
    if len(candidates) == 1:
        return candidates[0]
    for cand in candidates:
        name_field = cand.model_fields.get("name")
        if name_field is not None and isinstance(node, dict):
            if node.get("name") in typing.get_args(name_field.annotation):
                return cand
    return None


def _flatten(args: tuple[Any, ...]) -> list[Any]:
    import typing

    out: list[Any] = []
    for a in args:
        inner = typing.get_args(a)
        if inner and typing.get_origin(a) is not typing.Literal:
            out.extend(_flatten(inner))
        else:
            out.append(a)
    return out


def _describe(error: Any, model_cls: type[BaseModel] | None) -> str:
    kind = error["type"]
    value = error.get("input")
    ctx = error.get("ctx") or {}
    if kind == "extra_forbidden":
        if model_cls is None:
            return "unknown key; remove it (see the scenario reference in the README)"
        fields = sorted(model_cls.model_fields)
        close = difflib.get_close_matches(str(error["loc"][-1]), fields, n=1, cutoff=0.5)
        hint = f"did you mean {close[0]!r}? " if close else ""
        return f"unknown key; {hint}allowed keys here are: {', '.join(fields)}"
    if kind == "missing":
        return "is required but missing"
    if kind == "literal_error":
        return f"{value!r} is not allowed; choose one of {ctx.get('expected', '')}"
    if kind == "union_tag_invalid":
        return f"{ctx.get('tag')!r} is unknown; choose one of {ctx.get('expected_tags', '')}"
    if kind == "union_tag_not_found":
        return "is missing; it says which one to use"
    if kind in ("greater_than", "greater_than_equal", "less_than", "less_than_equal"):
        sign = {"greater_than": ">", "greater_than_equal": ">=", "less_than": "<",
                "less_than_equal": "<="}[kind]
        bound = next(iter(ctx.values())) if ctx else "?"
        return f"{value!r} is out of range; it must be {sign} {bound}"
    if kind in ("int_parsing", "int_type", "int_from_float"):
        return f"expected a whole number, got {value!r}"
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
    if kind.startswith("datetime"):
        return f"expected an ISO 8601 UTC time such as 2026-02-24T12:00:00Z, got {value!r}"
    if kind == "value_error":
        return str(ctx.get("error", error["msg"]))
    return f"{error['msg']} (got {value!r})"


def format_validation_error(
    error: ValidationError, source: ScenarioSource, model: type[BaseModel]
) -> list[str]:
    """Return one ``file:line: path: message`` line per problem in ``error``, in file order."""
    lines: list[tuple[int, str]] = []
    for err in error.errors(include_url=False):
        path = _data_path(tuple(err["loc"]), source.data)
        if err["type"] in ("union_tag_invalid", "union_tag_not_found"):
            path = (*path, str((err.get("ctx") or {}).get("discriminator", "name")).strip("'"))
        parent_cls = _model_at(model, path[:-1], source.data) if path else model
        where = source.where(path)
        dotted = ".".join(str(p) for p in path) or "(top level)"
        line_no = source.lines.get(path, 10**9)
        lines.append((line_no, f"{where}: {dotted}: {_describe(err, parent_cls)}"))
    lines.sort(key=lambda item: item[0])
    return [text for _, text in lines]
