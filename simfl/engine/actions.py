"""Engine primitives that spend simulated time on a node: compute and wait.

Each is a SimPy generator: algorithms ``yield from`` them inside their processes.
Transfers live on :class:`simfl.engine.channel.Channel`; contact waits on the contact
schedule (:mod:`simfl.engine.contacts`).
"""

from __future__ import annotations

from collections.abc import Generator
from typing import Any

import simpy

from simfl.engine.node import Node
from simfl.engine.simulation import Simulation


def compute(
    sim: Simulation, node: Node, flops: float, *, round: int = -1, **info: Any
) -> Generator[simpy.Event, Any, float]:
    """Run ``flops`` of work on ``node``; a SimPy generator returning the end time (s).

    Waits for the node to be free (one job at a time), then for it to be available; work
    pauses during off-periods. Interrupted work is recorded as a partial compute plus a
    drop, and the interrupt propagates.
    """
    env = sim.env
    t_request = float(env.now)
    with node.busy.request() as slot:
        yield slot
        start = float(env.now)
        busy_s = float(flops) / node.flops_per_s
        if node.availability is None:
            end = start + busy_s
        else:
            end = node.availability.finish_time_s(start, busy_s)
        extra: dict[str, Any] = {}
        if start > t_request:
            extra["queued_s"] = start - t_request
        if node.availability is not None and end - start > busy_s + 1e-9:
            extra["paused_s"] = end - start - busy_s
        try:
            yield env.timeout(end - start)
        except simpy.Interrupt:
            now = float(env.now)
            worked_s = _on_time_s(node, start, now)
            done_flops = flops * worked_s / busy_s if busy_s > 0 else 0.0
            partial: dict[str, Any] = {k: v for k, v in extra.items() if k == "queued_s"}
            if now - start > worked_s * (1 + 1e-12):
                partial["paused_s"] = now - start - worked_s
            sim.trace.record("compute", node.name, start, now, flops=done_flops, round=round,
                             interrupted=True, **partial, **info)
            sim.trace.record("drop", node.name, now, now, round=round, what="compute", **info)
            raise
    sim.trace.record("compute", node.name, start, end, flops=flops, round=round, **extra, **info)
    return end


def _on_time_s(node: Node, t0_s: float, t1_s: float) -> float:
    """Return the seconds in ``[t0_s, t1_s]`` during which ``node`` was available."""
    if node.availability is None:
        return t1_s - t0_s
    on_s = 0.0
    t = t0_s
    while t < t1_s:
        start, end = node.availability.on_interval(t)
        if start >= t1_s:
            break
        on_s += min(end, t1_s) - max(start, t)
        t = end
    return on_s


def wait_until(
    sim: Simulation, node: str, t_s: float, *, round: int = -1, **info: Any
) -> Generator[simpy.Event, Any, float]:
    """Wait until simulated time ``t_s`` (no-op if already past) and record the wait."""
    start = float(sim.env.now)
    if t_s > start:
        yield sim.env.timeout(t_s - start)
        sim.trace.record("wait", node, start, t_s, round=round, **info)
    return float(sim.env.now)
