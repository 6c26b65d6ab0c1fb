"""Rules of geographic scenarios (zones, their data, the algorithms on them) as pure functions.

Like :mod:`simfl.scenario.rules`: each returns a list of messages, empty when the rule
holds; the schema's validators and :func:`geo_cross_key_problems` (on the raw YAML data,
so every problem shows at once) both call them.
"""

from __future__ import annotations

from typing import Any

from simfl.scenario.source import YamlPath

BUILTIN_COUNTRIES = ("germany", "spain", "poland", "norway", "thailand", "usa")
"""Names of :data:`simfl.learning.geo_workouts.COUNTRIES` (kept here: validation must not
import torch, which :mod:`simfl.learning` does)."""

ZONE_DATASETS = ("geo_workouts", "fitrec")
"""Datasets whose clients live in zones (``groups.assignment: zones``)."""


def country_rule(name: str, box: list[float | None]) -> list[str]:
    """A country is built in, or gives all four box edges with min < max."""
    given = [b for b in box if b is not None]
    if not given:
        if name in BUILTIN_COUNTRIES:
            return []
        return [f"country {name!r} is not built in ({', '.join(BUILTIN_COUNTRIES)}); give "
                "its box: lat_min_deg, lat_max_deg, lon_min_deg, lon_max_deg"]
    if len(given) != 4:
        return [f"country {name!r}: give all four of lat_min_deg, lat_max_deg, lon_min_deg, "
                "lon_max_deg, or none (built-in countries)"]
    lat0, lat1, lon0, lon1 = given
    if not (lat0 < lat1 and lon0 < lon1):
        return [f"country {name!r}: the box is empty; need lat_min_deg < lat_max_deg and "
                "lon_min_deg < lon_max_deg"]
    return []


def countries_rule(names: list[str]) -> list[str]:
    """At least one country, each named once."""
    if not names:
        return ["countries is empty; name at least one, e.g. [germany, spain]"]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        return [f"country names must be unique; repeated: {', '.join(dupes)}"]
    return []


def one_of_rule(a: str, value_a: object, b: str, value_b: object) -> list[str]:
    """Exactly one of two keys."""
    if (value_a is None) == (value_b is None):
        return [f"give exactly one of {a} and {b}"]
    return []


def zones_rule(algorithm: object, needs_zones: bool, assignment: object,
               dataset: object, has_zones_source: bool) -> list[tuple[YamlPath, str]]:
    """Zone algorithms need zone groups; zone groups need a dataset with zones."""
    out: list[tuple[YamlPath, str]] = []
    if needs_zones and assignment != "zones":
        out.append((("groups", "assignment"), f"algorithm {algorithm!r} works on geographic "
                    f"zones: set groups.assignment: zones (it is {assignment!r}), with "
                    f"data.dataset {' or '.join(ZONE_DATASETS)}"))
    if assignment == "zones" and dataset not in ZONE_DATASETS:
        out.append((("data", "dataset"), f"groups.assignment 'zones' groups users by the zone "
                    f"they live in, which dataset {dataset!r} does not have; use "
                    f"{' or '.join(ZONE_DATASETS)}"))
    if dataset == "fitrec" and not has_zones_source:
        out.append((("data", "fitrec"), "dataset 'fitrec' needs zones: set data.fitrec.zones "
                    "to a file (GeoJSON or CSV with WKT polygons) or a grid"))
    return out


def geo_cross_key_problems(data: dict[str, Any], needs_zones: bool) -> list[tuple[YamlPath,
                                                                                   str]]:
    """Return the zone rules the raw scenario ``data`` breaks (see :func:`zones_rule`)."""
    algo, section, groups = (_mapping(data.get(k)) for k in ("algorithm", "data", "groups"))
    return zones_rule(algo.get("name", "fedavg"), needs_zones,
                      groups.get("assignment", "contiguous"), section.get("dataset", "digits"),
                      _mapping(section.get("fitrec")).get("zones") is not None)


def _mapping(node: object) -> dict[str, Any]:
    return node if isinstance(node, dict) else {}
