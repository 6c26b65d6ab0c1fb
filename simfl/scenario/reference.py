"""The scenario reference: every key, its type, default and meaning, made from the schema.

``python -m simfl.scenario.reference > docs/scenario_reference.md`` regenerates the document;
a test checks that the committed copy is current.
"""

from __future__ import annotations

import inspect
import typing
from typing import Any

from pydantic import BaseModel
from pydantic_core import PydanticUndefined

from simfl.scenario.registry import scenario_model


def _type_name(annotation: Any) -> str:
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if origin is typing.Literal:
        return " \\| ".join(repr(a) for a in args)
    if origin is typing.Annotated:
        base, *meta = args
        name = _type_name(base)
        for m in meta:
            func = getattr(m, "func", None)
            if func is not None and "quantity" not in name:
                kind = getattr(func, "__qualname__", "")
                if "parse" in kind:
                    name = f"{name} (with units)"
        return name
    if origin in (typing.Union, getattr(__import__("types"), "UnionType", None)):
        return " or ".join(_type_name(a) for a in args).replace("NoneType", "null")
    if origin in (list, tuple):
        return f"list of {_type_name(args[0])}" if args else "list"
    if isinstance(annotation, type):
        if issubclass(annotation, BaseModel):
            return "section"
        return {"NoneType": "null", "str": "text", "int": "integer", "float": "number",
                "bool": "true/false", "Path": "path", "datetime": "UTC time"}.get(
                    annotation.__name__, annotation.__name__)
    return str(annotation)


def _models(annotation: Any) -> list[type[BaseModel]]:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    out: list[type[BaseModel]] = []
    for arg in typing.get_args(annotation):
        out += _models(arg)
    return out


def _field_type(field: Any) -> str:
    models = _models(field.annotation)
    if len(models) > 1 and all("name" in m.model_fields for m in models):
        names = [typing.get_args(m.model_fields["name"].annotation)[0] for m in models]
        return "section, by name: " + ", ".join(f"`{n}`" for n in names)
    name = _type_name(field.annotation)
    for meta in field.metadata:
        func = getattr(meta, "func", None)
        cells = getattr(func, "__closure__", None) or ()
        kinds = [c.cell_contents for c in cells if isinstance(c.cell_contents, str)]
        if kinds:
            name = name.replace("number", f"{kinds[0]} (with units)")
    return name


_REQUIRED = object()


def _default_value(field: Any, parent: BaseModel | None, name: str) -> Any:
    """Return the field's default, as the parent's default instance holds it."""
    if parent is not None:
        return getattr(parent, name)
    if field.default is PydanticUndefined and field.default_factory is None:
        return _REQUIRED
    return field.default_factory() if field.default is PydanticUndefined else field.default


def _format_default(value: Any) -> str:
    if value is _REQUIRED:
        return "required"
    if isinstance(value, BaseModel):
        return "(section defaults)"
    if value is None:
        return "null"
    if hasattr(value, "isoformat"):
        return f"`{value.isoformat().replace('+00:00', 'Z')}`"
    return f"`{value!r}`" if not isinstance(value, str) else f"`{value}`"


def _doc(model: type[BaseModel]) -> str:
    return (inspect.getdoc(model) or "").split("\n\n")[0].replace("\n", " ")


def _section(model: type[BaseModel], prefix: str, lines: list[str], seen: set[str],
             defaults: BaseModel | None = None) -> None:
    """Append ``model``'s table; ``defaults`` is the instance its parent uses by default."""
    rows = []
    nested: list[tuple[str, str, type[BaseModel], BaseModel | None]] = []
    for name, field in model.model_fields.items():
        path = f"{prefix}{name}"
        value = _default_value(field, defaults, name)
        rows.append(f"| `{path}` | {_field_type(field)} | {_format_default(value)} |")
        for sub in _models(field.annotation):
            nested.append((name, path, sub, value if isinstance(value, sub) else None))
    lines += [f"### `{prefix.rstrip('.') or '(top level)'}`" + (
        f" ({model.__name__})" if prefix else ""), "", _doc(model), "",
        "| key | type | default |", "|---|---|---|", *rows, ""]
    for name, path, sub, sub_defaults in nested:
        key = f"{path}:{sub.__name__}"
        if key in seen:
            continue
        seen.add(key)
        label = f"{path}."
        if len(_models(model.model_fields[name].annotation)) > 1:
            names = typing.get_args(sub.model_fields["name"].annotation)
            label = f"{path}[name={names[0]}]."
        _section(sub, label, lines, seen, sub_defaults)

def scenario_reference_markdown() -> str:
    """Return the scenario reference as Markdown (one table per section)."""
    lines = [
        "# Scenario reference",
        "",
        "Generated from the schema by `python -m simfl.scenario.reference`; do not edit by hand.",
        "Unknown keys are errors. Quantities marked *with units* take a number in the base unit",
        "of the key's name (`_s` seconds, `_bps` bit/s, `_km`, `_hz`, FLOP/s) or text with a",
        "unit: `50 ms`, `5 Mbps`, `2 GFLOPS`, `12 h`, `550 km`, `12 GHz`.",
        "",
    ]
    _section(scenario_model(), "", lines, set())
    return "\n".join(lines).rstrip() + "\n"


if __name__ == "__main__":  # pragma: no cover
    print(scenario_reference_markdown(), end="")
