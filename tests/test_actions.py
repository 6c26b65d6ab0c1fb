"""Tests of simfl.engine.actions: compute on a node and wait_until."""

from __future__ import annotations

import json
from collections.abc import Generator
from datetime import UTC, datetime
from typing import Any

import pytest
import simpy

from simfl.devices.availability import Availability
from simfl.engine.actions import compute, wait_until
from simfl.engine.node import Node
from simfl.engine.simulation import Simulation

EPOCH = datetime(2024, 1, 1, tzinfo=UTC)


def make(flops_per_s: float = 1.0, availability: Availability | None = None) -> tuple[
    Simulation, Node
]:
    sim = Simulation(EPOCH, 0)
    return sim, Node.create(sim.env, "client-0", "device", flops_per_s, availability)


def start_jobs(sim: Simulation, node: Node, jobs: list[tuple[float, float]]) -> dict[int, float]:
    """Start job i (start_s, flops) on node; return {i: end time} once the sim has run."""
    ends: dict[int, float] = {}

    def job(i: int, start_s: float, flops: float) -> Generator[simpy.Event, Any, None]:
        yield sim.timeout(start_s)
        ends[i] = yield from compute(sim, node, flops, job=i)

    for i, (start_s, flops) in enumerate(jobs):
        sim.process(job(i, start_s, flops))
    return ends


def interrupt_at(sim: Simulation, proc: simpy.Process, t_s: float) -> None:
    def cutter() -> Generator[simpy.Event, Any, None]:
        yield sim.timeout(t_s)
        proc.interrupt("deadline")

    sim.process(cutter())


def infos(sim: Simulation, kind: str) -> list[dict[str, Any]]:
    return [json.loads(e.info) for e in sim.trace.events() if e.kind == kind]


def test_compute_time_is_flops_over_speed() -> None:
    sim, node = make(flops_per_s=2e9)
    ends = start_jobs(sim, node, [(1.0, 5e9)])
    sim.env.run()
    assert ends == {0: 3.5}


def test_compute_records_flops_round_and_info() -> None:
    sim, node = make(flops_per_s=4.0)
    sim.process(compute(sim, node, 8.0, round=3, epoch=1))
    sim.env.run()
    (event,) = sim.trace.events()
    assert (event.kind, event.node, event.t_start_s, event.t_end_s) == ("compute", "client-0",
                                                                        0.0, 2.0)
    assert (event.flops, event.round, json.loads(event.info)) == (8.0, 3, {"epoch": 1})


def test_node_runs_one_job_at_a_time() -> None:
    sim, node = make()
    ends = start_jobs(sim, node, [(0.0, 2.0), (0.0, 3.0), (1.0, 1.0)])
    sim.env.run()
    assert ends == {0: 2.0, 1: 5.0, 2: 6.0}


def test_queued_job_records_queued_seconds_and_start_when_served() -> None:
    sim, node = make()
    start_jobs(sim, node, [(0.0, 2.0), (0.5, 3.0)])
    sim.env.run()
    first, second = sim.trace.events()
    assert "queued_s" not in json.loads(first.info)
    assert (second.t_start_s, second.t_end_s) == (2.0, 5.0)
    assert json.loads(second.info)["queued_s"] == 1.5


def test_different_nodes_compute_in_parallel() -> None:
    sim, a = make()
    b = Node.create(sim.env, "client-1", "device", 1.0)
    ends_a = start_jobs(sim, a, [(0.0, 2.0)])
    ends_b = start_jobs(sim, b, [(0.0, 2.0)])
    sim.env.run()
    assert ends_a == ends_b == {0: 2.0}


def test_work_pauses_while_unavailable() -> None:
    # on 2 s, off 8 s: 4 s of work runs 0-2 and 10-12.
    sim, node = make(availability=Availability(2.0, 8.0))
    ends = start_jobs(sim, node, [(0.0, 4.0)])
    sim.env.run()
    assert ends == {0: 12.0}
    assert infos(sim, "compute") == [{"job": 0, "paused_s": 8.0}]


def test_work_waits_for_availability_with_phase() -> None:
    # phase 5 s: at t=0 the node is off until 5; 3 s of work runs 5-7 and 15-16.
    sim, node = make(availability=Availability(2.0, 8.0, phase_s=5.0))
    ends = start_jobs(sim, node, [(0.0, 3.0)])
    sim.env.run()
    assert ends == {0: 16.0}
    assert infos(sim, "compute")[0]["paused_s"] == 13.0


def test_no_pause_recorded_when_work_fits_in_on_period() -> None:
    sim, node = make(availability=Availability(10.0, 5.0))
    start_jobs(sim, node, [(1.0, 4.0)])
    sim.env.run()
    assert infos(sim, "compute") == [{"job": 0}]


def test_always_on_availability_does_not_delay() -> None:
    sim, node = make(availability=Availability(1.0, 0.0))
    ends = start_jobs(sim, node, [(0.5, 7.0)])
    sim.env.run()
    assert ends == {0: 7.5}


def test_interrupt_records_partial_compute_and_drop() -> None:
    sim, node = make(flops_per_s=10.0)
    caught: list[str] = []

    def job() -> Generator[simpy.Event, Any, None]:
        try:
            yield from compute(sim, node, 100.0, round=1)
        except simpy.Interrupt as interrupt:
            caught.append(str(interrupt.cause))

    interrupt_at(sim, sim.process(job()), 4.0)
    sim.env.run()
    partial, drop = sim.trace.events()
    assert caught == ["deadline"]
    assert (partial.kind, partial.t_start_s, partial.t_end_s) == ("compute", 0.0, 4.0)
    assert partial.flops == pytest.approx(40.0)
    assert json.loads(partial.info) == {"interrupted": True}
    assert (drop.kind, drop.t_start_s, drop.t_end_s, drop.round) == ("drop", 4.0, 4.0, 1)
    assert json.loads(drop.info) == {"what": "compute"}


def test_interrupt_counts_only_available_time_as_work() -> None:
    # on 2 s, off 8 s, 1 FLOP/s: cut at 11 s after working 0-2 and 10-11 -> 3 FLOP done.
    sim, node = make(availability=Availability(2.0, 8.0))

    def job() -> Generator[simpy.Event, Any, None]:
        with pytest.raises(simpy.Interrupt):
            yield from compute(sim, node, 4.0)

    interrupt_at(sim, sim.process(job()), 11.0)
    sim.env.run()
    partial = sim.trace.events()[0]
    assert partial.flops == pytest.approx(3.0)
    assert json.loads(partial.info) == {"interrupted": True, "paused_s": 8.0}


def test_interrupt_during_off_period_keeps_work_done_so_far() -> None:
    sim, node = make(availability=Availability(2.0, 8.0))

    def job() -> Generator[simpy.Event, Any, None]:
        with pytest.raises(simpy.Interrupt):
            yield from compute(sim, node, 4.0)

    interrupt_at(sim, sim.process(job()), 6.0)
    sim.env.run()
    partial = sim.trace.events()[0]
    assert partial.flops == pytest.approx(2.0)
    assert json.loads(partial.info) == {"interrupted": True, "paused_s": 4.0}


def test_interrupted_job_frees_the_node() -> None:
    sim, node = make()

    def victim() -> Generator[simpy.Event, Any, None]:
        with pytest.raises(simpy.Interrupt):
            yield from compute(sim, node, 10.0)

    interrupt_at(sim, sim.process(victim()), 3.0)
    ends = start_jobs(sim, node, [(1.0, 2.0)])
    sim.env.run()
    assert ends == {0: 5.0}


def test_wait_until_advances_clock_and_records_wait() -> None:
    sim = Simulation(EPOCH, 0)
    result = []

    def actor() -> Generator[simpy.Event, Any, None]:
        yield sim.timeout(2.0)
        result.append((yield from wait_until(sim, "sat-3", 7.5, round=2, why="contact")))

    sim.process(actor())
    sim.env.run()
    (event,) = sim.trace.events()
    assert result == [7.5]
    assert (event.kind, event.node, event.t_start_s, event.t_end_s, event.round) == (
        "wait", "sat-3", 2.0, 7.5, 2)
    assert json.loads(event.info) == {"why": "contact"}


def test_wait_until_past_time_is_a_no_op() -> None:
    sim = Simulation(EPOCH, 0)
    result = []

    def actor() -> Generator[simpy.Event, Any, None]:
        yield sim.timeout(5.0)
        result.append((yield from wait_until(sim, "sat-3", 1.0)))

    sim.process(actor())
    sim.env.run()
    assert result == [5.0]
    assert len(sim.trace) == 0


def test_always_available_node_never_records_a_pause() -> None:
    import json
    from datetime import UTC, datetime

    from simfl.engine.actions import compute
    from simfl.engine.node import Node
    from simfl.engine.simulation import Simulation

    sim = Simulation(datetime(2026, 1, 1, tzinfo=UTC), 0)
    node = Node.create(sim.env, "n", "device", 3e9)

    def jobs():  # type: ignore[no-untyped-def]
        yield sim.env.timeout(123456.789)
        for flops in (1.0, 7e9, 1e-3):
            yield from compute(sim, node, flops)

    sim.env.run(until=sim.process(jobs()))
    infos = [json.loads(e.info) if e.info else {} for e in sim.trace.events()]
    assert infos and not any("paused_s" in i for i in infos)
