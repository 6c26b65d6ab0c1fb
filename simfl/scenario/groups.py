"""Client groups of a world: which clients, which server, where, and the links between them.

One concept for edge servers (hierarchical FedAvg), teams (PerMFL), zones (SGFusion) and
ground regions (FedMeld): a :class:`ClientGroup` is clients with a server. Built from the
scenario's ``groups`` section, or from ``space.regions`` (assignment ``region``).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from simfl.engine.channel import Channel
from simfl.engine.node import Node
from simfl.engine.simulation import Simulation
from simfl.errors import ScenarioError, SimflError
from simfl.learning.grouping import (
    contiguous_groups,
    explicit_groups,
    label_cluster_groups,
    label_histograms,
    random_groups,
    read_group_file,
    round_robin_groups,
)
from simfl.network.link import Link
from simfl.orbits.regions import great_circle_km

if TYPE_CHECKING:
    from simfl.geo.layout import ZoneLayout
    from simfl.learning.client_data import ClientData
    from simfl.scenario.schema import Scenario


@dataclass
class ClientGroup:
    """Clients with a server.

    Attributes
    ----------
    name
        The group's name; its server node has the same name (``edge-0`` ...), except for
        space regions of an algorithm over satellites, whose server is whichever satellite
        serves them.
    clients
        Client indices, sorted.
    server
        The server node's name, or None when satellites serve the group.
    position_deg
        ``(lat_deg, lon_deg)`` of the server, or None.
    down, up
        The group's access medium between its server and its clients (None for regions,
        whose links are contact-limited satellite passes).
    """

    name: str
    clients: list[int]
    server: str | None = None
    position_deg: tuple[float, float] | None = None
    down: Channel | None = None
    up: Channel | None = None


@dataclass
class ClientGroups:
    """The groups of a world and the server-to-server links between them."""

    groups: list[ClientGroup]
    sim: Simulation
    peer: Link | None = None
    propagation_km_per_s: float = 200_000.0
    _peer_links: dict[tuple[str, str], Channel] = field(default_factory=dict)

    def __iter__(self) -> Iterator[ClientGroup]:
        return iter(self.groups)

    def __len__(self) -> int:
        return len(self.groups)

    def __getitem__(self, index: int) -> ClientGroup:
        return self.groups[index]

    @property
    def names(self) -> list[str]:
        """Return the group names in order."""
        return [g.name for g in self.groups]

    def by_name(self, name: str) -> ClientGroup:
        """Return the group called ``name``."""
        for g in self.groups:
            if g.name == name:
                return g
        raise KeyError(f"no group {name!r}; groups are {', '.join(self.names)}")

    def group_of(self) -> dict[int, int]:
        """Return the group index of every client."""
        return {i: j for j, g in enumerate(self.groups) for i in g.clients}

    def distance_km(self, a: str, b: str) -> float:
        """Return the great-circle distance between two groups' positions (0 without them)."""
        pa, pb = self.by_name(a).position_deg, self.by_name(b).position_deg
        if pa is None or pb is None:
            return 0.0
        return float(great_circle_km(pa[0], pa[1], pb[0], pb[1]))

    def peer_link(self, a: str, b: str) -> Channel:
        """Return the channel from group ``a``'s server to group ``b``'s (``edge_edge``).

        Its latency is the configured fixed part plus the great-circle distance at the
        propagation speed; one channel per ordered pair.
        """
        key = (a, b)
        channel = self._peer_links.get(key)
        if channel is None:
            if self.peer is None:
                raise SimflError("these groups have no server-to-server links")
            latency_s = self.peer.latency_s + self.distance_km(a, b) / self.propagation_km_per_s
            channel = Channel(self.sim, "edge_edge",
                              Link(latency_s, self.peer.rate_bps, self.peer.sharing))
            self._peer_links[key] = channel
        return channel


def assign_clients(
    scenario: Scenario, clients: Sequence[ClientData], num_classes: int,
    rng: np.random.Generator, regions: dict[str, list[int]] | None = None,
    layout: ZoneLayout | None = None,
) -> tuple[list[str], list[list[int]]]:
    """Return (group names, client indices per group) as ``scenario.groups`` says.

    ``regions`` are the space world's region members (assignment ``region``), ``layout``
    the dataset's zones (assignment ``zones``).
    """
    cfg = scenario.groups
    n = len(clients)
    count = cfg.default_count
    names: list[str] | None = list(cfg.names) if cfg.names is not None else None
    if cfg.assignment == "region":
        if regions is None:
            raise ScenarioError("groups.assignment: 'region' needs a space section with regions")
        return list(regions), [sorted(m) for m in regions.values()]
    if cfg.assignment == "zones":
        if layout is None:
            raise ScenarioError("groups.assignment: 'zones' needs a dataset of users in zones "
                                "(data.dataset geo_workouts or fitrec)")
        return names or layout.names, layout.members()
    if cfg.assignment == "file":
        assert cfg.file is not None
        file_names, members = read_group_file(cfg.file, n)
        counts = (("names", cfg.names), ("positions", cfg.positions))
        problems = [f"groups.{what}: {len(given)} {what} for {len(members)} groups (the groups "
                    f"of {cfg.file}); give one per group, in the order the file names them"
                    for what, given in counts if given is not None and len(given) != len(members)]
        if problems:
            raise ScenarioError(problems)
        return names or file_names, members
    if cfg.assignment == "explicit":
        assert cfg.members is not None
        members = explicit_groups(cfg.members, n)
    elif cfg.assignment == "round_robin":
        members = round_robin_groups(n, count)
    elif cfg.assignment == "random":
        members = random_groups(n, count, rng)
    elif cfg.assignment == "label_clusters":
        hist = label_histograms([c.labels for c in clients], num_classes)
        members = label_cluster_groups(hist, count, rng)
    else:
        members = contiguous_groups(n, count)
    return names or [f"edge-{j}" for j in range(len(members))], members


def build_groups(
    scenario: Scenario,
    sim: Simulation,
    clients: Sequence[ClientData],
    num_classes: int,
    nodes: dict[str, Node],
    regions: dict[str, list[int]] | None = None,
    region_positions: dict[str, tuple[float, float]] | None = None,
    layout: ZoneLayout | None = None,
    *,
    satellites_serve: bool = True,
) -> ClientGroups:
    """Return the world's client groups; add their server nodes to ``nodes``.

    Each group with a server gets its own access medium over ``network.device_edge`` (the
    link type names in the trace stay ``device_edge_up``/``device_edge_down``). Region groups
    (assignment ``region``) have no server when ``satellites_serve``; otherwise each gets an
    edge server at its region's position. Zone groups stand at their zone's position unless
    ``groups.positions`` says otherwise.
    """
    names, members = assign_clients(scenario, clients, num_classes, sim.rng("groups"), regions,
                                    layout)
    cfg = scenario.groups
    net = scenario.network
    by_region = regions is not None and cfg.assignment == "region"
    groups: list[ClientGroup] = []
    for j, (name, group_members) in enumerate(zip(names, members, strict=True)):
        if by_region and satellites_serve:
            pos = (region_positions or {}).get(name)
            groups.append(ClientGroup(name, group_members, None, pos))
            continue
        if name in nodes:
            raise ScenarioError(f"groups.names: {name!r} would name two nodes (a device, a "
                                "satellite or the cloud); rename the group")
        nodes[name] = Node.create(sim.env, name, "edge", scenario.servers.edge_flops_per_s)
        position = cfg.positions[j] if cfg.positions is not None else None
        where = ((position.lat_deg, position.lon_deg) if position is not None
                 else (region_positions or {}).get(name))
        if where is None and layout is not None and cfg.assignment == "zones":
            where = (layout.zones[j].lat_deg, layout.zones[j].lon_deg)
        link = net.device_edge
        groups.append(ClientGroup(
            name, group_members, name, where,
            Channel(sim, "device_edge_down", Link(link.latency_s, link.down_rate_bps,
                                                  link.sharing)),
            Channel(sim, "device_edge_up", Link(link.latency_s, link.up_rate_bps,
                                                link.sharing))))
    peer = net.edge_edge
    return ClientGroups(groups, sim, Link(peer.latency_s, peer.rate_bps, peer.sharing),
                        peer.propagation_km_per_s)
