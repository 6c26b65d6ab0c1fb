"""Ground-satellite transfers that only flow during contact windows.

A :class:`SpaceLink` moves bytes between a node at a ground site (a device, a region, a
ground station) and a satellite. Bytes flow only while the satellite is above the site's
mask; the rate is fixed or follows the slant range through a link budget. A transfer that
outlasts its window is either cut off (its bytes are lost, a ``drop`` is recorded) or
continued at the pair's next window, as configured.
"""

from __future__ import annotations

from collections.abc import Callable, Generator
from typing import Any, Literal

import numpy as np
import simpy

from simfl.engine.contact_schedule import ContactSchedule, Window
from simfl.engine.simulation import Simulation
from simfl.engine.transfer import Delivery
from simfl.network.link_budget import LinkBudget
from simfl.network.pass_throughput import RateProfile

RangeFn = Callable[[str, str, np.ndarray], np.ndarray]
"""``range_km(satellite, site, t_s)``: slant range at each time, shape of ``t_s``."""


class SpaceLink:
    """Transfers over ground-satellite links, limited to contact windows.

    Parameters
    ----------
    sim, schedule
        The simulation and its contact windows.
    name
        Link type recorded in the trace (``ground_satellite_up``...).
    rate_bps
        A fixed rate, or None to use ``budget`` with ``range_km``.
    budget, range_km
        Link budget and slant-range function for range-dependent rates.
    latency_s
        Paid once at the start of each transfer (propagation + protocol), inside windows:
        a part that does not fit before the window closes is paid in the next window.
    on_window_end
        ``"cut"``: the transfer fails when the window closes; ``"continue"``: it resumes at
        the next window of the same satellite over the same site.
    sample_step_s
        Rate sampling step inside a window (range-dependent rates).
    """

    def __init__(
        self,
        sim: Simulation,
        schedule: ContactSchedule,
        name: str,
        *,
        rate_bps: float | None = None,
        budget: LinkBudget | None = None,
        range_km: RangeFn | None = None,
        latency_s: float = 0.0,
        on_window_end: Literal["cut", "continue"] = "continue",
        sample_step_s: float = 5.0,
    ) -> None:
        if rate_bps is None and (budget is None or range_km is None):
            raise ValueError("SpaceLink needs rate_bps, or a budget and a range_km function")
        problems = []
        if rate_bps is not None and not (0 < rate_bps < np.inf):  # NaN fails too
            problems.append(f"rate_bps = {rate_bps} must be > 0 and finite (e.g. 50e6)")
        if not 0 <= latency_s < np.inf:
            problems.append(f"latency_s = {latency_s} must be >= 0 and finite")
        if not 0 < sample_step_s < np.inf:
            problems.append(f"sample_step_s = {sample_step_s} must be > 0 (default 5.0 s)")
        if on_window_end not in ("cut", "continue"):
            problems.append(f"on_window_end = {on_window_end!r} must be 'cut' or 'continue'")
        if problems:
            raise ValueError("; ".join(problems))
        self.sim = sim
        self.schedule = schedule
        self.name = name
        self.rate_bps = rate_bps
        self.budget = budget
        self.range_km = range_km
        self.latency_s = float(latency_s)
        self.on_window_end = on_window_end
        self.sample_step_s = float(sample_step_s)
        self._profiles: dict[tuple[str, str, float], RateProfile] = {}

    def profile(self, window: Window) -> RateProfile:
        """Return the rate over ``window`` (cached per window)."""
        key = (window.satellite, window.site, window.rise_s)
        prof = self._profiles.get(key)
        if prof is None:
            n = max(2, int(np.ceil(window.duration_s / self.sample_step_s)) + 1)
            t = np.linspace(window.rise_s, window.set_s, n)
            if self.rate_bps is not None:
                rate = np.full(n, float(self.rate_bps))
            else:
                assert self.budget is not None and self.range_km is not None
                rng_km = self.range_km(window.satellite, window.site, t)
                rate = np.nan_to_num(self.budget.rate_bps(rng_km), nan=0.0)
            prof = RateProfile(t, rate)
            self._profiles[key] = prof
        return prof

    def bound(self, satellite: str, site: str) -> PassLink:
        """Return this link between ``satellite`` and ``site`` as a :class:`Transport`."""
        return PassLink(self, satellite, site)

    def send(
        self,
        src: str,
        dst: str,
        nbytes: int,
        *,
        satellite: str,
        site: str,
        round: int = -1,
        **info: Any,
    ) -> Generator[simpy.Event, Any, Delivery]:
        """Move ``nbytes`` between ``src`` and ``dst`` over ``satellite``'s passes over ``site``.

        Waits for the next window if none is open. Returns the delivery; it is not delivered
        when the transfer was cut off at a window's end or the contact plan ran out (a
        ``drop`` event is recorded). An interrupt (a deadline) records a ``drop`` and
        propagates.
        """
        env = self.sim.env
        t_start = float(env.now)
        remaining_bits = 8.0 * float(nbytes)
        windows_used = 0
        latency_left_s = self.latency_s
        try:
            while True:
                window = self.schedule.next_window(satellite, site, float(env.now))
                if window is None:
                    self.sim.trace.record("drop", src, t_start, float(env.now), peer=dst,
                                          round=round, link=self.name, what="transfer",
                                          reason="no further contact in the plan", **info)
                    return _undelivered(nbytes, remaining_bits, float(env.now),
                                        "no further contact in the plan")
                if window.rise_s > env.now:
                    yield env.timeout(window.rise_s - float(env.now))
                if latency_left_s > 0:
                    paid_s = min(latency_left_s, max(0.0, window.set_s - float(env.now)))
                    yield env.timeout(paid_s)
                    latency_left_s -= paid_s
                windows_used += 1
                now = float(env.now)
                if latency_left_s <= 0:  # else the window closed during the latency
                    prof = self.profile(window)
                    done = prof.finish_time_s(now, remaining_bits)
                    if done is not None:
                        yield env.timeout(done - now)
                        self.sim.trace.record("transfer", src, t_start, done, peer=dst,
                                              nbytes=nbytes, round=round, link=self.name,
                                              satellite=satellite, site=site,
                                              windows=windows_used, **info)
                        return Delivery(True, float(done), int(nbytes))
                    remaining_bits -= prof.bits_between(now, window.set_s)
                    yield env.timeout(max(0.0, window.set_s - now))
                if self.on_window_end == "cut":
                    self.sim.trace.record("drop", src, t_start, float(env.now), peer=dst,
                                          round=round, link=self.name, what="transfer",
                                          reason="window closed", satellite=satellite, site=site,
                                          **info)
                    return _undelivered(nbytes, remaining_bits, float(env.now), "window closed")

        except simpy.Interrupt:
            self.sim.trace.record("drop", src, t_start, float(env.now), peer=dst, round=round,
                                  link=self.name, what="transfer", reason="deadline", **info)
            raise

def _undelivered(nbytes: int, remaining_bits: float, t_s: float, reason: str) -> Delivery:
    """Return the outcome of a transfer given up at ``t_s`` with ``remaining_bits`` unsent."""
    sent = int(max(0.0, min(float(nbytes), float(nbytes) - remaining_bits / 8.0)))
    return Delivery(False, t_s, sent, reason)


class PassLink:
    """A :class:`SpaceLink` between one satellite and one site: a :class:`Transport`."""

    def __init__(self, link: SpaceLink, satellite: str, site: str) -> None:
        self.link, self.satellite, self.site = link, satellite, site
        self.name = link.name

    def send(
        self, src: str, dst: str, nbytes: int, *, round: int = -1, **info: Any
    ) -> Generator[simpy.Event, Any, Delivery]:
        """Move ``nbytes`` over this satellite's passes over this site (see SpaceLink.send)."""
        return (yield from self.link.send(src, dst, nbytes, satellite=self.satellite,
                                          site=self.site, round=round, **info))
