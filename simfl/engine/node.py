"""Nodes of the simulated world: devices, edge servers, satellites, ground stations, cloud."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import simpy

from simfl.devices.availability import Availability

NodeKind = Literal["device", "edge", "cloud", "satellite", "ground_station"]


@dataclass
class Node:
    """A named node that can compute (one job at a time) and send and receive.

    Attributes
    ----------
    name
        Unique node id used in the trace (``client-3``, ``edge-0``, ``cloud``, ...).
    kind
        What the node is.
    flops_per_s
        Sustained compute speed.
    availability
        On/off periods, or None when always available.
    busy
        SimPy resource of capacity 1: a node runs one compute job at a time, others queue.
    """

    name: str
    kind: NodeKind
    flops_per_s: float
    busy: simpy.Resource
    availability: Availability | None = None
    info: dict[str, object] = field(default_factory=dict)

    @classmethod
    def create(
        cls,
        env: simpy.Environment,
        name: str,
        kind: NodeKind,
        flops_per_s: float,
        availability: Availability | None = None,
    ) -> Node:
        """Return a node bound to ``env`` with its own busy resource."""
        if flops_per_s <= 0:
            raise ValueError(f"node {name}: flops_per_s must be > 0, got {flops_per_s}")
        return cls(name=name, kind=kind, flops_per_s=float(flops_per_s),
                   busy=simpy.Resource(env, capacity=1), availability=availability)
