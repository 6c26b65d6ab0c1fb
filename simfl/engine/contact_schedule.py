"""Contact windows as the engine sees them: when each satellite serves each site.

Built once from a precomputed contact plan (:func:`simfl.orbits.contacts.compute_contacts`);
queries are binary searches, never ticking. :func:`wait_contact` is the SimPy primitive
that yields until the next window of a satellite (or of any satellite) over a site.
"""

from __future__ import annotations

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
        self._pair: dict[tuple[str, str], tuple[np.ndarray, np.ndarray]] = {}
        self._site: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]] = {}
        self._sat: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]] = {}
        frame = plan[["satellite", "site", "rise_s", "set_s"]].sort_values(
            ["rise_s", "satellite", "site"], kind="stable")
        for (sat, site), g in frame.groupby(["satellite", "site"], sort=False):
            self._pair[(str(sat), str(site))] = (g["rise_s"].to_numpy(float),
                                                 g["set_s"].to_numpy(float))
        for site, g in frame.groupby("site", sort=False):
            self._site[str(site)] = (g["rise_s"].to_numpy(float), g["set_s"].to_numpy(float),
                                     g["satellite"].astype(str).to_numpy())
        for sat, g in frame.groupby("satellite", sort=False):
            self._sat[str(sat)] = (g["rise_s"].to_numpy(float), g["set_s"].to_numpy(float),
                                   g["site"].astype(str).to_numpy())

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
        rises, sets = self._pair.get((satellite, site), (np.empty(0), np.empty(0)))
        return [Window(satellite, site, float(r), float(s))
                for r, s in zip(rises, sets, strict=True)]

    def next_window(self, satellite: str | None, site: str, t_s: float) -> Window | None:
        """Return the window open at ``t_s`` or the next one; None if the plan has no more.

        With ``satellite=None`` any satellite will do: an open window (the one that stays
        open longest) beats a future one; among future ones the earliest rise wins.
        """
        if satellite is not None:
            rises, sets = self._pair.get((satellite, site), (np.empty(0), np.empty(0)))
            k = int(np.searchsorted(sets, t_s, side="right"))
            if k >= len(sets):
                return None
            return Window(satellite, site, float(rises[k]), float(sets[k]))
        if site not in self._site:
            return None
        rises, sets, sats = self._site[site]
        started = rises <= t_s
        open_now = started & (sets > t_s)
        if np.any(open_now):
            idx = np.flatnonzero(open_now)
            best = idx[np.argmax(sets[idx])]
            return Window(str(sats[best]), site, float(rises[best]), float(sets[best]))
        k = int(np.searchsorted(rises, t_s, side="right"))
        if k >= len(rises):
            return None
        return Window(str(sats[k]), site, float(rises[k]), float(sets[k]))

    def open_windows(self, site: str, t_s: float) -> list[Window]:
        """Return every window open over ``site`` at ``t_s`` (rise <= t < set), by set time."""
        if site not in self._site:
            return []
        rises, sets, sats = self._site[site]
        idx = np.flatnonzero((rises <= t_s) & (sets > t_s))
        idx = idx[np.argsort(sets[idx], kind="stable")]
        return [Window(str(sats[k]), site, float(rises[k]), float(sets[k])) for k in idx]

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
