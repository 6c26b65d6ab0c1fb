"""Tests of simfl.engine.space_link: ground-satellite transfers limited to contact windows."""

from __future__ import annotations

import json
from collections.abc import Generator
from datetime import UTC, datetime
from typing import Any, Literal

import numpy as np
import pandas as pd
import pytest
import simpy

from simfl.engine.contact_schedule import ContactSchedule, Window
from simfl.engine.simulation import Simulation
from simfl.engine.space_link import SpaceLink
from simfl.engine.trace import TraceEvent
from simfl.engine.transfer import Delivery
from simfl.network.link_budget import LinkBudget
from simfl.orbits.contacts import compute_contacts, slant_range_km
from simfl.orbits.elements import ElementSet
from simfl.orbits.sites import GroundSite
from simfl.orbits.walker import walker_delta

EPOCH = datetime(2024, 1, 1, tzinfo=UTC)
one_nanosecond = 1e-9
one_millisecond = 1e-3
twenty_milliseconds = 0.02

# Ku-band downlink: 12 GHz, 250 MHz, 10 W, 30 dBi satellite and 35 dBi ground antennas.
KU = LinkBudget(frequency_hz=12e9, bandwidth_hz=250e6, tx_power_dbw=10.0, tx_gain_dbi=30.0,
                rx_gain_dbi=35.0)

# Satellite A over site S at 100-200 s and 300-400 s; B over S at 150-250 s.
ROWS = [("A", "S", 100.0, 200.0), ("B", "S", 150.0, 250.0), ("A", "S", 300.0, 400.0)]
RATE_BPS = 8000.0  # 1000 bytes per second
LATENCY_S = 0.5


def schedule(rows: list[tuple[str, str, float, float]] = ROWS) -> ContactSchedule:
    return ContactSchedule(pd.DataFrame(rows, columns=["satellite", "site", "rise_s", "set_s"]))


def fixed_link(on_window_end: Literal["cut", "continue"] = "continue",
               latency_s: float = LATENCY_S) -> SpaceLink:
    sim = Simulation(EPOCH, 0)
    return SpaceLink(sim, schedule(), "ground_satellite_up", rate_bps=RATE_BPS,
                     latency_s=latency_s, on_window_end=on_window_end)


def run_send(link: SpaceLink, start_s: float, nbytes: int, satellite: str = "A",
             site: str = "S") -> float | None:
    """Send ``nbytes`` from "dev" to ``satellite`` starting at ``start_s``; return the end time
    of a delivery, or None if it was not delivered."""
    delivery = run_delivery(link, start_s, nbytes, satellite, site)
    return delivery.t_end_s if delivery.delivered else None


def run_delivery(link: SpaceLink, start_s: float, nbytes: int, satellite: str = "A",
                 site: str = "S") -> Delivery:
    """Send as :func:`run_send` over the link bound to ``satellite`` and ``site``."""
    got: list[Delivery] = []

    def proc() -> Generator[simpy.Event, Any, None]:
        yield link.sim.timeout(start_s)
        got.append((yield from link.bound(satellite, site).send("dev", satellite, nbytes,
                                                                 round=4)))

    link.sim.process(proc())
    link.sim.env.run()
    assert len(got) == 1
    return got[0]


def only_event(link: SpaceLink) -> TraceEvent:
    events = link.sim.trace.events()
    assert len(events) == 1, events
    return events[0]


# --- construction --------------------------------------------------------------------------


def test_a_link_needs_a_rate_or_a_budget_with_ranges() -> None:
    with pytest.raises(ValueError, match="needs rate_bps, or a budget and a range_km"):
        SpaceLink(Simulation(EPOCH, 0), schedule(), "up", budget=KU)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"on_window_end": "stop"}, "on_window_end = 'stop'.*'cut' or 'continue'"),
        ({"sample_step_s": 0.0}, "sample_step_s = 0.0 must be > 0"),
        ({"latency_s": -1.0}, "latency_s = -1.0 must be >= 0"),
        ({"rate_bps": 0.0}, "rate_bps = 0.0 must be > 0"),
        ({"rate_bps": float("nan")}, "rate_bps = nan must be > 0"),
    ],
)
def test_bad_settings_are_rejected(kwargs: dict[str, Any], match: str) -> None:
    settings: dict[str, Any] = {"rate_bps": RATE_BPS, **kwargs}
    with pytest.raises(ValueError, match=match):
        SpaceLink(Simulation(EPOCH, 0), schedule(), "up", **settings)


# --- fixed rate ----------------------------------------------------------------------------


def test_transfer_inside_one_window_takes_latency_plus_bits_over_rate() -> None:
    link = fixed_link()
    assert run_send(link, 110.0, 10_000) == pytest.approx(110.0 + 0.5 + 10.0, abs=one_nanosecond)


def test_transfer_inside_one_window_is_traced() -> None:
    link = fixed_link()
    run_send(link, 110.0, 10_000)
    event = only_event(link)
    assert (event.kind, event.node, event.peer, event.bytes, event.round) == (
        "transfer", "dev", "A", 10_000, 4)
    assert (event.t_start_s, event.t_end_s) == pytest.approx((110.0, 120.5))
    assert json.loads(event.info) == {"link": "ground_satellite_up", "satellite": "A",
                                      "site": "S", "windows": 1}


def test_transfer_between_windows_waits_for_the_rise() -> None:
    link = fixed_link()
    assert run_send(link, 50.0, 10_000) == pytest.approx(100.0 + 0.5 + 10.0, abs=one_nanosecond)
    assert only_event(link).t_start_s == 50.0


def test_zero_bytes_take_only_the_latency() -> None:
    assert run_send(fixed_link(), 110.0, 0) == pytest.approx(110.5, abs=one_nanosecond)


def test_continue_resumes_at_the_same_pairs_next_window() -> None:
    # From 150.5 to 200: 49 500 bytes; the other 50 500 at 300 -> 350.5 (B's 150-250 pass
    # over the same site is not this pair's and must not be used).
    link = fixed_link("continue")
    assert run_send(link, 150.0, 100_000) == pytest.approx(350.5, abs=one_nanosecond)
    event = only_event(link)
    assert (event.kind, event.t_start_s, event.bytes) == ("transfer", 150.0, 100_000)
    assert json.loads(event.info)["windows"] == 2


def test_cut_drops_the_transfer_at_the_set_time() -> None:
    link = fixed_link("cut")
    assert run_send(link, 150.0, 100_000) is None
    event = only_event(link)
    assert (event.kind, event.node, event.peer) == ("drop", "dev", "A")
    assert (event.t_start_s, event.t_end_s) == (150.0, 200.0)
    assert json.loads(event.info)["reason"] == "window closed"


def test_cut_reports_the_bytes_that_got_through() -> None:
    # 150.5 to 200 at the fixed rate moves 49 500 of the 100 000 bytes before the set
    delivery = run_delivery(fixed_link("cut"), 150.0, 100_000)
    assert delivery == Delivery(False, 200.0, 49_500, "window closed")


def test_continue_without_a_further_window_drops_at_the_last_set() -> None:
    link = fixed_link("continue")
    assert run_send(link, 350.0, 100_000) is None
    event = only_event(link)
    assert (event.kind, event.t_start_s, event.t_end_s) == ("drop", 350.0, 400.0)
    assert json.loads(event.info)["reason"] == "no further contact in the plan"


def test_transfer_after_the_plan_drops_at_once() -> None:
    link = fixed_link()
    assert run_send(link, 500.0, 1000) is None
    event = only_event(link)
    assert (event.kind, event.t_start_s, event.t_end_s) == ("drop", 500.0, 500.0)
    assert json.loads(event.info)["reason"] == "no further contact in the plan"


def test_latency_cut_short_by_the_window_end_is_finished_in_the_next() -> None:
    # 0.2 s of the 0.5 s latency fit before 200 s; the other 0.3 s are paid from 300 s,
    # then 1000 bytes take 1 s.
    link = fixed_link("continue")
    assert run_send(link, 199.8, 1000) == pytest.approx(301.3, abs=one_nanosecond)


def test_latency_past_the_window_end_with_cut_drops() -> None:
    link = fixed_link("cut")
    assert run_send(link, 199.8, 0) is None
    assert only_event(link).kind == "drop"


def test_fixed_rate_profile_spans_the_window() -> None:
    link = fixed_link()
    prof = link.profile(Window("A", "S", 100.0, 200.0))
    assert (prof.t_s[0], prof.end_s) == (100.0, 200.0)
    assert np.max(np.diff(prof.t_s)) <= link.sample_step_s
    assert np.all(prof.rate_bps == RATE_BPS)


def test_profiles_are_cached_per_window() -> None:
    link = fixed_link()
    window = Window("A", "S", 100.0, 200.0)
    assert link.profile(window) is link.profile(window)


# --- range-dependent rate ------------------------------------------------------------------


def linear_range_km(satellite: str, site: str, t_s: np.ndarray) -> np.ndarray:
    """A fake pass: the slant range grows from 600 km at 0 s by 5 km/s."""
    return 600.0 + 5.0 * np.asarray(t_s, dtype=float)


def integrated_finish_s(rate_of: Any, start_s: float, end_s: float, nbits: float) -> float:
    """Return when ``nbits`` are through, integrating ``rate_of(t)`` on a 1 ms grid."""
    t = np.linspace(start_s, end_s, round((end_s - start_s) / 1e-3) + 1)
    rate = rate_of(t)
    cum = np.concatenate([[0.0], np.cumsum(0.5 * (rate[1:] + rate[:-1]) * np.diff(t))])
    assert cum[-1] > nbits, "the reference window is too short for the payload"
    return float(np.interp(nbits, cum, t))


@pytest.mark.parametrize(
    ("sample_step_s", "tolerance_s"), [(5.0, twenty_milliseconds), (1.0, one_millisecond)]
)
def test_range_dependent_time_matches_the_integrated_rate(
    sample_step_s: float, tolerance_s: float
) -> None:
    # 30 GB over 0-300 s while the range grows 600 -> 2100 km (rate ~1.9 -> ~1.0 Gbit/s);
    # the profile is linear between samples, so it is off by O(step^2).
    sim = Simulation(EPOCH, 0)
    link = SpaceLink(sim, schedule([("A", "S", 0.0, 300.0)]), "down", budget=KU,
                     range_km=linear_range_km, sample_step_s=sample_step_s)
    nbytes = 30_000_000_000
    expected = integrated_finish_s(lambda t: KU.rate_bps(linear_range_km("A", "S", t)),
                                   0.0, 300.0, 8.0 * nbytes)
    done = run_send(link, 0.0, nbytes)
    assert done is not None
    assert done == pytest.approx(expected, abs=tolerance_s)


def test_range_dependent_rate_falls_with_range() -> None:
    sim = Simulation(EPOCH, 0)
    link = SpaceLink(sim, schedule([("A", "S", 0.0, 300.0)]), "down", budget=KU,
                     range_km=linear_range_km)
    rate = link.profile(Window("A", "S", 0.0, 300.0)).rate_bps
    assert np.all(np.diff(rate) < 0)
    assert rate[0] == pytest.approx(float(KU.rate_bps(600.0)))


# --- a real pass of a Walker shell ---------------------------------------------------------

SITE = GroundSite("madrid", lat_deg=40.4, lon_deg=-3.7, alt_m=650.0, elevation_mask_deg=10.0)


@pytest.fixture(scope="module")
def demo_pass() -> tuple[dict[str, ElementSet], pd.Series]:
    """The demo shell (53 deg, 550 km, 3 x 4) and its highest pass over Madrid in 6 h."""
    shell = walker_delta(53.0, 12, 3, 1, 550.0, EPOCH, name_prefix="DEMO")
    plan = compute_contacts(shell, [SITE], EPOCH, 6 * 3600.0, workers=1)
    best = plan.iloc[int(np.argmax(plan["max_elevation_deg"].to_numpy()))]
    assert not best["clipped"] and best["max_elevation_deg"] > 60.0
    return {e.name: e for e in shell}, best


def real_link(demo_pass: tuple[dict[str, ElementSet], pd.Series]) -> tuple[SpaceLink, Window]:
    by_name, best = demo_pass

    def range_km(satellite: str, site: str, t_s: np.ndarray) -> np.ndarray:
        assert site == SITE.name
        return slant_range_km(by_name[satellite], SITE, t_s, EPOCH)

    plan = pd.DataFrame([best])
    link = SpaceLink(Simulation(EPOCH, 0), ContactSchedule(plan), "down", budget=KU,
                     range_km=range_km, latency_s=0.01)
    window = Window(str(best["satellite"]), SITE.name, float(best["rise_s"]),
                    float(best["set_s"]))
    return link, window


def test_real_pass_rate_peaks_at_culmination(
    demo_pass: tuple[dict[str, ElementSet], pd.Series],
) -> None:
    link, window = real_link(demo_pass)
    prof = link.profile(window)
    t_peak = float(prof.t_s[np.argmax(prof.rate_bps)])
    assert t_peak == pytest.approx(float(demo_pass[1]["culminate_s"]), abs=link.sample_step_s)
    assert prof.rate_bps.max() > 1.5 * max(prof.rate_bps[0], prof.rate_bps[-1])


def test_real_pass_small_payload_finishes_within_the_window(
    demo_pass: tuple[dict[str, ElementSet], pd.Series],
) -> None:
    link, window = real_link(demo_pass)
    nbytes = 10_000_000_000  # 80 Gbit: about a minute at 1-2 Gbit/s
    done = run_send(link, window.rise_s - 60.0, nbytes, satellite=window.satellite,
                    site=SITE.name)
    assert done is not None and done < window.set_s
    assert json.loads(only_event(link).info)["windows"] == 1
    t_bits = window.rise_s + 0.01
    range_km = link.range_km
    assert range_km is not None
    expected = integrated_finish_s(
        lambda t: KU.rate_bps(range_km(window.satellite, SITE.name, t)),
        t_bits, window.set_s, 8.0 * nbytes)
    assert done == pytest.approx(expected, abs=twenty_milliseconds)
