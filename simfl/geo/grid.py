"""Regular lat/lon grids of zones over a bounding box, with cells sized in degrees or km."""

from __future__ import annotations

import math

from simfl.errors import SimflError
from simfl.geo.areas import KM_PER_DEG, GridCell, position_problems
from simfl.geo.zones import Zone

MAX_CELLS = 100_000


def grid_zones(
    lat_min_deg: float,
    lat_max_deg: float,
    lon_min_deg: float,
    lon_max_deg: float,
    *,
    cell_deg: float | tuple[float, float] | None = None,
    cell_km: float | None = None,
    prefix: str = "cell",
) -> list[Zone]:
    """Return grid-cell zones tiling a box, row by row from the south-west corner.

    Cells start at the south-west corner; the last row and column are cut at the box edge,
    so the cells tile the box exactly. Zone ``f"{prefix}-{row}-{col}"`` is in row ``row``
    (0 = southernmost) and column ``col`` (0 = westernmost).

    Parameters
    ----------
    lat_min_deg, lat_max_deg, lon_min_deg, lon_max_deg
        The box, degrees; it may not cross the antimeridian.
    cell_deg
        Cell size in degrees: one number, or ``(lat_step, lon_step)``.
    cell_km
        Cell size in km instead: rows are ``cell_km`` tall and each row's cells are
        ``cell_km`` wide at the row's middle latitude (so columns of different rows do not
        line up). Give exactly one of ``cell_deg`` and ``cell_km``.
    prefix
        Start of every zone name.
    """
    problems = (position_problems("grid box south-west corner", lat_min_deg, lon_min_deg)
                + position_problems("grid box north-east corner", lat_max_deg, lon_max_deg))
    if not problems and not (lat_min_deg < lat_max_deg and lon_min_deg < lon_max_deg):
        problems.append(
            f"grid box lat [{lat_min_deg}, {lat_max_deg}] x lon [{lon_min_deg}, {lon_max_deg}] "
            "is empty; need lat_min < lat_max and lon_min < lon_max"
        )
    steps = _steps(cell_deg, cell_km, problems)
    if problems:
        raise SimflError(problems)
    lat_step = steps[0] if steps[0] else float(cell_km or 0) / KM_PER_DEG
    rows = _count(lat_max_deg - lat_min_deg, lat_step)
    zones: list[Zone] = []
    for row in range(rows):
        south = lat_min_deg + row * lat_step
        north = min(lat_max_deg, south + lat_step)
        if cell_km is not None:
            mid = math.radians(0.5 * (south + north))
            lon_step = min(360.0, cell_km / (KM_PER_DEG * max(math.cos(mid), 1e-9)))
        else:
            lon_step = steps[1]
        cols = _count(lon_max_deg - lon_min_deg, lon_step)
        if len(zones) + cols * (rows - row) > MAX_CELLS:
            raise SimflError(
                f"the grid would have more than {MAX_CELLS} cells; use larger cells or a "
                "smaller box"
            )
        for col in range(cols):
            west = lon_min_deg + col * lon_step
            east = min(lon_max_deg, west + lon_step)
            zones.append(Zone(f"{prefix}-{row}-{col}", GridCell(south, north, west, east)))
    return zones


def _steps(cell_deg: float | tuple[float, float] | None, cell_km: float | None,
           problems: list[str]) -> tuple[float, float]:
    if (cell_deg is None) == (cell_km is None):
        problems.append(
            "give exactly one of cell_deg (degrees, e.g. 1.0 or (0.5, 1.0) for lat, lon) "
            "and cell_km (e.g. 100)"
        )
        return 1.0, 1.0
    if cell_km is not None:
        if not _positive(cell_km):
            problems.append(f"cell_km = {cell_km!r} must be a positive number of km")
        return 0.0, 0.0
    assert cell_deg is not None  # exactly one of the two is given
    pair = cell_deg if isinstance(cell_deg, tuple) else (cell_deg, cell_deg)
    if len(pair) != 2 or not all(_positive(v) for v in pair) or max(pair) > 180:
        problems.append(
            f"cell_deg = {cell_deg!r} must be a positive number of degrees (at most 180), or "
            "a (lat_step, lon_step) pair of them"
        )
        return 1.0, 1.0
    return float(pair[0]), float(pair[1])


def _positive(value: object) -> bool:
    return (isinstance(value, int | float) and not isinstance(value, bool)
            and math.isfinite(value) and value > 0)


def _count(extent: float, step: float) -> int:
    return max(1, math.ceil(extent / step - 1e-6))
