"""Ground tracks: sub-satellite points over time (for maps and for laying out regions)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import numpy as np
import pandas as pd

from simfl.orbits.elements import ElementSet
from simfl.orbits.frames import ecef_to_geodetic
from simfl.orbits.propagate import propagate_ecef


def ground_tracks(
    elements: Sequence[ElementSet], start_utc: datetime, duration_s: float, step_s: float = 30.0
) -> pd.DataFrame:
    """Return sub-satellite points: columns ``satellite, t_s, lat_deg, lon_deg, alt_km``.

    One row per satellite and time step from ``start_utc`` over ``duration_s``; rows after a
    satellite's SGP4 failure are left out.
    """
    if step_s <= 0 or duration_s <= 0:
        raise ValueError(f"step_s and duration_s must be > 0, got {step_s} and {duration_s}")
    t_s = np.arange(0.0, duration_s + 1e-9, step_s)
    states = propagate_ecef(list(elements), start_utc, t_s)
    lat, lon, alt = ecef_to_geodetic(states.r_km)
    frames = []
    for i, e in enumerate(elements):
        ok = states.valid[i]
        frames.append(pd.DataFrame({"satellite": e.name, "t_s": t_s[ok], "lat_deg": lat[i][ok],
                                    "lon_deg": lon[i][ok], "alt_km": alt[i][ok]}))
    return pd.concat(frames, ignore_index=True)
