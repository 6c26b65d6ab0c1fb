"""The event engine: the clock, RNG streams, trace, and the primitives algorithms yield."""

from simfl.engine.actions import compute, wait_until
from simfl.engine.channel import Channel
from simfl.engine.contact_schedule import ContactSchedule, Window, wait_contact
from simfl.engine.metrics import Metrics
from simfl.engine.node import Node
from simfl.engine.simulation import Simulation, stream_seed
from simfl.engine.space_link import SpaceLink
from simfl.engine.trace import EVENT_KINDS, TRACE_COLUMNS, Trace, TraceEvent

__all__ = [
    "EVENT_KINDS", "TRACE_COLUMNS", "Channel", "ContactSchedule", "Metrics", "Node",
    "Simulation", "SpaceLink", "Trace", "TraceEvent", "Window", "compute", "stream_seed",
    "wait_contact", "wait_until",
]
