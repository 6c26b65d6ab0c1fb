"""Reading ground sites from a YAML or CSV file (``name, lat_deg, lon_deg[, alt_m,
elevation_mask_deg]``) with one teaching line per problem."""

from __future__ import annotations

import math
from numbers import Real
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from simfl.errors import OrbitError, SimflError
from simfl.orbits.sites import GroundSite

SITE_KEYS = ("name", "lat_deg", "lon_deg", "alt_m", "elevation_mask_deg")


def _blank(value: object) -> bool:
    """Return whether a cell is empty (missing, null, or NaN from an empty CSV cell)."""
    return value is None or (isinstance(value, float) and math.isnan(value))


def load_sites(path: str | Path, mask_deg: float | None = None) -> list[GroundSite]:
    """Return the sites in a YAML list (or ``sites:`` mapping) or CSV file.

    ``mask_deg`` replaces every site's elevation mask when given.

    Raises
    ------
    OrbitError
        Listing every bad row: missing file, unknown or missing keys, invalid values.
    """
    file = Path(path)
    if not file.exists():
        raise OrbitError(f"{file}: sites file not found (a YAML list of {{name, lat_deg, "
                         "lon_deg} mappings, or a CSV with those columns)")
    if file.is_dir():
        raise OrbitError(f"{file}: is a folder; give a sites file (a YAML list of {{name, "
                         "lat_deg, lon_deg} mappings, or a CSV with those columns)")
    if mask_deg is not None and not (math.isfinite(mask_deg) and 0 <= mask_deg < 90):
        raise OrbitError(f"elevation mask {mask_deg:g} deg (given for every site) is outside "
                         "[0, 90); typical masks are 10 deg (ground stations) to 25-40 deg "
                         "(user terminals)")
    rows: list[dict[str, Any]]
    if file.suffix.lower() == ".csv":
        try:
            rows = [{str(k): v for k, v in r.items()} for r in pd.read_csv(file).to_dict("records")]
        except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
            raise OrbitError(f"{file}: not a readable CSV file ({exc})") from None
        where = [f"{file}:{i + 2}" for i in range(len(rows))]
    else:
        try:
            data = yaml.safe_load(file.read_text(encoding="utf-8"))
        except (yaml.YAMLError, UnicodeDecodeError) as exc:
            raise OrbitError(f"{file}: malformed YAML ({exc})".replace("\n", " ")) from None
        if isinstance(data, dict) and "sites" in data:
            data = data["sites"]
        if not isinstance(data, list) or not data:
            raise OrbitError(f"{file}: expected a non-empty list of sites (each with name, "
                             "lat_deg, lon_deg), or a mapping with a 'sites' list")
        rows = data
        where = [f"{file}: sites[{i}]" for i in range(len(rows))]
    problems: list[str] = []
    sites: list[GroundSite] = []
    for loc, row in zip(where, rows, strict=True):
        if not isinstance(row, dict):
            problems.append(f"{loc}: expected a mapping with name, lat_deg, lon_deg; got {row!r}")
            continue
        unknown = sorted(map(str, set(row) - set(SITE_KEYS)))
        missing = [k for k in SITE_KEYS[:3] if _blank(row.get(k))]
        if unknown or missing:
            if unknown:
                problems.append(f"{loc}: unknown key(s) {', '.join(unknown)}; allowed: "
                                f"{', '.join(SITE_KEYS)}")
            if missing:
                problems.append(f"{loc}: missing {', '.join(missing)}")
            continue
        kwargs = {k: row[k] for k in SITE_KEYS if not _blank(row.get(k))}
        if mask_deg is not None:
            kwargs["elevation_mask_deg"] = mask_deg
        wrong = [f"{key} must be a number of {'metres' if key == 'alt_m' else 'degrees'}, got "
                 f"{kwargs[key]!r}" for key in SITE_KEYS[1:] if key in kwargs
                 and (isinstance(kwargs[key], bool) or not isinstance(kwargs[key], Real))]
        if not isinstance(kwargs["name"], str | Real) or isinstance(kwargs["name"], bool):
            wrong.insert(0, f"name must be text, got {kwargs['name']!r}")
        if wrong:
            problems.append(f"{loc}: {'; '.join(wrong)}")
            continue
        try:
            kwargs["name"] = str(kwargs["name"])
            for key in SITE_KEYS[1:]:
                if key in kwargs:
                    kwargs[key] = float(kwargs[key])
            sites.append(GroundSite(**kwargs))
        except SimflError as exc:
            problems.append(f"{loc}: {exc}".replace("\n", "; "))
    names = [site.name for site in sites]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        problems.append(f"{file}: site names must be unique; repeated: {', '.join(dupes)}")
    if problems:
        raise OrbitError(problems)
    return sites
