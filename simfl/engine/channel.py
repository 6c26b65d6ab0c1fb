"""Channels: the SimPy side of a link type, where concurrent transfers meet.

A :class:`Channel` owns one medium (for example all devices' uplinks to the cloud) and
moves bytes over it as configured by its :class:`~simfl.network.link.Link`: dedicated
(no contention), shared (processor sharing: n concurrent flows get rate/n each) or serial
(first-in first-out, one at a time). Every transfer is recorded in the trace.
"""

from __future__ import annotations

from collections.abc import Generator
from typing import Any

import simpy

from simfl.engine.simulation import Simulation
from simfl.network.link import Link

_DONE_BITS = 1e-6


class _ProcessorSharing:
    """Equal sharing of ``rate_bps`` between active flows, rescheduled on every change."""

    def __init__(self, env: simpy.Environment, rate_bps: float) -> None:
        self.env = env
        self.rate_bps = float(rate_bps)
        self.flows: list[list[Any]] = []  # [remaining_bits, event]
        self.last_s = 0.0
        self.generation = 0

    def transmit(self, nbits: float) -> simpy.Event:
        self._advance()
        done = self.env.event()
        self.flows.append([float(nbits), done])
        self._reschedule()
        return done

    def _advance(self) -> None:
        now = float(self.env.now)
        if self.flows:
            per_flow_bits = self.rate_bps * (now - self.last_s) / len(self.flows)
            for flow in self.flows:
                flow[0] -= per_flow_bits
            finished = [f for f in self.flows if f[0] <= _DONE_BITS]
            self.flows = [f for f in self.flows if f[0] > _DONE_BITS]
            for flow in finished:
                flow[1].succeed()
        self.last_s = now

    def _reschedule(self) -> None:
        self.generation += 1
        if not self.flows:
            return
        generation = self.generation
        smallest_bits = min(f[0] for f in self.flows)
        delay_s = max(0.0, smallest_bits * len(self.flows) / self.rate_bps)

        def wake(_event: simpy.Event) -> None:
            if generation == self.generation:
                self._advance()
                self._reschedule()

        self.env.timeout(delay_s).callbacks.append(wake)


class Channel:
    """Transfers over one link type, timed by latency, rate and sharing of the medium.

    Parameters
    ----------
    sim
        The simulation (clock and trace).
    name
        Link type name recorded in the trace ``info`` (``device_cloud_up``, ...).
    link
        Latency, rate and sharing.
    """

    def __init__(self, sim: Simulation, name: str, link: Link) -> None:
        self.sim = sim
        self.name = name
        self.link = link
        self._serial = simpy.Resource(sim.env, capacity=1) if link.sharing == "serial" else None
        self._shared = (
            _ProcessorSharing(sim.env, link.rate_bps) if link.sharing == "shared" else None
        )

    def send(
        self, src: str, dst: str, nbytes: int, *, round: int = -1, **info: Any
    ) -> Generator[simpy.Event, Any, float]:
        """Move ``nbytes`` from ``src`` to ``dst``; a SimPy generator returning the end time.

        The transfer pays the latency, then its bytes through the medium. If interrupted,
        the bytes moved so far are not delivered and the event is recorded as a drop.
        """
        env = self.sim.env
        t_start = float(env.now)
        nbits = 8.0 * nbytes
        queued_s = 0.0
        try:
            yield env.timeout(self.link.latency_s)
            if self._shared is not None:
                yield self._shared.transmit(nbits)
            elif self._serial is not None:
                with self._serial.request() as slot:
                    t_queue = float(env.now)
                    yield slot
                    queued_s = float(env.now) - t_queue
                    yield env.timeout(nbits / self.link.rate_bps)
            else:
                yield env.timeout(nbits / self.link.rate_bps)
        except simpy.Interrupt:
            self.sim.trace.record("drop", src, t_start, float(env.now), peer=dst, round=round,
                                  link=self.name, what="transfer", **info)
            raise
        t_end = float(env.now)
        extra = {"queued_s": queued_s} if queued_s > 0 else {}
        self.sim.trace.record("transfer", src, t_start, t_end, peer=dst, nbytes=nbytes,
                              round=round, link=self.name, **extra, **info)
        return t_end
