"""Tests of simfl.engine.channel: dedicated, shared (processor sharing) and serial media."""

from __future__ import annotations

import itertools
import json
from collections.abc import Generator
from datetime import UTC, datetime
from fractions import Fraction
from typing import Any

import pytest
import simpy
from hypothesis import given, settings
from hypothesis import strategies as st

from simfl.engine.channel import Channel
from simfl.engine.simulation import Simulation
from simfl.network.link import Link, Sharing, transfer_time_s

EPOCH = datetime(2024, 1, 1, tzinfo=UTC)
MAX_STEPS = 10_000


def run_bounded(sim: Simulation) -> None:
    """Run to the end, failing (not hanging) if the engine spins without finishing."""
    for _ in range(MAX_STEPS):
        try:
            sim.env.step()
        except simpy.core.EmptySchedule:
            return
    raise AssertionError(f"simulation still busy after {MAX_STEPS} steps at t={sim.now_s}")


def start_transfers(
    sim: Simulation, channel: Channel, flows: list[tuple[float, int]]
) -> dict[int, float]:
    """Start flow i (start_s, nbytes) at its start time; return {i: end time} once run."""
    ends: dict[int, float] = {}

    def flow(i: int, start_s: float, nbytes: int) -> Generator[simpy.Event, Any, None]:
        yield sim.timeout(start_s)
        ends[i] = (yield from channel.send(f"src-{i}", "dst", nbytes, flow=i)).t_end_s

    for i, (start_s, nbytes) in enumerate(flows):
        sim.process(flow(i, start_s, nbytes))
    return ends


def simulate(
    sharing: Sharing, flows: list[tuple[float, int]], latency_s: float = 0.0,
    rate_bps: float = 8.0,
) -> tuple[Simulation, dict[int, float]]:
    sim = Simulation(EPOCH, 0)
    channel = Channel(sim, "uplink", Link(latency_s, rate_bps, sharing))
    ends = start_transfers(sim, channel, flows)
    run_bounded(sim)
    return sim, ends


def transfer_info(sim: Simulation) -> dict[str, dict[str, Any]]:
    return {e.node: json.loads(e.info) for e in sim.trace.events() if e.kind == "transfer"}


def processor_sharing_reference(
    arrivals: list[tuple[float, int]], rate_bps: float
) -> dict[int, Fraction]:
    """Return exact finish times of flows (arrival_s, nbits) sharing rate_bps equally."""
    rate = Fraction(rate_bps)
    pending = sorted(range(len(arrivals)), key=lambda i: arrivals[i][0])
    active: dict[int, Fraction] = {}
    finish: dict[int, Fraction] = {}
    now = Fraction(0)
    while pending or active:
        next_arrival = Fraction(arrivals[pending[0]][0]) if pending else None
        if not active:
            assert next_arrival is not None
            now = max(now, next_arrival)
        else:
            n = len(active)
            to_first_finish = min(active.values()) * n / rate
            if next_arrival is None or now + to_first_finish <= next_arrival:
                step = to_first_finish
            else:
                step = next_arrival - now
            now += step
            for i in active:
                active[i] -= rate * step / n
            for i in [i for i, bits in active.items() if bits == 0]:
                finish[i] = now
                del active[i]
        while pending and Fraction(arrivals[pending[0]][0]) <= now:
            i = pending.pop(0)
            active[i] = Fraction(arrivals[i][1])
            if active[i] == 0:
                finish[i] = now
                del active[i]
    return finish


# --- dedicated -------------------------------------------------------------------------------


def test_dedicated_time_is_latency_plus_bits_over_rate() -> None:
    _sim, ends = simulate("dedicated", [(0.0, 1_000_000)], latency_s=0.25, rate_bps=1e7)
    assert ends[0] == 0.25 + 8 * 1_000_000 / 1e7
    assert ends[0] == transfer_time_s(1_000_000, 0.25, 1e7)


def test_dedicated_concurrent_transfers_do_not_slow_each_other() -> None:
    _sim, ends = simulate("dedicated", [(0.0, 10), (0.0, 10)], latency_s=0.5)
    assert ends == {0: 10.5, 1: 10.5}


def test_send_returns_end_time_and_records_transfer() -> None:
    sim, ends = simulate("dedicated", [(2.0, 3)], latency_s=1.0)
    (event,) = sim.trace.events()
    assert (event.kind, event.node, event.peer) == ("transfer", "src-0", "dst")
    assert (event.t_start_s, event.t_end_s, event.bytes) == (2.0, 6.0, 3)
    assert ends[0] == event.t_end_s


def test_transfer_info_names_the_link_and_keeps_extra_fields() -> None:
    sim = Simulation(EPOCH, 0)
    channel = Channel(sim, "device_cloud_up", Link(0.0, 8.0))
    sim.process(channel.send("client-1", "cloud", 1, round=4, model="global"))
    run_bounded(sim)
    (event,) = sim.trace.events()
    assert event.round == 4
    assert json.loads(event.info) == {"link": "device_cloud_up", "model": "global"}


def test_zero_byte_transfer_costs_only_latency() -> None:
    for sharing in ("dedicated", "shared", "serial"):
        _sim, ends = simulate(sharing, [(0.0, 0)], latency_s=0.75)
        assert ends == {0: 0.75}, sharing


def test_trace_bytes_equal_bytes_sent() -> None:
    sizes = [1, 7, 4096, 123_457]
    sim, _ends = simulate("shared", [(float(i), n) for i, n in enumerate(sizes)], rate_bps=1e6)
    frame = sim.trace.to_frame()
    assert sorted(frame["bytes"].tolist()) == sorted(sizes)
    assert int(frame["bytes"].sum()) == sum(sizes)


# --- shared (processor sharing) --------------------------------------------------------------


def test_shared_single_flow_gets_full_rate() -> None:
    _sim, ends = simulate("shared", [(0.0, 10)], latency_s=0.5)
    assert ends == {0: 10.5}


def test_shared_two_equal_flows_each_take_twice_as_long() -> None:
    # 10 bytes at 1 byte/s each, sharing the medium: both finish at latency + 2 * 10 s
    _sim, ends = simulate("shared", [(0.0, 10), (0.0, 10)], latency_s=0.5)
    assert ends == {0: 20.5, 1: 20.5}


def test_shared_staggered_arrival_exact_finish_times() -> None:
    # A (10 B) enters the medium at 0.5 and has it alone for 3 s: 3 B sent, 7 B left.
    # B (4 B) enters at 3.5; both get 0.5 B/s: B done after 8 s (11.5), A has 3 B left.
    # A alone again: done at 14.5.
    _sim, ends = simulate("shared", [(0.0, 10), (3.0, 4)], latency_s=0.5)
    assert ends[1] == pytest.approx(11.5, abs=1e-12)
    assert ends[0] == pytest.approx(14.5, abs=1e-12)


def test_shared_three_flows_of_different_sizes() -> None:
    # 3, 6, 9 B at 1 B/s: all three share until the 3 B flow is done (9 s), two share the
    # 3 B each still to go (6 s more: 15 s), the last 3 B go alone (18 s).
    _sim, ends = simulate("shared", [(0.0, 9), (0.0, 3), (0.0, 6)])
    assert ends == pytest.approx({0: 18.0, 1: 9.0, 2: 15.0}, abs=1e-12)


def test_shared_medium_idle_between_flows() -> None:
    _sim, ends = simulate("shared", [(0.0, 2), (10.0, 2)])
    assert ends == {0: 2.0, 1: 12.0}


def test_shared_does_not_stall_late_in_a_long_run() -> None:
    # Regression: at large simulated times, rounding of the clock left a few bits in a flow
    # whose next wake-up was below the clock's resolution, and the engine spun forever.
    flows = [(1e7 + 4.859276965628126, 278_009_743), (1e7 + 9.182343317851318, 548_977_049)]
    _sim, ends = simulate("shared", flows, rate_bps=1e10)
    expected = processor_sharing_reference([(s, 8 * n) for s, n in flows], 1e10)
    for i in expected:
        assert ends[i] == pytest.approx(float(expected[i]), rel=1e-12)


@settings(max_examples=60, deadline=None)
@given(sizes=st.lists(st.integers(min_value=1, max_value=10**6), min_size=1, max_size=6))
def test_shared_simultaneous_start_total_time_and_order(sizes: list[int]) -> None:
    latency_s, rate_bps = 0.125, 1e6
    _sim, ends = simulate("shared", [(0.0, n) for n in sizes], latency_s, rate_bps)
    total_s = latency_s + 8 * sum(sizes) / rate_bps
    assert max(ends.values()) == pytest.approx(total_s, rel=1e-9)
    by_size = sorted(range(len(sizes)), key=lambda i: sizes[i])
    finish_in_size_order = [ends[i] for i in by_size]
    assert finish_in_size_order == sorted(finish_in_size_order)
    for i, j in itertools.pairwise(by_size):
        if sizes[i] == sizes[j]:
            assert ends[i] == pytest.approx(ends[j], rel=1e-12)


@settings(max_examples=60, deadline=None)
@given(
    offset_s=st.sampled_from([0.0, 1e4, 1e6]),
    rate_bps=st.sampled_from([8.0, 1e6, 1e9]),
    flows=st.lists(
        st.tuples(st.floats(min_value=0.0, max_value=50.0), st.integers(0, 10**7)),
        min_size=1, max_size=6,
    ),
)
def test_shared_matches_exact_processor_sharing(
    offset_s: float, rate_bps: float, flows: list[tuple[float, int]]
) -> None:
    starts = [(offset_s + t, n) for t, n in flows]
    _sim, ends = simulate("shared", starts, rate_bps=rate_bps)
    expected = processor_sharing_reference([(s, 8 * n) for s, n in starts], rate_bps)
    for i, t_s in expected.items():
        assert ends[i] == pytest.approx(float(t_s), rel=1e-9, abs=1e-9)


def test_shared_interrupted_flow_stops_taking_a_share() -> None:
    # A and B share 1 B/s for 1 s (0.5 B each), A is cut: B has the 9.5 B left to itself.
    sim = Simulation(EPOCH, 0)
    channel = Channel(sim, "uplink", Link(0.0, 8.0, "shared"))
    ends = {}

    def sender(name: str) -> Generator[simpy.Event, Any, None]:
        try:
            ends[name] = (yield from channel.send(name, "dst", 10)).t_end_s
        except simpy.Interrupt:
            ends[name] = -1.0

    victim = sim.process(sender("a"))
    sim.process(sender("b"))

    def cutter() -> Generator[simpy.Event, Any, None]:
        yield sim.timeout(1.0)
        victim.interrupt("contact lost")

    sim.process(cutter())
    run_bounded(sim)
    assert ends == {"a": -1.0, "b": pytest.approx(10.5, abs=1e-12)}


# --- serial ----------------------------------------------------------------------------------


def test_serial_is_first_in_first_out() -> None:
    # 2 B at 1 B/s after 1 s latency: 3, 5, 7 s, in arrival order.
    _sim, ends = simulate("serial", [(0.0, 2), (0.0, 2), (0.0, 2)], latency_s=1.0)
    assert ends == {0: 3.0, 1: 5.0, 2: 7.0}


def test_serial_records_queued_seconds() -> None:
    sim, _ends = simulate("serial", [(0.0, 2), (0.0, 2), (0.0, 2)], latency_s=1.0)
    info = transfer_info(sim)
    assert "queued_s" not in info["src-0"]
    assert info["src-1"]["queued_s"] == 2.0
    assert info["src-2"]["queued_s"] == 4.0


def test_serial_later_arrival_waits_for_current_transfer() -> None:
    _sim, ends = simulate("serial", [(0.0, 10), (4.0, 1)])
    assert ends == {0: 10.0, 1: 11.0}


def test_serial_interrupted_queued_transfer_leaves_the_queue() -> None:
    # first: 0-4 s; victim queued at 0.5 s, cut at 2 s; last (queued at 1 s) goes at 4 s.
    sim = Simulation(EPOCH, 0)
    channel = Channel(sim, "isl", Link(0.0, 8.0, "serial"))
    ends: dict[str, float] = {}

    def sender(name: str, start_s: float) -> Generator[simpy.Event, Any, None]:
        yield sim.timeout(start_s)
        try:
            ends[name] = (yield from channel.send(name, "dst", 4)).t_end_s
        except simpy.Interrupt:
            ends[name] = -sim.now_s

    sim.process(sender("first", 0.0))
    victim = sim.process(sender("victim", 0.5))
    sim.process(sender("last", 1.0))

    def cutter() -> Generator[simpy.Event, Any, None]:
        yield sim.timeout(2.0)
        victim.interrupt()

    sim.process(cutter())
    run_bounded(sim)
    assert ends == {"first": 4.0, "victim": -2.0, "last": 8.0}


# --- interruption ----------------------------------------------------------------------------


@pytest.mark.parametrize("sharing", ["dedicated", "shared", "serial"])
def test_interrupted_transfer_records_drop_not_transfer(sharing: Sharing) -> None:
    sim = Simulation(EPOCH, 0)
    channel = Channel(sim, "downlink", Link(0.5, 8.0, sharing))

    def sender() -> Generator[simpy.Event, Any, None]:
        with pytest.raises(simpy.Interrupt):
            yield from channel.send("sat-0", "gs-0", 100, round=2, model="m")

    proc = sim.process(sender())

    def cutter() -> Generator[simpy.Event, Any, None]:
        yield sim.timeout(3.0)
        proc.interrupt()

    sim.process(cutter())
    run_bounded(sim)
    (event,) = sim.trace.events()
    assert (event.kind, event.node, event.peer) == ("drop", "sat-0", "gs-0")
    assert (event.t_start_s, event.t_end_s, event.bytes, event.round) == (0.0, 3.0, 0, 2)
    assert json.loads(event.info) == {"link": "downlink", "what": "transfer",
                                       "reason": "deadline", "model": "m"}


def test_interrupt_during_latency_records_drop() -> None:
    sim = Simulation(EPOCH, 0)
    channel = Channel(sim, "downlink", Link(5.0, 8.0, "shared"))

    def sender() -> Generator[simpy.Event, Any, None]:
        with pytest.raises(simpy.Interrupt):
            yield from channel.send("sat-0", "gs-0", 100)

    proc = sim.process(sender())

    def cutter() -> Generator[simpy.Event, Any, None]:
        yield sim.timeout(1.0)
        proc.interrupt()

    sim.process(cutter())
    run_bounded(sim)
    assert [(e.kind, e.t_end_s) for e in sim.trace.events()] == [("drop", 1.0)]
