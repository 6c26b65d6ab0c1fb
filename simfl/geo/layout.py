"""Which zone each client of a dataset lives in: the layout zone groups are built from.

A :class:`ZoneLayout` is what a geographic dataset (generated workouts, FitRec) tells the
rest of a run about space: the zones that have clients, each client's zone, each zone's
country and, for generated data, the hidden hierarchy of zone behaviours (to check a fitted
SGFusion HRG against).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from simfl.errors import SimflError
from simfl.geo.zones import Zone, check_zones


@dataclass(frozen=True, eq=False)
class ZoneLayout:
    """Zones with clients and the zone of every client.

    Attributes
    ----------
    zones
        The zones that have at least one client, in the dataset's zone order.
    client_zone
        Zone name of each client, by client index.
    country_of
        ``{zone name: country}`` where known (empty otherwise).
    hierarchy
        The true tree of zone behaviours as nested two-element lists of zone names
        (generated data only; None otherwise). It may name zones without clients.
    """

    zones: tuple[Zone, ...]
    client_zone: tuple[str, ...]
    country_of: dict[str, str] = field(default_factory=dict)
    hierarchy: Any = None

    def __post_init__(self) -> None:
        check_zones(self.zones)
        names = {z.name for z in self.zones}
        unknown = sorted(set(self.client_zone) - names)
        if unknown:
            raise SimflError(f"clients are in zones {unknown[:5]} that the layout lacks; "
                             f"its zones are {sorted(names)[:5]}...")
        empty = sorted(names - set(self.client_zone))
        if empty:
            raise SimflError(f"zones {empty[:5]} have no client; leave them out of the layout")

    @property
    def names(self) -> list[str]:
        """Return the zone names in order."""
        return [z.name for z in self.zones]

    def members(self) -> list[list[int]]:
        """Return the client indices of every zone, in zone order (each list sorted)."""
        index = {name: k for k, name in enumerate(self.names)}
        out: list[list[int]] = [[] for _ in self.zones]
        for i, name in enumerate(self.client_zone):
            out[index[name]].append(i)
        return out


def layout_of(zones: Sequence[Zone], client_zone: Sequence[str],
              country_of: dict[str, str] | None = None, hierarchy: Any = None) -> ZoneLayout:
    """Return the layout of the clients over ``zones``, keeping only zones with clients."""
    used = set(client_zone)
    return ZoneLayout(tuple(z for z in zones if z.name in used), tuple(client_zone),
                      dict(country_of or {}), hierarchy)
