"""On-disk cache of contact plans: parquet files named by a hash of everything that shapes them.

The key hashes the TLE lines, the sites (all fields), the start instant, the duration, the
search step, UT1 - UTC and the algorithm version, so a change to any of them (or to the algorithm)
misses the cache. Files are written atomically; a file that cannot be read back as a plan
(truncated, corrupt, other columns, rows that no longer match the content hash stored
with them) is ignored, recomputed and overwritten; a cache that cannot be written is
skipped with a warning. The default folder is the user's cache (:func:`user_cache_dir`).
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from collections.abc import Sequence
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from simfl.atomic import atomic_path
from simfl.orbits.elements import ElementSet
from simfl.orbits.sites import GroundSite

if TYPE_CHECKING:
    import pandas as pd

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


USER_CACHE = "user"
"""The ``space.cache_dir`` setting that means the user's cache folder (the default)."""


def user_cache_dir() -> Path:
    """Return the user's contact-plan cache: ``$XDG_CACHE_HOME/simfl/contacts``.

    ``XDG_CACHE_HOME`` defaults to ``~/.cache``, as the XDG base directory spec says.
    """
    base = os.environ.get("XDG_CACHE_HOME") or ""
    root = Path(base) if Path(base).is_absolute() else Path.home() / ".cache"
    return root / "simfl" / "contacts"


def resolve_cache_dir(setting: object) -> Path | None:
    """Return the cache folder of a ``space.cache_dir`` setting: a path, ``'user'`` or None."""
    if setting is None:
        return None
    if setting == USER_CACHE:
        return user_cache_dir()
    return Path(str(setting)).expanduser()


def plan_path(cache_dir: Path, key: str) -> Path:
    """Return the parquet path of the plan with this key inside ``cache_dir``."""
    return Path(cache_dir) / f"contacts-{key}.parquet"


def content_hash(plan: pd.DataFrame) -> str:
    """Return the hex SHA-256 of a plan's rows and columns (names, dtypes and values)."""
    import pandas as pd

    digest = hashlib.sha256()
    digest.update(json.dumps([[str(c), str(t)] for c, t in plan.dtypes.items()]).encode())
    digest.update(pd.util.hash_pandas_object(plan, index=False).to_numpy().tobytes())
    return digest.hexdigest()


def load_plan(cache_dir: Path, key: str, columns: Sequence[str]) -> pd.DataFrame | None:
    """Return the cached plan, or None when it is absent or unreadable (then recompute).

    A plan is used only if its rows still hash to the content hash stored with it, so a
    file cut short or edited (a valid parquet file with fewer rows) is recomputed.
    """
    import pyarrow.parquet as pq

    path = plan_path(cache_dir, key)
    if not path.is_file():
        return None
    try:
        table = pq.read_table(path)
        plan = table.to_pandas()
    except Exception as error:
        _log.warning("ignoring unreadable contact-plan cache %s: %s", path, error)
        return None
    if tuple(plan.columns) != tuple(columns):
        _log.warning("ignoring contact-plan cache %s with columns %s", path, list(plan.columns))
        return None
    for name in ("rise_utc", "set_utc"):
        if name in plan:
            plan[name] = plan[name].astype("datetime64[ns, UTC]")
    stored = (table.schema.metadata or {}).get(_HASH_KEY, b"").decode(errors="replace")
    if stored != content_hash(plan):
        _log.warning("ignoring contact-plan cache %s: its rows do not match the content hash "
                     "stored with them (cut short or edited); recomputing", path)
        return None
    return plan


def store_plan(cache_dir: Path, key: str, plan: pd.DataFrame) -> Path | None:
    """Write ``plan`` with its content hash to the cache atomically; return its path.

    A cache that cannot be written (a read-only folder, a full disk) costs a warning and a
    recomputation next time, never the run: None is returned.
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    path = plan_path(cache_dir, key)
    table = pa.Table.from_pandas(plan, preserve_index=False)
    metadata = {**(table.schema.metadata or {}), _HASH_KEY: content_hash(plan).encode()}
    try:
        with atomic_path(path) as tmp:
            pq.write_table(table.replace_schema_metadata(metadata), tmp)
    except OSError as error:
        _log.warning("cannot write the contact-plan cache %s (%s); the plan is used but not "
                     "kept, so it is recomputed next time", path, error.strerror or error)
        return None
    return path


_HASH_KEY = b"simfl.content_sha256"
