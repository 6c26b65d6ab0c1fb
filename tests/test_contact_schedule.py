"""Tests of simfl.engine.contact_schedule: window lookups and the wait_contact primitive."""

from __future__ import annotations

import json
from collections.abc import Generator
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pandas as pd
import pytest
import simpy

from simfl.engine.contact_schedule import ContactSchedule, Window, wait_contact
from simfl.engine.simulation import Simulation

EPOCH = datetime(2024, 1, 1, tzinfo=UTC)

# (satellite, site, rise_s, set_s), deliberately not in time order.
ROWS = [
    ("A", "S1", 1000.0, 1100.0),
    ("B", "S1", 150.0, 300.0),
    ("A", "S2", 400.0, 450.0),
    ("A", "S1", 100.0, 200.0),
    ("C", "S1", 120.0, 250.0),
    ("B", "S1", 500.0, 600.0),
]


def plan(rows: list[tuple[str, str, float, float]] = ROWS) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["satellite", "site", "rise_s", "set_s"])


@pytest.fixture
def schedule() -> ContactSchedule:
    return ContactSchedule(plan())


# --- construction --------------------------------------------------------------------------


def test_missing_columns_are_named() -> None:
    with pytest.raises(ValueError, match=r"lacks columns \['rise_s', 'set_s'\]"):
        ContactSchedule(plan().drop(columns=["rise_s", "set_s"]))


def test_extra_columns_are_ignored() -> None:
    frame = plan().assign(max_elevation_deg=45.0)
    assert ContactSchedule(frame).windows("B", "S1")[0] == Window("B", "S1", 150.0, 300.0)


def test_sites_and_satellites_are_listed_sorted(schedule: ContactSchedule) -> None:
    assert schedule.sites == ["S1", "S2"]
    assert schedule.satellites == ["A", "B", "C"]


def test_an_empty_plan_has_no_windows() -> None:
    empty = ContactSchedule(plan([]))
    assert empty.sites == []
    assert empty.next_window(None, "S1", 0.0) is None
    assert empty.next_window("A", "S1", 0.0) is None


def test_window_duration() -> None:
    assert Window("A", "S1", 100.0, 250.5).duration_s == 150.5


# --- windows() -----------------------------------------------------------------------------


def test_windows_are_in_time_order(schedule: ContactSchedule) -> None:
    assert schedule.windows("A", "S1") == [
        Window("A", "S1", 100.0, 200.0),
        Window("A", "S1", 1000.0, 1100.0),
    ]


def test_windows_of_an_unknown_pair_are_empty(schedule: ContactSchedule) -> None:
    assert schedule.windows("C", "S2") == []


# --- next_window for one satellite ---------------------------------------------------------


def test_next_window_before_the_first_rise(schedule: ContactSchedule) -> None:
    assert schedule.next_window("A", "S1", 50.0) == Window("A", "S1", 100.0, 200.0)


def test_next_window_inside_returns_the_open_window(schedule: ContactSchedule) -> None:
    assert schedule.next_window("A", "S1", 150.0) == Window("A", "S1", 100.0, 200.0)


def test_next_window_at_the_rise_returns_that_window(schedule: ContactSchedule) -> None:
    assert schedule.next_window("A", "S1", 100.0) == Window("A", "S1", 100.0, 200.0)


def test_next_window_between_windows_returns_the_next(schedule: ContactSchedule) -> None:
    assert schedule.next_window("A", "S1", 500.0) == Window("A", "S1", 1000.0, 1100.0)


def test_next_window_at_the_set_time_returns_the_next(schedule: ContactSchedule) -> None:
    # Windows are [rise, set): at the set instant the pass is over.
    assert schedule.next_window("A", "S1", 200.0) == Window("A", "S1", 1000.0, 1100.0)


def test_next_window_after_the_last_is_none(schedule: ContactSchedule) -> None:
    assert schedule.next_window("A", "S1", 1100.0) is None


def test_next_window_of_an_unknown_pair_is_none(schedule: ContactSchedule) -> None:
    assert schedule.next_window("C", "S2", 0.0) is None


# --- next_window for any satellite ---------------------------------------------------------


def test_any_satellite_prefers_the_open_window_that_sets_last(schedule: ContactSchedule) -> None:
    # At 160 s A (sets 200), C (250) and B (300) are all over S1.
    assert schedule.next_window(None, "S1", 160.0) == Window("B", "S1", 150.0, 300.0)


def test_any_satellite_open_beats_an_earlier_future_rise() -> None:
    sched = ContactSchedule(plan([("A", "S1", 0.0, 100.0), ("B", "S1", 60.0, 70.0)]))
    assert sched.next_window(None, "S1", 50.0) == Window("A", "S1", 0.0, 100.0)


def test_any_satellite_between_windows_takes_the_earliest_rise(
    schedule: ContactSchedule,
) -> None:
    assert schedule.next_window(None, "S1", 350.0) == Window("B", "S1", 500.0, 600.0)
    assert schedule.next_window(None, "S1", 10.0) == Window("A", "S1", 100.0, 200.0)


def test_any_satellite_after_the_last_window_is_none(schedule: ContactSchedule) -> None:
    assert schedule.next_window(None, "S1", 1100.0) is None


def test_any_satellite_over_an_unknown_site_is_none(schedule: ContactSchedule) -> None:
    assert schedule.next_window(None, "nowhere", 0.0) is None


# --- open_windows --------------------------------------------------------------------------


def test_open_windows_are_listed_by_set_time(schedule: ContactSchedule) -> None:
    assert [w.satellite for w in schedule.open_windows("S1", 160.0)] == ["A", "C", "B"]
    assert schedule.open_windows("S1", 200.0) == [Window("C", "S1", 120.0, 250.0),
                                                  Window("B", "S1", 150.0, 300.0)]


def test_open_windows_include_a_long_window_that_rose_long_before() -> None:
    rows = [("LONG", "S1", 0.0, 10_000.0)] + [(f"S{k}", "S1", 100.0 * k, 100.0 * k + 20.0)
                                              for k in range(1, 50)]
    sched = ContactSchedule(plan(rows))
    assert [w.satellite for w in sched.open_windows("S1", 4_905.0)] == ["S49", "LONG"]


def _random_plan(seed: int) -> list[tuple[str, str, float, float]]:
    rng = np.random.default_rng(seed)
    rises = np.round(rng.uniform(0.0, 5_000.0, 300), 1)
    lengths = np.round(rng.exponential(150.0, 300), 1) + 0.1
    return [(f"SAT{int(rng.integers(40))}", f"S{int(rng.integers(3))}", float(r), float(r + d))
            for r, d in zip(rises, lengths, strict=True)]


def test_open_windows_and_any_satellite_match_a_scan_of_the_plan() -> None:
    rows = _random_plan(7)
    sched = ContactSchedule(plan(rows))
    times = sorted({t for _, _, r, s in rows for t in (r, s, r + 0.05)} | {-1.0, 6_000.0})
    for site in ("S0", "S1", "S2"):
        ordered = sorted([r for r in rows if r[1] == site], key=lambda r: (r[2], r[0]))
        for t in times:
            open_now = sorted([r for r in ordered if r[2] <= t < r[3]], key=lambda r: r[3])
            assert [(w.satellite, w.rise_s) for w in sched.open_windows(site, t)] == [
                (r[0], r[2]) for r in open_now]
            later = [r for r in ordered if r[2] > t]
            best = (max(open_now, key=lambda r: r[3]) if open_now
                    else later[0] if later else None)
            got = sched.next_window(None, site, t)
            assert (got.satellite, got.rise_s) == (best[0], best[2]) if best else got is None


# --- next_visit ----------------------------------------------------------------------------


def test_next_visit_takes_the_next_window_over_any_site(schedule: ContactSchedule) -> None:
    assert schedule.next_visit("A", 300.0) == Window("A", "S2", 400.0, 450.0)


def test_next_visit_skips_the_excluded_site(schedule: ContactSchedule) -> None:
    assert schedule.next_visit("A", 150.0, exclude_site="S1") == Window("A", "S2", 400.0, 450.0)
    assert schedule.next_visit("A", 300.0, exclude_site="S2") == Window(
        "A", "S1", 1000.0, 1100.0
    )


def test_next_visit_counts_an_open_window(schedule: ContactSchedule) -> None:
    # At 150 s A is over S1 (100-200); S2's window (400) is later.
    assert schedule.next_visit("A", 150.0) == Window("A", "S1", 100.0, 200.0)


def test_next_visit_after_the_last_window_is_none(schedule: ContactSchedule) -> None:
    assert schedule.next_visit("A", 1100.0) is None
    assert schedule.next_visit("A", 500.0, exclude_site="S1") is None


def test_next_visit_of_an_unknown_satellite_is_none(schedule: ContactSchedule) -> None:
    assert schedule.next_visit("Z", 0.0) is None


# --- visible -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("t_s", "expected"),
    [(99.9, False), (100.0, True), (150.0, True), (199.9, True), (200.0, False),
     (500.0, False), (1050.0, True), (1100.0, False)],
)
def test_visible_inside_rise_inclusive_set_exclusive(
    schedule: ContactSchedule, t_s: float, expected: bool
) -> None:
    assert schedule.visible("A", "S1", t_s) is expected


# --- wait_contact --------------------------------------------------------------------------


def run_wait(
    schedule: ContactSchedule, satellite: str | None, site: str, start_s: float, **kw: Any
) -> tuple[Simulation, list[Window | None]]:
    """Start wait_contact at ``start_s`` in a fresh simulation; return it and the result."""
    sim = Simulation(EPOCH, 0)
    got: list[Window | None] = []

    def proc() -> Generator[simpy.Event, Any, None]:
        yield sim.timeout(start_s)
        got.append((yield from wait_contact(sim, schedule, satellite, site, **kw)))
        got_at.append(sim.now_s)

    got_at: list[float] = []
    sim.process(proc())
    sim.env.run()
    assert got_at == [sim.now_s]
    return sim, got


def test_wait_contact_yields_until_the_rise(schedule: ContactSchedule) -> None:
    sim, got = run_wait(schedule, "A", "S1", 50.0)
    assert got == [Window("A", "S1", 100.0, 200.0)]
    assert sim.now_s == 100.0


def test_wait_contact_records_a_wait_with_the_satellite_as_peer(
    schedule: ContactSchedule,
) -> None:
    sim, _ = run_wait(schedule, "A", "S1", 50.0, node="device-3", round=2)
    [event] = sim.trace.events()
    assert (event.kind, event.node, event.peer) == ("wait", "device-3", "A")
    assert (event.t_start_s, event.t_end_s, event.round) == (50.0, 100.0, 2)
    assert json.loads(event.info) == {"what": "contact", "site": "S1"}


def test_wait_contact_records_on_the_site_by_default(schedule: ContactSchedule) -> None:
    sim, _ = run_wait(schedule, "A", "S1", 50.0)
    assert sim.trace.events()[0].node == "S1"


def test_wait_contact_inside_a_window_does_not_wait(schedule: ContactSchedule) -> None:
    sim, got = run_wait(schedule, "A", "S1", 150.0)
    assert got == [Window("A", "S1", 100.0, 200.0)]
    assert sim.now_s == 150.0
    assert len(sim.trace) == 0


def test_wait_contact_after_the_plan_returns_none_at_once(schedule: ContactSchedule) -> None:
    sim, got = run_wait(schedule, "A", "S1", 1200.0)
    assert got == [None]
    assert sim.now_s == 1200.0
    assert len(sim.trace) == 0


def test_wait_contact_any_satellite_waits_for_the_next_rise(schedule: ContactSchedule) -> None:
    sim, got = run_wait(schedule, None, "S1", 350.0)
    assert got == [Window("B", "S1", 500.0, 600.0)]
    assert sim.now_s == 500.0
    assert sim.trace.events()[0].peer == "B"
