"""Tests of simfl.engine.node: nodes and their busy resource."""

from __future__ import annotations

import pytest
import simpy

from simfl.devices.availability import Availability
from simfl.engine.node import Node


def test_create_binds_a_capacity_one_resource_to_env() -> None:
    env = simpy.Environment()
    node = Node.create(env, "client-0", "device", 2e9)
    assert node.busy.capacity == 1
    assert node.busy._env is env
    assert (node.name, node.kind, node.flops_per_s) == ("client-0", "device", 2e9)


def test_create_stores_flops_as_float_and_availability() -> None:
    availability = Availability(10.0, 5.0)
    node = Node.create(simpy.Environment(), "sat-0", "satellite", 3, availability)
    assert isinstance(node.flops_per_s, float)
    assert node.availability is availability


def test_nodes_have_separate_resources_and_info() -> None:
    env = simpy.Environment()
    a = Node.create(env, "a", "edge", 1.0)
    b = Node.create(env, "b", "edge", 1.0)
    a.info["region"] = 3
    assert a.busy is not b.busy
    assert b.info == {}


@pytest.mark.parametrize("flops_per_s", [0.0, -1.0])
def test_non_positive_speed_is_rejected(flops_per_s: float) -> None:
    with pytest.raises(ValueError, match="node cloud: flops_per_s must be > 0"):
        Node.create(simpy.Environment(), "cloud", "cloud", flops_per_s)
