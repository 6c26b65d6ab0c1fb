"""Tests of simfl.geo.layout: zones with clients and each client's zone."""

from __future__ import annotations

import pytest

from simfl.errors import SimflError
from simfl.geo import GridCell, Zone
from simfl.geo.layout import ZoneLayout, layout_of

ZONES = [Zone(n, GridCell(0.0, 1.0, float(k), k + 1.0)) for k, n in enumerate("abc")]


def test_layout_keeps_only_zones_with_clients_in_zone_order() -> None:
    layout = layout_of(ZONES, ["c", "a", "c"])
    assert layout.names == ["a", "c"]
    assert layout.members() == [[1], [0, 2]]


def test_a_client_outside_the_zones_is_refused() -> None:
    with pytest.raises(SimflError, match=r"zones \['x'\] that the layout lacks"):
        ZoneLayout(tuple(ZONES), ("a", "x", "b", "c"))


def test_an_empty_zone_is_refused() -> None:
    with pytest.raises(SimflError, match=r"zones \['c'\] have no client"):
        ZoneLayout(tuple(ZONES), ("a", "b"))
