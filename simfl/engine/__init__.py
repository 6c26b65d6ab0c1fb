"""The event engine: the clock, RNG streams, trace, and the primitives algorithms yield."""

from simfl.engine.actions import compute, wait_until
from simfl.engine.channel import Channel
from simfl.engine.metrics import Metrics
from simfl.engine.node import Node
from simfl.engine.simulation import Simulation, stream_seed
from simfl.engine.trace import EVENT_KINDS, TRACE_COLUMNS, Trace, TraceEvent

__all__ = [
    "EVENT_KINDS", "TRACE_COLUMNS", "Channel", "Metrics", "Node", "Simulation", "Trace",
    "TraceEvent", "compute", "stream_seed", "wait_until",
]
