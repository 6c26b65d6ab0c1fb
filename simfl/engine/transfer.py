"""One transfer interface for every link kind: ``send`` and its outcome, :class:`Delivery`.

A terrestrial :class:`~simfl.engine.channel.Channel`, a ground-satellite pass
(:meth:`simfl.engine.space_link.SpaceLink.bound`) and any future link kind implement
:class:`Transport`; an algorithm sends over any of them the same way::

    delivery = yield from link.send(src, dst, nbytes, round=r)
    if not delivery.delivered:
        ...  # cut at a window's end, or no contact left: delivery.bytes_delivered got through

An interrupt of the sending process (a deadline) still propagates as ``simpy.Interrupt``
after the link recorded a ``drop`` event.
"""

from __future__ import annotations

from collections.abc import Generator
from dataclasses import dataclass
from typing import Any, Protocol

import simpy


@dataclass(frozen=True)
class Delivery:
    """The outcome of one transfer.

    Attributes
    ----------
    delivered
        True when every byte arrived.
    t_end_s
        Simulated time at which the transfer ended (delivered, or given up).
    bytes_delivered
        Bytes that got through: all of them when delivered, a part when cut.
    reason
        Why it was not delivered (``"window closed"``, ``"no further contact in the
        plan"``), None when delivered.
    """

    delivered: bool
    t_end_s: float
    bytes_delivered: int
    reason: str | None = None


class Transport(Protocol):
    """What every link kind offers: a name (recorded in the trace) and ``send``."""

    name: str

    def send(
        self, src: str, dst: str, nbytes: int, *, round: int = -1, **info: Any
    ) -> Generator[simpy.Event, Any, Delivery]:
        """Move ``nbytes`` from ``src`` to ``dst``; a SimPy generator returning the outcome."""
        ...
