"""Inter-satellite link (ISL) windows: when two satellites see each other within range.

A link between satellites A and B is possible while

- the straight line A-B stays at least ``atmosphere_margin_km`` above a spherical Earth of
  the WGS84 equatorial radius 6378.137 km (conservative: the polar radius is 21 km less), and
- the range ``|A - B|`` is at most ``max_range_km``.

Search: both conditions are folded into one feasibility margin in km,
``min(max_range - range, clearance - (R + margin))``, sampled on a coarse grid (default
30 s). Windows start and end where its sign flips; local range minima (sign change of the
range rate from the SGP4 velocities) are refined so that range-limited windows shorter
than a step, and the minimum range, are found. A window opened only by the line of sight
clearing the Earth between two samples is assumed to last longer than one step (at LEO
the limb crossing is slow: minutes). Crossings and minima are refined on cubic Hermite
interpolations of both satellites' states (see :mod:`simfl.orbits.propagate`) to 1e-4 s.
"""

from __future__ import annotations

import math
import multiprocessing
import os
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from datetime import datetime

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray
from sgp4.api import Satrec

from simfl.errors import OrbitError
from simfl.orbits.elements import ElementSet
from simfl.orbits.frames import FloatArray, require_utc
from simfl.orbits.propagate import (
    BEST,
    END,
    START,
    EcefStates,
    assemble_windows,
    bracketed_roots,
    coarse_grid_s,
    hermite_states,
    propagate_ecef,
)

COLUMNS = ("sat_a", "sat_b", "start_s", "end_s", "min_range_km")
EARTH_RADIUS_KM = 6378.137
MAX_ALL_PAIRS_SATELLITES = 1000
_PAIRS_PER_BLOCK = 256
_TOL_S = 1e-4

IntArray = NDArray[np.intp]


def _margin_km(ra: FloatArray, rb: FloatArray, max_range_km: float, floor_km: float
               ) -> tuple[FloatArray, FloatArray]:
    """Return ``(feasibility margin km, range km)`` of positions ``(..., 3)`` of A and B."""
    d = rb - ra
    d2 = np.sum(d * d, axis=-1)
    range_km = np.sqrt(d2)
    with np.errstate(invalid="ignore", divide="ignore"):
        s = np.clip(-np.sum(ra * d, axis=-1) / d2, 0.0, 1.0)
    closest = ra + s[..., None] * d
    clearance_km = np.sqrt(np.sum(closest * closest, axis=-1))
    return np.minimum(max_range_km - range_km, clearance_km - floor_km), range_km


class _PairIntervals:
    """Grid intervals ``(pair row p, step k)`` with Hermite states of both satellites."""

    def __init__(self, states: EcefStates, a: IntArray, b: IntArray, k: IntArray) -> None:
        self.t0, self.t1 = states.t_s[k], states.t_s[k + 1]
        self.ends = [
            (states.r_km[s, k], states.v_kms[s, k], states.r_km[s, k + 1], states.v_kms[s, k + 1])
            for s in (a, b)
        ]

    def states_at(self, rows: IntArray, t_s: FloatArray) -> list[tuple[FloatArray, FloatArray]]:
        """Return ``[(r_a, v_a), (r_b, v_b)]`` of ``rows`` at ``t_s``."""
        return [
            hermite_states(self.t0[rows], self.t1[rows], p0[rows], v0[rows], p1[rows], v1[rows],
                           t_s)
            for p0, v0, p1, v1 in self.ends
        ]

    def range_rate(self, rows: IntArray, t_s: FloatArray) -> FloatArray:
        """Return d(range)/dt in km/s of ``rows`` at ``t_s``."""
        (ra, va), (rb, vb) = self.states_at(rows, t_s)
        d = rb - ra
        return np.sum(d * (vb - va), axis=-1) / np.sqrt(np.sum(d * d, axis=-1))


def _windows_of_pairs(states: EcefStates, a: IntArray, b: IntArray, max_range_km: float,
                      floor_km: float) -> dict[str, NDArray[np.generic]]:
    """Return the windows of the pairs ``(a[p], b[p])`` (indices into ``states``)."""
    t = states.t_s
    n_t = t.size
    margin, _ = _margin_km(states.r_km[a], states.r_km[b], max_range_km, floor_km)
    d = states.r_km[b] - states.r_km[a]
    receding = np.sum(d * (states.v_kms[b] - states.v_kms[a]), axis=-1) > 0.0
    last = np.minimum(states.last_valid_index[a], states.last_valid_index[b])
    usable = np.arange(n_t - 1)[None, :] < last[:, None]
    ok = margin > 0.0
    ok0, ok1 = ok[:, :-1], ok[:, 1:]
    p_min, k_min = np.nonzero(~receding[:, :-1] & receding[:, 1:] & usable)
    p_plain, k_plain = np.nonzero((ok0 != ok1) & usable)

    ext = _PairIntervals(states, a[p_min], b[p_min], k_min)
    every = np.arange(p_min.size)
    t_min = bracketed_roots(ext.range_rate, ext.t0, ext.t1, ext.range_rate(every, ext.t0),
                            ext.range_rate(every, ext.t1), tol_s=_TOL_S)
    (ra, _), (rb, _) = ext.states_at(every, t_min)
    margin_min, range_min = _margin_km(ra, rb, max_range_km, floor_km)
    ok_min = margin_min > 0.0
    e_ok0, e_ok1 = ok0[p_min, k_min], ok1[p_min, k_min]
    left, right = e_ok0 != ok_min, ok_min != e_ok1
    # A plain crossing interval that also holds a minimum is searched in its two halves.
    split = np.zeros(ok0.shape, dtype=bool)
    split[p_min, k_min] = True
    plain = ~split[p_plain, k_plain]
    p_plain, k_plain = p_plain[plain], k_plain[plain]

    seg_p = np.concatenate((p_plain, p_min[left], p_min[right]))
    seg_k = np.concatenate((k_plain, k_min[left], k_min[right]))
    seg = _PairIntervals(states, a[seg_p], b[seg_p], seg_k)
    seg_a = np.concatenate((t[k_plain], ext.t0[left], t_min[right]))
    seg_b = np.concatenate((t[k_plain + 1], t_min[left], ext.t1[right]))
    seg_ok_a = np.concatenate((ok0[p_plain, k_plain], e_ok0[left], ok_min[right]))

    def seg_margin(rows: IntArray, t_s: FloatArray) -> FloatArray:
        (ra, _), (rb, _) = seg.states_at(rows, t_s)
        return _margin_km(ra, rb, max_range_km, floor_km)[0]

    rows = np.arange(seg_p.size)
    t_cross = bracketed_roots(seg_margin, seg_a, seg_b, seg_margin(rows, seg_a),
                              seg_margin(rows, seg_b), tol_s=_TOL_S)
    (ra, _), (rb, _) = seg.states_at(rows, t_cross)
    range_cross = _margin_km(ra, rb, max_range_km, floor_km)[1]

    alive = np.flatnonzero(last >= 0)
    first_ok = alive[ok[alive, 0]]
    last_ok = alive[ok[alive, last[alive]]]
    r_first = _margin_km(states.r_km[a[first_ok], 0], states.r_km[b[first_ok], 0],
                         max_range_km, floor_km)[1]
    step = last[last_ok]
    r_last = _margin_km(states.r_km[a[last_ok], step], states.r_km[b[last_ok], step],
                        max_range_km, floor_km)[1]
    found = assemble_windows(
        np.concatenate((seg_p, p_min[ok_min], first_ok, last_ok)),
        np.concatenate((t_cross, t_min[ok_min], np.zeros(first_ok.size), t[step])),
        np.concatenate((np.where(seg_ok_a, END, START), np.full(int(ok_min.sum()), BEST),
                        np.full(first_ok.size, START), np.full(last_ok.size, END))),
        -np.concatenate((range_cross, range_min[ok_min], r_first, r_last)),
        np.zeros(seg_p.size + int(ok_min.sum()) + first_ok.size + last_ok.size, dtype=bool),
    )
    return {"pair": found["pair"], "start_s": found["start_s"], "end_s": found["end_s"],
            "min_range_km": -np.asarray(found["best_value"], dtype=np.float64)}


def _windows_task(task: tuple[tuple[tuple[str, str], ...], IntArray, IntArray, datetime,
                              FloatArray, float, float]) -> dict[str, NDArray[np.generic]]:
    """Propagate the satellites of one worker's pairs, then search them block by block."""
    lines, a, b, start, t_s, max_range_km, floor_km = task
    records = [Satrec.twoline2rv(line1, line2) for line1, line2 in lines]
    states = propagate_ecef(records, start, t_s)
    blocks = []
    for first in range(0, a.size, _PAIRS_PER_BLOCK):
        block = slice(first, first + _PAIRS_PER_BLOCK)
        found = _windows_of_pairs(states, a[block], b[block], max_range_km, floor_km)
        found["pair"] = found["pair"] + first
        blocks.append(found)
    return {key: np.concatenate([found[key] for found in blocks]) for key in blocks[0]}


def compute_isl_windows(
    elements: Sequence[ElementSet],
    start_utc: datetime,
    duration_s: float,
    *,
    max_range_km: float = 5000.0,
    atmosphere_margin_km: float = 80.0,
    pairs: Sequence[tuple[int, int]] | None = None,
    coarse_step_s: float = 30.0,
    workers: int | None = None,
) -> pd.DataFrame:
    """Return the ISL windows: one row per interval in which a pair can link.

    Parameters
    ----------
    elements
        The satellites.
    start_utc, duration_s
        Timezone-aware start and length (s) of the search; times are seconds since start.
    max_range_km
        Longest usable link (terminal range limit).
    atmosphere_margin_km
        Minimum height of the line of sight above the Earth (refraction, absorption).
    pairs
        Index pairs into ``elements``; None means every pair (up to 1000 satellites).
    coarse_step_s
        Search grid step in (0, 300] s.
    workers
        Processes (default ``os.cpu_count()``); 1 runs in this process.

    Returns
    -------
    pandas.DataFrame
        Columns ``sat_a``, ``sat_b`` (names, in pair order), ``start_s``, ``end_s`` and
        ``min_range_km`` (float64), sorted by ``(sat_a, sat_b, start_s)``. Windows open at
        the start or end (or when SGP4 fails for either satellite) are cut there.
    """
    start = require_utc(start_utc)
    elements = list(elements)
    a, b = _pair_indices(len(elements), pairs)
    _check(duration_s, coarse_step_s, max_range_km, atmosphere_margin_km, workers)
    t_s = coarse_grid_s(float(duration_s), float(coarse_step_s))
    floor_km = EARTH_RADIUS_KM + atmosphere_margin_km
    n_jobs = max(1, min(workers or os.cpu_count() or 1, math.ceil(a.size / _PAIRS_PER_BLOCK)))
    parts = np.array_split(np.arange(a.size), n_jobs) if a.size else []
    tasks = []
    for part in parts:
        used, local = np.unique(np.concatenate((a[part], b[part])), return_inverse=True)
        lines = tuple((elements[s].line1, elements[s].line2) for s in used)
        tasks.append((lines, local[: part.size], local[part.size:], start, t_s,
                      float(max_range_km), floor_km))
    if n_jobs == 1 or multiprocessing.current_process().daemon:
        results = [_windows_task(task) for task in tasks]
    else:
        with ProcessPoolExecutor(max_workers=n_jobs) as pool:
            results = list(pool.map(_windows_task, tasks))
    def column(key: str) -> FloatArray:
        return np.concatenate([r[key] for r in results] + [np.zeros(0)]).astype(np.float64)

    pair = np.concatenate(
        [r["pair"] + part[0] for r, part in zip(results, parts, strict=True)] + [np.zeros(0, int)]
    ).astype(np.intp)
    names = np.array([e.name for e in elements], dtype=object)
    windows = pd.DataFrame({
        "sat_a": pd.array(names[a[pair]], dtype="str"),
        "sat_b": pd.array(names[b[pair]], dtype="str"),
        "start_s": column("start_s"),
        "end_s": column("end_s"),
        "min_range_km": column("min_range_km"),
    })
    windows = windows[windows["end_s"] > windows["start_s"]]
    return windows.sort_values(["sat_a", "sat_b", "start_s"], kind="stable", ignore_index=True)


def _pair_indices(n: int, pairs: Sequence[tuple[int, int]] | None) -> tuple[IntArray, IntArray]:
    if pairs is None:
        if n > MAX_ALL_PAIRS_SATELLITES:
            raise OrbitError(
                f"{n} satellites make {n * (n - 1) // 2} pairs; all-pairs ISL search is "
                f"limited to {MAX_ALL_PAIRS_SATELLITES} satellites: pass pairs=[(i, j), ...] "
                "(e.g. in-plane neighbours and the nearest satellite of each adjacent plane)"
            )
        a, b = np.triu_indices(n, k=1)
        return a.astype(np.intp), b.astype(np.intp)
    arr = np.asarray(list(pairs), dtype=np.int64).reshape(-1, 2)
    bad = [tuple(p) for p in arr.tolist() if not (0 <= p[0] < n and 0 <= p[1] < n)
           or p[0] == p[1]]
    if bad:
        raise OrbitError(
            f"pairs {bad[:5]} are invalid: each pair is two different satellite indices "
            f"in [0, {n - 1}] (positions in `elements`)"
        )
    return arr[:, 0].astype(np.intp), arr[:, 1].astype(np.intp)


def _check(duration_s: float, step_s: float, max_range_km: float, margin_km: float,
           workers: int | None) -> None:
    problems = []
    if not (isinstance(duration_s, int | float) and math.isfinite(duration_s) and duration_s > 0):
        problems.append(f"duration_s = {duration_s!r} must be a positive number of seconds")
    if not (isinstance(step_s, int | float) and 0 < step_s <= 300.0):
        problems.append(f"coarse_step_s = {step_s!r} must be in (0, 300] s (30 s is plenty)")
    if not (isinstance(max_range_km, int | float) and max_range_km > 0):
        problems.append(f"max_range_km = {max_range_km!r} must be a positive distance in km")
    if not (isinstance(margin_km, int | float) and 0 <= margin_km < 2000):
        problems.append(f"atmosphere_margin_km = {margin_km!r} must be in [0, 2000) km "
                        "(~80 km keeps the beam out of the dense atmosphere)")
    if workers is not None and (not isinstance(workers, int) or workers < 1):
        problems.append(f"workers = {workers!r} must be a positive integer or None (all cores)")
    if problems:
        raise OrbitError(problems)


def isl_range_km(a: ElementSet, b: ElementSet, t_s: ArrayLike, start_utc: datetime
                 ) -> FloatArray:
    """Return the distance between two satellites in km, shape of ``t_s`` (exact SGP4)."""
    times = np.asarray(t_s, dtype=np.float64)
    states = propagate_ecef([a, b], start_utc, times.reshape(-1))
    return np.linalg.norm(states.r_km[1] - states.r_km[0], axis=-1).reshape(times.shape)
