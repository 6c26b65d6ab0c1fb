"""Contact plans: when each satellite is above each ground site's elevation mask.

Algorithm (all steps vectorized over satellites x sites x time, chunked over satellites):

1. SGP4 on a coarse grid (default 60 s) with :class:`sgp4.api.SatrecArray`, rotated to the
   Earth-fixed frame (:mod:`simfl.orbits.propagate`).
2. A cheap bound on the height above each site's horizon plane keeps only the grid
   intervals that could hold an event (~5 % of them at LEO). At their ends: is the
   satellite above the mask, and is its elevation rising? Both come from dot products of
   the SGP4 position and velocity (no trigonometry): the sign of d(sin el)/dt is the sign
   of ``(u.v) rho^2 - (u.d)(d.v)``.
3. A rise or set lies in every interval where "above the mask" flips. An elevation maximum
   lies in every interval where "rising" flips from yes to no; it is refined when the
   interval touches a pass, or when both ends are below the mask but a cubic estimate from
   the end values and rates comes within 0.05 (in sin el) of the mask: that catches the short
   passes that peak between two grid points. Minima between two above-mask points are
   refined too (a dip below the mask splits a pass).
4. Every crossing is refined with safeguarded Newton steps and every extremum with the
   Illinois (regula falsi) method, on the cubic Hermite interpolation of the SGP4 states
   (< 0.5 m in LEO at 60 s; measured rise/set error vs a 10 s grid: < 10 ms).

Assumption: at most one elevation extremum per coarse step (LEO: one maximum and one minimum
per orbit). A satellite whose SGP4 fails is dropped from its first failed grid point on: a
pass open then ends at the last good grid point and is flagged ``clipped``.
"""

from __future__ import annotations

import math
import multiprocessing
import os
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray
from sgp4.api import Satrec
from tqdm import tqdm

from simfl.errors import OrbitError
from simfl.orbits.elements import ElementSet
from simfl.orbits.frames import FloatArray, require_utc, sin_elevation_and_rate
from simfl.orbits.propagate import (
    BEST,
    END,
    START,
    EcefStates,
    assemble_windows,
    bracketed_roots,
    coarse_grid_s,
    hermite_states,
    newton_roots,
    one_blas_thread,
    propagate_ecef,
)
from simfl.orbits.sites import GroundSite, SiteArrays, check_unique_names

ALGORITHM_VERSION = "contacts-1"
COLUMNS = (
    "satellite",
    "norad_id",
    "site",
    "rise_s",
    "culminate_s",
    "set_s",
    "max_elevation_deg",
    "rise_utc",
    "set_utc",
    "clipped",
)
MAX_COARSE_STEP_S = 120.0
_GRID_CELLS_PER_CHUNK = 1_500_000  # satellites x times x sites per chunk (~12 MB per array)
_HIDDEN_PEAK_MARGIN = 0.05  # sin el: refine a between-samples maximum estimated this close
_ROOT_TOL_S = 1e-4
_PEAK_TOL_S = 1e-2


def _candidate_intervals(states: EcefStates, sa: SiteArrays) -> tuple[NDArray[np.intp], ...]:
    """Return ``(i, k, j)``: satellite, step and site of every interval near a site's mask.

    The height above a site's horizon plane, ``up_km = u . (r - s)``, changes at most at the
    satellite's speed, so within a step it exceeds the larger end value by less than
    ``speed x step / 2``. Above the mask, ``up_km > sin(mask) |r - s| >= sin(mask) (|r| -
    |s|)``. Intervals whose ends are both too low for that are skipped (no rise, set or
    peak can be inside), as are intervals past a satellite's last valid instant.
    """
    n, n_t = states.valid.shape
    n_s = sa.sin_mask.size
    # Single precision is plenty for this filter (< 1 mm at 7,000 km; 1 km of slack).
    r = states.r_km.reshape(-1, 3).astype(np.float32)
    v = states.v_kms.reshape(-1, 3).astype(np.float32)
    speed_kms = 1.001 * math.sqrt(float(np.nanmax(np.einsum("ij,ij->i", v, v), initial=0.0)))
    step_s = float(np.max(np.diff(states.t_s), initial=0.0))
    r_min_km = math.sqrt(float(np.nanmin(np.einsum("ij,ij->i", r, r), initial=np.inf)))
    s_km = np.sqrt(np.einsum("ij,ij->i", sa.pos_km, sa.pos_km))
    rho_min_km = np.clip(r_min_km - 10.0 - s_km, 0.0, None) if math.isfinite(r_min_km) else 0.0
    low_km = sa.sin_mask * rho_min_km - 0.6 * speed_kms * step_s - 1.0
    r_up = r @ np.ascontiguousarray(sa.up.T, dtype=np.float32)
    threshold_km = (np.einsum("ij,ij->i", sa.up, sa.pos_km) + low_km).astype(np.float32)
    near = (r_up > threshold_km).reshape(n, n_t, n_s)
    candidates = near[:, :-1] | near[:, 1:]
    if not states.valid.all():
        usable = np.arange(n_t - 1)[None, :] < states.last_valid_index[:, None]
        candidates &= usable[:, :, None]
    flat = np.flatnonzero(candidates)
    i, rest = np.divmod(flat, (n_t - 1) * n_s)
    k, j = np.divmod(rest, n_s)
    return i, k, j


def _flags_at(states: EcefStates, sa: SiteArrays, row: NDArray[np.intp], j: NDArray[np.intp]
              ) -> tuple[NDArray[np.bool_], NDArray[np.bool_]]:
    """Return ``(above_mask, rising)`` of grid state ``row`` (= i T + k) seen from site ``j``.

    Dot products only: with ``d = r - s``, above is ``u.d > sin(mask) |d|`` and the sign of
    d(sin el)/dt is the sign of ``(u.v) |d|^2 - (u.d)(d.v)``.
    """
    d = np.take(states.r_km.reshape(-1, 3), row, axis=0) - np.take(sa.pos_km, j, axis=0)
    v = np.take(states.v_kms.reshape(-1, 3), row, axis=0)
    u = np.take(sa.up, j, axis=0)
    up_km = np.einsum("ij,ij->i", d, u)
    rho2 = np.einsum("ij,ij->i", d, d)
    above = (up_km > 0.0) & (up_km * up_km > sa.sin_mask[j] ** 2 * rho2)
    rising = np.einsum("ij,ij->i", v, u) * rho2 > up_km * np.einsum("ij,ij->i", d, v)
    return above, rising


class _Intervals:
    """Grid intervals ``(satellite i, step k, site j)`` with their Hermite look angles."""

    def __init__(self, states: EcefStates, sa: SiteArrays, i: NDArray[np.intp],
                 k: NDArray[np.intp], j: NDArray[np.intp]) -> None:
        self.i, self.k, self.j = i, k, j
        self.t0, self.t1 = states.t_s[k], states.t_s[k + 1]
        row = i * states.t_s.size + k
        r, v = states.r_km.reshape(-1, 3), states.v_kms.reshape(-1, 3)
        self.p0, self.v0 = np.take(r, row, axis=0), np.take(v, row, axis=0)
        self.p1, self.v1 = np.take(r, row + 1, axis=0), np.take(v, row + 1, axis=0)
        self.site, self.up = np.take(sa.pos_km, j, axis=0), np.take(sa.up, j, axis=0)
        self.sin_mask = sa.sin_mask[j]

    def look(self, rows: NDArray[np.intp], t_s: FloatArray) -> tuple[FloatArray, FloatArray]:
        """Return ``(sin_el, d sin_el/dt)`` of ``rows`` at ``t_s`` (Hermite states)."""
        p, v = hermite_states(self.t0[rows], self.t1[rows], self.p0[rows], self.v0[rows],
                              self.p1[rows], self.v1[rows], t_s)
        return sin_elevation_and_rate(p, v, self.site[rows], self.up[rows])

    def height(self, rows: NDArray[np.intp], t_s: FloatArray) -> tuple[FloatArray, FloatArray]:
        """Return ``(sin_el - sin(mask), d sin_el/dt)`` of ``rows`` at ``t_s``."""
        sin_el, rate = self.look(rows, t_s)
        return sin_el - self.sin_mask[rows], rate

    def rate(self, rows: NDArray[np.intp], t_s: FloatArray) -> FloatArray:
        """Return ``d sin_el / dt`` of ``rows`` at ``t_s``."""
        return self.look(rows, t_s)[1]


def _hidden_peak_possible(batch: _Intervals) -> NDArray[np.bool_]:
    """Return, per interval, whether a cubic fit of sin el may come near the mask ``(m,)``."""
    every = np.arange(batch.i.size)
    f0, g0 = batch.look(every, batch.t0)
    f1, g1 = batch.look(every, batch.t1)
    h = batch.t1 - batch.t0
    x = np.linspace(0.0, 1.0, 17)[:, None]
    cubic = ((2 * x**3 - 3 * x**2 + 1) * f0 + (x**3 - 2 * x**2 + x) * h * g0
             + (3 * x**2 - 2 * x**3) * f1 + (x**3 - x**2) * h * g1)
    return cubic.max(axis=0) > batch.sin_mask - _HIDDEN_PEAK_MARGIN


def find_passes(states: EcefStates, sa: SiteArrays) -> dict[str, NDArray[np.generic]]:
    """Return the passes of every satellite over every site as flat arrays (one per pass).

    Keys: ``sat_index`` and ``site_index`` (int64, into the states and sites), ``rise_s``,
    ``culminate_s``, ``set_s``, ``max_sin_el`` (float64) and ``clipped`` (bool), ordered by
    satellite, site and rise time.
    """
    t = states.t_s
    n_t = t.size
    i, k, j = _candidate_intervals(states, sa)
    up0, rise0 = _flags_at(states, sa, i * n_t + k, j)
    up1, rise1 = _flags_at(states, sa, i * n_t + k + 1, j)
    peak = rise0 & ~rise1
    touching = peak & (up0 | up1)
    hidden = np.flatnonzero(peak & ~(up0 | up1))
    hidden = hidden[_hidden_peak_possible(_Intervals(states, sa, i[hidden], k[hidden],
                                                     j[hidden]))]
    dips = np.flatnonzero(~rise0 & rise1 & up0 & up1)
    plain = np.flatnonzero((up0 != up1) & ~touching)

    # Extrema: refine, then split their intervals into two monotonic segments.
    ext_rows = np.concatenate((np.flatnonzero(touching), hidden, dips))
    n_peaks = ext_rows.size - dips.size
    ext = _Intervals(states, sa, i[ext_rows], k[ext_rows], j[ext_rows])
    every = np.arange(ext_rows.size)
    t_ext = bracketed_roots(ext.rate, ext.t0, ext.t1, ext.rate(every, ext.t0),
                            ext.rate(every, ext.t1), tol_s=_PEAK_TOL_S)
    sin_ext = ext.look(every, t_ext)[0]
    up_ext = sin_ext > ext.sin_mask
    e_up0, e_up1 = up0[ext_rows], up1[ext_rows]
    is_peak = (every < n_peaks) & up_ext
    left, right = e_up0 != up_ext, up_ext != e_up1

    seg_rows = np.concatenate((plain, ext_rows[left], ext_rows[right]))
    seg = _Intervals(states, sa, i[seg_rows], k[seg_rows], j[seg_rows])
    seg_a = np.concatenate((t[k[plain]], ext.t0[left], t_ext[right]))
    seg_b = np.concatenate((t[k[plain] + 1], t_ext[left], ext.t1[right]))
    seg_up_a = np.concatenate((up0[plain], e_up0[left], up_ext[right]))
    rows = np.arange(seg_rows.size)
    t_cross = newton_roots(seg.height, seg_a, seg_b, seg.height(rows, seg_a)[0],
                           seg.height(rows, seg_b)[0], tol_s=_ROOT_TOL_S)

    # Passes open at the start, or at the end / the last good instant, are clipped there.
    si, sj, sin_start = _open_at(states, sa, np.zeros_like(states.last_valid_index))
    ei, ej, sin_end = _open_at(states, sa, states.last_valid_index)
    n_cross, n_peak = seg_rows.size, int(is_peak.sum())
    ev_i = np.concatenate((seg.i, ext.i[is_peak], si, ei))
    ev_j = np.concatenate((seg.j, ext.j[is_peak], sj, ej))
    ev_t = np.concatenate((t_cross, t_ext[is_peak], t[np.zeros_like(si)],
                           t[states.last_valid_index[ei]]))
    ev_type = np.concatenate((np.where(seg_up_a, END, START), np.full(n_peak, BEST),
                              np.full(si.size, START), np.full(ei.size, END)))
    ev_sin = np.concatenate((seg.sin_mask, sin_ext[is_peak], sin_start, sin_end))
    ev_clip = np.concatenate((np.zeros(n_cross + n_peak, bool), np.ones(si.size + ei.size, bool)))
    n_s = sa.sin_mask.size
    found = assemble_windows(ev_i * n_s + ev_j, ev_t, ev_type, ev_sin, ev_clip)
    return {
        "sat_index": found["pair"] // n_s,
        "site_index": found["pair"] % n_s,
        "rise_s": found["start_s"],
        "culminate_s": found["best_s"],
        "set_s": found["end_s"],
        "max_sin_el": found["best_value"],
        "clipped": found["clipped"],
    }


def _open_at(states: EcefStates, sa: SiteArrays, step: NDArray[np.int64]
             ) -> tuple[NDArray[np.intp], NDArray[np.intp], FloatArray]:
    """Return ``(i, j, sin_el)`` of satellites above site ``j``'s mask at grid ``step[i]``."""
    n_s = sa.sin_mask.size
    alive = np.flatnonzero(states.last_valid_index >= 0)
    i, j = np.repeat(alive, n_s), np.tile(np.arange(n_s), alive.size)
    above, _ = _flags_at(states, sa, i * states.t_s.size + step[i], j)
    i, j = i[above], j[above]
    sin_el, _ = sin_elevation_and_rate(states.r_km[i, step[i]], states.v_kms[i, step[i]],
                                       sa.pos_km[j], sa.up[j])
    return i, j, sin_el


@dataclass(frozen=True)
class _Chunk:
    """One worker's share: TLE lines (not Satrec objects, which do not pickle cheaply)."""

    first_index: int
    lines: tuple[tuple[str, str], ...]
    start_utc: datetime
    t_s: FloatArray
    sites: SiteArrays
    ut1_minus_utc_s: float


def _passes_of_chunk(chunk: _Chunk) -> dict[str, NDArray[np.generic]]:
    records = [Satrec.twoline2rv(line1, line2) for line1, line2 in chunk.lines]
    with one_blas_thread():
        states = propagate_ecef(records, chunk.start_utc, chunk.t_s,
                                ut1_minus_utc_s=chunk.ut1_minus_utc_s)
        found = find_passes(states, chunk.sites)
    found["sat_index"] = found["sat_index"] + chunk.first_index
    return found


def compute_contacts(
    elements: Sequence[ElementSet],
    sites: Sequence[GroundSite],
    start_utc: datetime,
    duration_s: float,
    *,
    coarse_step_s: float = 60.0,
    workers: int | None = None,
    cache_dir: Path | None = None,
    progress: bool = False,
    ut1_minus_utc_s: float = 0.0,
) -> pd.DataFrame:
    """Return the contact plan: one row per pass of a satellite above a site's mask.

    Parameters
    ----------
    elements
        The satellites.
    sites
        The ground sites (unique names); each uses its own ``elevation_mask_deg``.
    start_utc
        Timezone-aware start of the plan; times in the plan are seconds since then.
    duration_s
        Length of the plan in seconds.
    coarse_step_s
        Search grid step in (0, 120] s; passes shorter than the step are still found. At
        60 s rise and set are within ~10 ms of exact in LEO; beyond 120 s the interpolation
        (~5 m at 120 s, ~200 m at 300 s) starts to miss grazing passes.
    workers
        Processes to use (default ``os.cpu_count()``); 1 runs in this process.
    cache_dir
        Directory of cached plans (see :mod:`simfl.orbits.cache`); None disables caching.
    progress
        Show a progress bar over satellite chunks.
    ut1_minus_utc_s
        UT1 - UTC in seconds (IERS Bulletin A, |value| < 0.9). Leaving it 0 moves rises and
        sets by up to about half of it (31 ms at the +0.062 s of February 2026).

    Returns
    -------
    pandas.DataFrame
        Columns ``satellite`` (str), ``norad_id`` (int64), ``site`` (str), ``rise_s``,
        ``culminate_s``, ``set_s``, ``max_elevation_deg`` (float64), ``rise_utc``,
        ``set_utc`` (datetime64[ns, UTC]) and ``clipped`` (bool: the pass was open at the
        start or end of the plan, or when the satellite's SGP4 failed, and is cut there),
        sorted by ``(site, rise_s, satellite)``.
    """
    start = require_utc(start_utc)
    sites = list(sites)
    elements = list(elements)
    _check_arguments(elements, sites, duration_s, coarse_step_s, workers)
    key = None
    if cache_dir is not None:
        from simfl.orbits import cache

        key = cache.contact_plan_key(elements, sites, start, duration_s, coarse_step_s,
                                     ALGORITHM_VERSION, ut1_minus_utc_s=ut1_minus_utc_s)
        cached = cache.load_plan(Path(cache_dir), key, COLUMNS)
        if cached is not None:
            return cached
    plan = _compute(elements, sites, start, float(duration_s), float(coarse_step_s),
                    workers or os.cpu_count() or 1, progress, float(ut1_minus_utc_s))
    if cache_dir is not None and key is not None:
        cache.store_plan(Path(cache_dir), key, plan)
    return plan


def _check_arguments(elements: Sequence[ElementSet], sites: Sequence[GroundSite],
                     duration_s: float, coarse_step_s: float, workers: int | None) -> None:
    problems = []
    if not (isinstance(duration_s, int | float) and math.isfinite(duration_s) and duration_s > 0):
        problems.append(f"duration_s = {duration_s!r} must be a positive number of seconds "
                        "(e.g. 86400.0 for a day)")
    if not (isinstance(coarse_step_s, int | float) and 0 < coarse_step_s <= MAX_COARSE_STEP_S):
        problems.append(f"coarse_step_s = {coarse_step_s!r} must be in (0, {MAX_COARSE_STEP_S:g}]"
                        " s; 60 s finds every pass (short ones too) at LEO")
    if workers is not None and (not isinstance(workers, int) or workers < 1):
        problems.append(f"workers = {workers!r} must be a positive integer or None (all cores)")
    bad = [type(e).__name__ for e in elements if not isinstance(e, ElementSet)]
    if bad:
        problems.append(f"elements must be ElementSet objects, got {sorted(set(bad))}; load "
                        "them with simfl.orbits.tle.load_tle or build ElementSet(name, l1, l2)")
    bad = [type(s).__name__ for s in sites if not isinstance(s, GroundSite)]
    if bad:
        problems.append(f"sites must be GroundSite objects, got {sorted(set(bad))}")
    if problems:
        raise OrbitError(problems)
    check_unique_names(sites)


def _compute(elements: list[ElementSet], sites: list[GroundSite], start: datetime,
             duration_s: float, step_s: float, workers: int, progress: bool,
             ut1_minus_utc_s: float) -> pd.DataFrame:
    t_s = coarse_grid_s(duration_s, step_s)
    sa = SiteArrays.of(sites)
    results: list[dict[str, NDArray[np.generic]]] = []
    if elements and sites:
        per_chunk = max(1, _GRID_CELLS_PER_CHUNK // (t_s.size * len(sites)))
        if workers > 1:
            per_chunk = min(per_chunk, max(1, math.ceil(len(elements) / (4 * workers))))
        chunks = [
            _Chunk(first, tuple((e.line1, e.line2) for e in elements[first:first + per_chunk]),
                   start, t_s, sa, ut1_minus_utc_s)
            for first in range(0, len(elements), per_chunk)
        ]
        bar = tqdm(total=len(chunks), disable=not progress, unit="chunk", desc="contacts")
        # A daemonic process (a multiprocessing.Pool worker) may not start children.
        if workers == 1 or len(chunks) == 1 or multiprocessing.current_process().daemon:
            for chunk in chunks:
                results.append(_passes_of_chunk(chunk))
                bar.update()
        else:
            with ProcessPoolExecutor(max_workers=min(workers, len(chunks))) as pool:
                for future in as_completed([pool.submit(_passes_of_chunk, c) for c in chunks]):
                    results.append(future.result())
                    bar.update()
        bar.close()
    return _plan_frame(results, elements, sites, start, duration_s)


def _plan_frame(results: list[dict[str, NDArray[np.generic]]], elements: list[ElementSet],
                sites: list[GroundSite], start: datetime, duration_s: float) -> pd.DataFrame:
    """Return the contact-plan DataFrame (column order and dtypes of :data:`COLUMNS`)."""
    def column(key: str, dtype: type) -> NDArray[np.generic]:
        parts = [r[key] for r in results]
        return np.concatenate(parts).astype(dtype) if parts else np.zeros(0, dtype)

    sat, site = column("sat_index", np.int64), column("site_index", np.int64)
    rise_s, set_s = column("rise_s", np.float64), np.minimum(column("set_s", np.float64),
                                                             duration_s)
    keep = set_s > rise_s
    names = np.array([e.name for e in elements] + [""], dtype=object)
    norad = np.array([e.norad_id for e in elements] + [0], dtype=np.int64)
    site_names = np.array([s.name for s in sites] + [""], dtype=object)
    origin = pd.Timestamp(start).as_unit("ns")
    plan = pd.DataFrame({
        "satellite": pd.array(names[sat[keep]], dtype="str"),
        "norad_id": norad[sat[keep]],
        "site": pd.array(site_names[site[keep]], dtype="str"),
        "rise_s": rise_s[keep],
        "culminate_s": column("culminate_s", np.float64)[keep],
        "set_s": set_s[keep],
        "max_elevation_deg": np.degrees(np.arcsin(np.clip(
            column("max_sin_el", np.float64)[keep], -1.0, 1.0))),
        "rise_utc": origin + pd.to_timedelta(rise_s[keep], unit="s"),
        "set_utc": origin + pd.to_timedelta(set_s[keep], unit="s"),
        "clipped": column("clipped", np.bool_)[keep],
    })
    plan = plan.sort_values(["site", "rise_s", "satellite"], kind="stable", ignore_index=True)
    plan["rise_utc"] = plan["rise_utc"].astype("datetime64[ns, UTC]")
    plan["set_utc"] = plan["set_utc"].astype("datetime64[ns, UTC]")
    return plan


def elevation_deg(element: ElementSet, site: GroundSite, t_s: ArrayLike,
                  start_utc: datetime, *, ut1_minus_utc_s: float = 0.0) -> FloatArray:
    """Return the satellite's elevation above the site's horizon in degrees, shape of ``t_s``.

    Exact SGP4 at every time (no interpolation); NaN from the first SGP4 failure on.
    """
    r_km = _relative(element, site, t_s, start_utc, ut1_minus_utc_s)
    up = site.up_vector()
    with np.errstate(invalid="ignore"):
        return np.degrees(np.arcsin(np.sum(r_km * up, axis=-1) / np.linalg.norm(r_km, axis=-1)))


def slant_range_km(element: ElementSet, site: GroundSite, t_s: ArrayLike,
                   start_utc: datetime, *, ut1_minus_utc_s: float = 0.0) -> FloatArray:
    """Return the site-to-satellite distance in km, shape of ``t_s`` (NaN after SGP4 fails)."""
    return np.linalg.norm(_relative(element, site, t_s, start_utc, ut1_minus_utc_s), axis=-1)


def _relative(element: ElementSet, site: GroundSite, t_s: ArrayLike, start_utc: datetime,
              ut1_minus_utc_s: float) -> FloatArray:
    """Return site-to-satellite vectors in km, shape ``(*t_s.shape, 3)``."""
    times = np.asarray(t_s, dtype=np.float64)
    states = propagate_ecef([element], start_utc, times.reshape(-1),
                            ut1_minus_utc_s=ut1_minus_utc_s)
    return (states.r_km[0] - site.ecef_km()).reshape((*times.shape, 3))
