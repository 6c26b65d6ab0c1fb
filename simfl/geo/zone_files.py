"""Zone files: GeoJSON FeatureCollections and CSV files with a WKT polygon column.

GeoJSON (RFC 7946): a ``FeatureCollection`` whose features have a ``Polygon`` or
``MultiPolygon`` geometry (positions ``[lon, lat]``, outer ring first, then holes) and a
name in their ``properties``. CSV: one zone per row, a name column and a WKT column holding
``POLYGON ((lon lat, ...), (...))`` or ``MULTIPOLYGON (((lon lat, ...)), ...)``, the layout
of the SGFusion code's ``processed_gdf/<country>_provinces.csv`` (WKT column ``geometry``).
Every problem of a file is reported at once, one line each, with file and feature or line.
"""

from __future__ import annotations

import csv
import json
import os
import re
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from simfl.atomic import write_json
from simfl.errors import DataError, SimflError, capped
from simfl.geo.areas import CircleArea, PolygonArea, polygon_from_lonlat
from simfl.geo.zones import Zone

GEOMETRY_TYPES = ("Polygon", "MultiPolygon")
WKT_COLUMNS = ("wkt", "geometry")  # looked for, case-insensitively, when none is named

Parts = list[list[Any]]  # polygons -> rings -> positions [lon, lat]


def read_geojson_zones(path: str | os.PathLike[str], *, name_property: str = "name") -> list[Zone]:
    """Return one zone per feature of a GeoJSON FeatureCollection, in file order.

    Parameters
    ----------
    path
        The ``.geojson`` / ``.json`` file.
    name_property
        The feature property holding the zone name (a string or an integer).

    Raises
    ------
    DataError
        Listing every problem: invalid JSON, not a FeatureCollection, a feature without a
        name or with another geometry type, bad coordinates, duplicate names.
    """
    path = Path(path)
    text = _read_text(path)
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise DataError(
            f"{path}:{exc.lineno}:{exc.colno}: invalid JSON ({exc.msg}); a zone file is a "
            "GeoJSON FeatureCollection"
        ) from exc
    if not (isinstance(doc, dict) and doc.get("type") == "FeatureCollection"
            and isinstance(doc.get("features"), list)):
        kind = doc.get("type") if isinstance(doc, dict) else type(doc).__name__
        raise DataError(
            f"{path}: top level is {kind!r}, not a GeoJSON FeatureCollection; write "
            '{"type": "FeatureCollection", "features": [...]}'
        )
    zones: list[Zone] = []
    problems: list[str] = []
    for i, feature in enumerate(doc["features"]):
        where = f"{path}: feature {i}"
        if not isinstance(feature, dict):
            problems.append(f"{where}: is a {type(feature).__name__}, not a Feature object")
            continue
        name, name_problem = _feature_name(feature, name_property)
        if name_problem:
            problems.append(f"{where}: {name_problem}")
        else:
            where = f"{where} ({name!r})"
        parts, geometry_problem = _feature_parts(feature.get("geometry"))
        if geometry_problem:
            problems.append(f"{where}: {geometry_problem}")
        elif name is not None:
            _add_zone(zones, problems, where, name, parts)
    if not doc["features"]:
        problems.append(f"{path}: the FeatureCollection has no features; add one per zone")
    _check_unique(zones, path, problems)
    if problems:
        raise DataError(capped(problems))
    return zones


def read_wkt_zones(path: str | os.PathLike[str], *, name_column: str = "name",
                   wkt_column: str | None = None) -> list[Zone]:
    """Return one zone per row of a CSV file with a name and a WKT polygon column.

    Parameters
    ----------
    path
        The CSV file (comma separated, first row the header; other columns are ignored).
    name_column
        Column of the zone names.
    wkt_column
        Column of the WKT geometries; by default the first of ``wkt`` and ``geometry``
        (any case) that the header has.

    Raises
    ------
    DataError
        Listing every problem with its line: missing columns, empty names, WKT that is not
        a POLYGON or MULTIPOLYGON or cannot be parsed, bad coordinates, duplicate names.
    """
    path = Path(path)
    rows = list(csv.reader(_read_text(path).splitlines()))
    if not rows:
        raise DataError(f"{path}: empty file; need a header with {name_column!r} and a WKT column")
    header = [h.strip() for h in rows[0]]
    lowered = [h.lower() for h in header]
    wanted = [wkt_column] if wkt_column else list(WKT_COLUMNS)
    wkt_at = next((lowered.index(w.lower()) for w in wanted if w.lower() in lowered), None)
    missing = [] if name_column in header else [repr(name_column)]
    if wkt_at is None:
        missing.append(" or ".join(repr(w) for w in wanted))
    if missing:
        raise DataError(
            f"{path}:1: header {header} lacks column {', '.join(missing)}; name the columns "
            "or pass name_column / wkt_column"
        )
    assert wkt_at is not None
    name_at = header.index(name_column)
    zones: list[Zone] = []
    problems: list[str] = []
    for line, row in enumerate(rows[1:], start=2):
        if not any(cell.strip() for cell in row):
            continue
        if len(row) != len(header):
            problems.append(
                f"{path}:{line}: {len(row)} fields but the header has {len(header)}; quote WKT "
                'values, which contain commas: "POLYGON ((...))"'
            )
            continue
        name = row[name_at].strip()
        if not name:
            problems.append(f"{path}:{line}: empty {name_column!r}; give every zone a name")
            continue
        where = f"{path}:{line} ({name!r})"
        try:
            parts = parse_wkt_polygons(row[wkt_at])
        except ValueError as exc:
            problems.append(f"{where}: {exc}")
            continue
        _add_zone(zones, problems, where, name, parts)
    if not zones and not problems:
        problems.append(f"{path}: no zones; add one row per zone below the header")
    _check_unique(zones, path, problems)
    if problems:
        raise DataError(capped(problems))
    return zones


def parse_wkt_polygons(text: str) -> Parts:
    """Return the polygons of a WKT ``POLYGON`` or ``MULTIPOLYGON`` as nested lists.

    The result is a list of polygons, each a list of rings, each a list of ``[x, y]`` (or
    ``[x, y, z]``) positions: ``[lon, lat]`` for geographic WKT.

    Raises
    ------
    ValueError
        With a one-line message saying what is wrong and what is allowed.
    """
    match = re.fullmatch(r"\s*([A-Za-z]+)(?:\s+(Z|M|ZM))?\s*(\(.*\))\s*", text, flags=re.S)
    if not match:
        head = text.strip()[:30]
        raise ValueError(
            f"WKT {head!r} is not a POLYGON or MULTIPOLYGON with coordinates, e.g. "
            "POLYGON ((10 50, 11 50, 11 51, 10 50))"
        )
    kind = match.group(1).upper()
    if kind not in ("POLYGON", "MULTIPOLYGON"):
        raise ValueError(f"WKT geometry {kind} is not supported; use POLYGON or MULTIPOLYGON")
    tokens = re.findall(r"\(|\)|,|[^\s(),]+", match.group(3))
    nested, end = _parse_group(tokens, 0)
    if end != len(tokens):
        raise ValueError(f"WKT {kind}: unexpected {' '.join(tokens[end:end + 3])!r} after the end")
    depth = 3 if kind == "POLYGON" else 4
    if _depth(nested) != depth:
        example = "((x y, ...))" if kind == "POLYGON" else "(((x y, ...)), ((x y, ...)))"
        raise ValueError(
            f"WKT {kind}: parentheses nest {_depth(nested)} deep; a {kind} is {kind} {example}"
        )
    return [nested] if kind == "POLYGON" else nested


def write_geojson_zones(zones: Sequence[Zone], path: str | os.PathLike[str]) -> Path:
    """Write polygon and grid-cell zones as a GeoJSON FeatureCollection; return the path.

    Each feature has property ``name``; rings are closed and positions are ``[lon, lat]``.
    Circles have no GeoJSON geometry and are refused. The file is written atomically.
    """
    features = []
    for zone in zones:
        if isinstance(zone.area, CircleArea):
            raise SimflError(
                f"zone {zone.name!r} is a circle, which GeoJSON cannot hold; approximate it by "
                "a polygon (e.g. simfl.analysis.small_circle) first"
            )
        polygons = (zone.area.polygons if isinstance(zone.area, PolygonArea)
                    else (tuple(zone.area.rings()),))
        coordinates = [[_closed_lonlat(ring) for ring in rings] for rings in polygons]
        geometry = ({"type": "Polygon", "coordinates": coordinates[0]} if len(coordinates) == 1
                    else {"type": "MultiPolygon", "coordinates": coordinates})
        features.append({"type": "Feature", "properties": {"name": zone.name},
                         "geometry": geometry})
    return write_json(path, {"type": "FeatureCollection", "features": features})


def _closed_lonlat(ring: np.ndarray) -> list[list[float]]:
    lonlat = ring[:, ::-1].tolist()
    return [*lonlat, lonlat[0]]


def _parse_group(tokens: list[str], at: int) -> tuple[list[Any], int]:
    """Parse ``( item, item, ... )`` from ``tokens[at]``; an item is a group or a position."""
    if at >= len(tokens) or tokens[at] != "(":
        raise ValueError("WKT: expected '(' ; coordinates are grouped as ((x y, x y, ...))")
    items: list[Any] = []
    at += 1
    while True:
        if at >= len(tokens):
            raise ValueError("WKT: missing ')' at the end; the parentheses are unbalanced")
        if tokens[at] == "(":
            group, at = _parse_group(tokens, at)
            items.append(group)
        else:
            position = []
            while at < len(tokens) and tokens[at] not in "(),":
                try:
                    position.append(float(tokens[at]))
                except ValueError:
                    raise ValueError(f"WKT: {tokens[at]!r} is not a number") from None
                at += 1
            if len(position) not in (2, 3, 4):
                raise ValueError(
                    f"WKT: a position has {len(position)} numbers; write 'lon lat' (or with z/m)"
                )
            items.append(position[:2])
        if at < len(tokens) and tokens[at] == ",":
            at += 1
            continue
        if at < len(tokens) and tokens[at] == ")":
            return items, at + 1
        if at >= len(tokens):
            raise ValueError("WKT: missing ')' at the end; the parentheses are unbalanced")
        raise ValueError("WKT: expected ',' or ')' between coordinates")


def _depth(nested: Any) -> int:
    if isinstance(nested, list) and nested:
        return 1 + _depth(nested[0])
    return 0 if isinstance(nested, float) else 1


def _feature_name(feature: dict[str, Any], key: str) -> tuple[str | None, str | None]:
    props = feature.get("properties")
    if not isinstance(props, dict) or key not in props:
        keys = sorted(props) if isinstance(props, dict) else []
        return None, (
            f"no {key!r} property (properties: {keys}); give each feature a name or pass "
            "name_property"
        )
    value = props[key]
    if isinstance(value, bool) or not isinstance(value, str | int) or not str(value).strip():
        return None, f"property {key!r} = {value!r} is not a non-empty string or integer"
    return str(value).strip(), None


def _feature_parts(geometry: Any) -> tuple[Parts, str | None]:
    if not isinstance(geometry, dict):
        return [], f"geometry is {geometry!r}; give a Polygon or MultiPolygon geometry"
    kind = geometry.get("type")
    if kind not in GEOMETRY_TYPES:
        return [], f"geometry type {kind!r} is not supported; use one of {GEOMETRY_TYPES}"
    coords = geometry.get("coordinates")
    if not isinstance(coords, list) or not coords:
        return [], f"{kind} has no 'coordinates' list"
    return ([coords] if kind == "Polygon" else coords), None


def _add_zone(zones: list[Zone], problems: list[str], where: str, name: str,
              parts: Parts) -> None:
    try:
        zones.append(Zone(name, polygon_from_lonlat(parts)))
    except SimflError as exc:
        problems.extend(f"{where}: {p}" for p in exc.problems)
    except (TypeError, ValueError):
        problems.append(
            f"{where}: coordinates are not lists of [lon, lat] number pairs (ragged or "
            "non-numeric positions)"
        )


def _check_unique(zones: list[Zone], path: Path, problems: list[str]) -> None:
    counts = Counter(z.name for z in zones)
    for name, count in counts.items():
        if count > 1:
            problems.append(f"{path}: zone name {name!r} appears {count} times; names must be "
                            "unique")


def _read_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8-sig")
    except FileNotFoundError as exc:
        raise DataError(f"{path}: no such file; give the path of a zone file") from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise DataError(f"{path}: cannot read as UTF-8 text ({exc})") from exc
