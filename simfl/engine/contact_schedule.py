"""Contact windows as the engine sees them: when each satellite serves each site.

Built once from a precomputed contact plan (:func:`simfl.orbits.contacts.compute_contacts`);
queries are binary searches, never ticking. :func:`wait_contact` is the SimPy primitive
that yields until the next window of a satellite (or of any satellite) over a site.
"""

from __future__ import annotations

import bisect
from collections.abc import Generator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import simpy

from simfl.engine.simulation import Simulation

if TYPE_CHECKING:
    import pandas as pd


@dataclass(frozen=True)
class Window:
    """One contact window of ``satellite`` over ``site``, in seconds since the epoch."""

    satellite: str
    site: str
    rise_s: float
    set_s: float

    @property
    def duration_s(self) -> float:
        """Return the window's length in seconds."""
        return self.set_s - self.rise_s


class ContactSchedule:
    """Sorted contact windows per (satellite, site) and per site, for fast lookups.

    Lookups that the engine makes per event (the next window of a pair, the windows open
    over a site) bisect Python lists: a handful of windows each, where numpy's per-call cost
    would dominate. Windows open at ``t`` over a site all rose after ``t`` minus the site's
    longest window, so only those are looked at.

    Parameters
    ----------
    plan
        A contact plan with at least columns ``satellite``, ``site``, ``rise_s``, ``set_s``
        (seconds since the simulation epoch).
    """

    def __init__(self, plan: pd.DataFrame) -> None:
        missing = {"satellite", "site", "rise_s", "set_s"} - set(plan.columns)
        if missing:
            raise ValueError(f"contact plan lacks columns {sorted(missing)}")
        self.plan = plan
        frame = plan[["satellite", "site", "rise_s", "set_s"]].sort_values(
            ["rise_s", "satellite", "site"], kind="stable")
        rises = frame["rise_s"].to_numpy(float)
        sets = frame["set_s"].to_numpy(float)
        sats = frame["satellite"].astype(str).to_numpy()
        sites = frame["site"].astype(str).to_numpy()
        self._pair: dict[tuple[str, str], tuple[list[float], list[float]]] = {}
        self._site: dict[str, _SiteWindows] = {}
        self._sat: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]] = {}
        for idx in _groups(sats, sites):
            self._pair[(str(sats[idx[0]]), str(sites[idx[0]]))] = (rises[idx].tolist(),
                                                                   sets[idx].tolist())
        for idx in _groups(sites):
            self._site[str(sites[idx[0]])] = _SiteWindows(rises[idx], sets[idx], sats[idx])
        for idx in _groups(sats):
            self._sat[str(sats[idx[0]])] = (rises[idx], sets[idx], sites[idx])

    @property
    def sites(self) -> list[str]:
        """Return the names of sites with at least one window."""
        return sorted(self._site)

    @property
    def satellites(self) -> list[str]:
        """Return the names of satellites with at least one window."""
        return sorted(self._sat)

    def windows(self, satellite: str, site: str) -> list[Window]:
        """Return every window of ``satellite`` over ``site``, in time order."""
        rises, sets = self._pair.get((satellite, site), ([], []))
        return [Window(satellite, site, r, s) for r, s in zip(rises, sets, strict=True)]

    def next_window(self, satellite: str | None, site: str, t_s: float) -> Window | None:
        """Return the window open at ``t_s`` or the next one; None if the plan has no more.

        With ``satellite=None`` any satellite will do: an open window (the one that stays
        open longest) beats a future one; among future ones the earliest rise wins.
        """
        if satellite is not None:
            pair = self._pair.get((satellite, site))
            if pair is None:
                return None
            rises, sets = pair
            k = bisect.bisect_right(sets, t_s)
            if k >= len(sets):
                return None
            return Window(satellite, site, rises[k], sets[k])
        windows = self._site.get(site)
        if windows is None:
            return None
        open_now = windows.open_at(t_s)
        if open_now:
            best = max(open_now, key=windows.sets.__getitem__)  # the first of equal sets
            return windows.window(best, site)
        k = bisect.bisect_right(windows.rises, t_s)
        if k >= len(windows.rises):
            return None
        return windows.window(k, site)

    def open_windows(self, site: str, t_s: float) -> list[Window]:
        """Return every window open over ``site`` at ``t_s`` (rise <= t < set), by set time."""
        windows = self._site.get(site)
        if windows is None:
            return []
        open_now = windows.open_at(t_s)
        open_now.sort(key=windows.sets.__getitem__)  # stable: plan order among equal sets
        return [windows.window(k, site) for k in open_now]

    def next_visit(
        self, satellite: str, t_s: float, exclude_site: str | None = None
    ) -> Window | None:
        """Return the satellite's next window over any site (not ``exclude_site``) after ``t_s``.

        A window already open at ``t_s`` counts. Used by store-carry-forward satellites to
        find where they will deliver what they carry.
        """
        if satellite not in self._sat:
            return None
        rises, sets, sites = self._sat[satellite]
        ok = sets > t_s
        if exclude_site is not None:
            ok &= sites != exclude_site
        idx = np.flatnonzero(ok)
        if len(idx) == 0:
            return None
        k = idx[np.argmin(np.maximum(rises[idx], t_s))]
        return Window(satellite, str(sites[k]), float(rises[k]), float(sets[k]))

    def visible(self, satellite: str, site: str, t_s: float) -> bool:
        """Return whether ``satellite`` is above ``site``'s mask at ``t_s``."""
        w = self.next_window(satellite, site, t_s)
        return w is not None and w.rise_s <= t_s < w.set_s


class _SiteWindows:
    """One site's windows in rise order, as lists, and its longest window."""

    def __init__(self, rises: np.ndarray, sets: np.ndarray, sats: np.ndarray) -> None:
        self.rises: list[float] = rises.tolist()
        self.sets: list[float] = sets.tolist()
        self.sats: list[str] = [str(s) for s in sats]
        # a second of margin: rise + (set - rise) may round below set
        self.span_s = float(np.max(sets - rises)) + 1.0 if len(rises) else 0.0

    def open_at(self, t_s: float) -> list[int]:
        """Return the indices of windows with rise <= t_s < set, in rise order."""
        lo = bisect.bisect_left(self.rises, t_s - self.span_s)
        hi = bisect.bisect_right(self.rises, t_s)
        sets = self.sets
        return [k for k in range(lo, hi) if sets[k] > t_s]

    def window(self, k: int, site: str) -> Window:
        """Return window ``k`` over ``site``."""
        return Window(self.sats[k], site, self.rises[k], self.sets[k])


def _groups(*keys: np.ndarray) -> list[np.ndarray]:
    """Return the row indices of each distinct key (tuple of ``keys``), rows in order."""
    if len(keys[0]) == 0:
        return []
    codes = np.zeros(len(keys[0]), dtype=np.int64)
    for key in keys:
        values, inverse = np.unique(key, return_inverse=True)
        codes = codes * len(values) + inverse
    order = np.argsort(codes, kind="stable")
    bounds = np.flatnonzero(np.diff(codes[order])) + 1
    return np.split(order, bounds)


def wait_contact(
    sim: Simulation,
    schedule: ContactSchedule,
    satellite: str | None,
    site: str,
    *,
    node: str | None = None,
    round: int = -1,
) -> Generator[simpy.Event, Any, Window | None]:
    """Yield until ``satellite`` (or any satellite if None) is over ``site``; return the window.

    Returns None, without waiting, when the contact plan has no further window (the plan's
    horizon is the end of the world for contact-driven algorithms). A non-zero wait is
    recorded in the trace on ``node`` (default: the site).
    """
    window = schedule.next_window(satellite, site, sim.now_s)
    if window is None:
        return None
    if window.rise_s > sim.now_s:
        start = sim.now_s
        yield sim.env.timeout(window.rise_s - start)
        sim.trace.record("wait", node or site, start, window.rise_s, peer=window.satellite,
                         round=round, what="contact", site=site)
    return window
