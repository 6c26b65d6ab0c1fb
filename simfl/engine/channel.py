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
from simfl.engine.transfer import Delivery
from simfl.network.link import Link


class _ProcessorSharing:
    """Equal sharing of ``rate_bps`` between active flows, rescheduled on every change.

    Progress is kept as the service each active flow has received so far (``service_bits``,
    equal for all of them); a flow is done when the service reaches its ``finish_bits``.
    A wake-up completes the flows it was scheduled for even when rounding of the clock left
    a few bits, so the medium never stalls at one instant.
    """

    def __init__(self, env: simpy.Environment, rate_bps: float) -> None:
        self.env = env
        self.rate_bps = float(rate_bps)
        self.flows: list[tuple[float, simpy.Event]] = []  # (finish_bits, done event)
        self.service_bits = 0.0
        self.last_s = 0.0
        self.generation = 0

    def transmit(self, nbits: float) -> simpy.Event:
        """Return an event that fires once ``nbits`` more bits went through the medium."""
        self._advance()
        done = self.env.event()
        self.flows.append((self.service_bits + float(nbits), done))
        self._reschedule()
        return done

    def cancel(self, done: simpy.Event) -> None:
        """Remove the flow of ``done`` (an interrupted transfer): it stops taking a share."""
        self._advance()
        self.flows = [f for f in self.flows if f[1] is not done]
        self._reschedule()

    def _advance(self) -> None:
        now = float(self.env.now)
        if self.flows:
            self.service_bits += self.rate_bps * (now - self.last_s) / len(self.flows)
        else:
            self.service_bits = 0.0
        self.last_s = now

    def _complete(self, target_bits: float) -> None:
        self.service_bits = max(self.service_bits, target_bits)
        finished = [f for f in self.flows if f[0] <= self.service_bits]
        self.flows = [f for f in self.flows if f[0] > self.service_bits]
        for _finish_bits, done in finished:
            done.succeed()

    def _reschedule(self) -> None:
        self.generation += 1
        self._complete(self.service_bits)  # zero-byte flows finish at once
        if not self.flows:
            return
        generation = self.generation
        target_bits = min(f[0] for f in self.flows)
        delay_s = (target_bits - self.service_bits) * len(self.flows) / self.rate_bps

        def wake(_event: simpy.Event) -> None:
            if generation == self.generation:
                self._advance()
                self._complete(target_bits)
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
    ) -> Generator[simpy.Event, Any, Delivery]:
        """Move ``nbytes`` from ``src`` to ``dst``; a SimPy generator returning the delivery.

        The transfer pays the latency, then its bytes through the medium. If interrupted,
        the bytes moved so far are not delivered and the event is recorded as a drop.
        """
        env = self.sim.env
        t_start = float(env.now)
        nbits = 8.0 * nbytes
        queued_s = 0.0
        flow: simpy.Event | None = None
        try:
            yield env.timeout(self.link.latency_s)
            if self._shared is not None:
                flow = self._shared.transmit(nbits)
                yield flow
            elif self._serial is not None:
                with self._serial.request() as slot:
                    t_queue = float(env.now)
                    yield slot
                    queued_s = float(env.now) - t_queue
                    yield env.timeout(nbits / self.link.rate_bps)
            else:
                yield env.timeout(nbits / self.link.rate_bps)
        except simpy.Interrupt:
            if self._shared is not None and flow is not None and not flow.triggered:
                self._shared.cancel(flow)
            self.sim.trace.record("drop", src, t_start, float(env.now), peer=dst, round=round,
                                  link=self.name, what="transfer", reason="deadline", **info)
            raise
        t_end = float(env.now)
        extra = {"queued_s": queued_s} if queued_s > 0 else {}
        self.sim.trace.record("transfer", src, t_start, t_end, peer=dst, nbytes=nbytes,
                              round=round, link=self.name, **extra, **info)
        return Delivery(True, t_end, int(nbytes))
