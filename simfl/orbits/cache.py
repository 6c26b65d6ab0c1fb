"""On-disk cache of contact plans: parquet files named by a hash of everything that shapes them.

The key hashes the TLE lines, the sites (all fields), the start instant, the duration, the
search step, UT1 - UTC and the algorithm version, so a change to any of them (or to the algorithm)
misses the cache. Files are written atomically; a file that cannot be read back as a plan
(truncated, corrupt, other columns) is ignored, recomputed and overwritten.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Sequence
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd

from simfl.atomic import atomic_path
from simfl.orbits.elements import ElementSet
from simfl.orbits.sites import GroundSite

_log = logging.getLogger(__name__)


def contact_plan_key(
    elements: Sequence[ElementSet],
    sites: Sequence[GroundSite],
    start_utc: datetime,
    duration_s: float,
    coarse_step_s: float,
    algorithm_version: str,
    *,
    ut1_minus_utc_s: float = 0.0,
) -> str:
    """Return the hex SHA-256 that identifies a contact plan's inputs (64 characters)."""
    digest = hashlib.sha256()
    header = {
        "algorithm": algorithm_version,
        "start_utc": start_utc.astimezone(UTC).isoformat(),
        "duration_s": repr(float(duration_s)),
        "coarse_step_s": repr(float(coarse_step_s)),
        "ut1_minus_utc_s": repr(float(ut1_minus_utc_s)),
        "sites": [asdict(site) for site in sites],
    }
    digest.update(json.dumps(header, sort_keys=True).encode())
    for element in elements:
        digest.update(f"\n{element.name}\n{element.line1}\n{element.line2}".encode())
    return digest.hexdigest()


def plan_path(cache_dir: Path, key: str) -> Path:
    """Return the parquet path of the plan with this key inside ``cache_dir``."""
    return Path(cache_dir) / f"contacts-{key}.parquet"


def load_plan(cache_dir: Path, key: str, columns: Sequence[str]) -> pd.DataFrame | None:
    """Return the cached plan, or None when it is absent or unreadable (then recompute)."""
    path = plan_path(cache_dir, key)
    if not path.is_file():
        return None
    try:
        plan = pd.read_parquet(path)
    except Exception as error:
        _log.warning("ignoring unreadable contact-plan cache %s: %s", path, error)
        return None
    if tuple(plan.columns) != tuple(columns):
        _log.warning("ignoring contact-plan cache %s with columns %s", path, list(plan.columns))
        return None
    for name in ("rise_utc", "set_utc"):
        if name in plan:
            plan[name] = plan[name].astype("datetime64[ns, UTC]")
    return plan


def store_plan(cache_dir: Path, key: str, plan: pd.DataFrame) -> Path:
    """Write ``plan`` to the cache atomically and return its path."""
    path = plan_path(cache_dir, key)
    with atomic_path(path) as tmp:
        plan.to_parquet(tmp, index=False)
    return path
