"""The ``groups`` section: clients in groups, each with a server (edge servers, teams, zones).

Hierarchical FedAvg's edge servers, PerMFL's teams and SGFusion's zones are all groups of
clients with a server; FedMeld's ground regions are groups whose server is whichever satellite
passes overhead (they come from ``space.regions``). ``assignment: region`` gives any other
algorithm with group servers one group per space region, its edge server at the region.
Links: clients to their group's server over ``network.device_edge`` (one access medium per
group), servers to the cloud over ``network.edge_cloud``, server to server over
``network.edge_edge`` with a latency from the great-circle distance where groups have
positions.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from simfl.scenario import rules

ASSIGNMENTS = ("contiguous", "round_robin", "random", "explicit", "file", "label_clusters",
               "region", "zones")


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class GroupPositionConfig(_Section):
    """Where a group's server stands on the ground."""

    lat_deg: float = Field(ge=-90, le=90)
    lon_deg: float = Field(ge=-180, lt=360)


class GroupsConfig(_Section):
    """How clients form groups with a server each (used by algorithms with groups).

    ``assignment``: ``contiguous`` blocks of client indices (the default), ``round_robin``,
    ``random`` (blocks of a random permutation), ``explicit`` lists in ``members``, a
    ``file`` (CSV ``client,group``), ``label_clusters`` (k-means over the clients' label
    histograms: groups of similar data), ``region`` (the regions of the space section) or
    ``zones`` (the geographic zones of a ``geo_workouts`` or ``fitrec`` dataset: one group per
    zone with users, named after it, at its centroid).
    """

    count: int | None = Field(None, gt=0)
    assignment: Literal["contiguous", "round_robin", "random", "explicit", "file",
                        "label_clusters", "region", "zones"] = "contiguous"
    members: list[list[int]] | None = None
    file: Path | None = None
    names: list[str] | None = None
    positions: list[GroupPositionConfig] | None = None

    @model_validator(mode="after")
    def _consistent(self) -> GroupsConfig:
        messages = rules.groups_section_rule(
            self.assignment, self.count, self.members, self.file,
            None if self.names is None else len(self.names),
            None if self.positions is None else len(self.positions))
        if self.names is not None:
            messages += rules.unique_group_names_rule(self.names)
        if messages:
            raise ValueError(rules.RULE_SEPARATOR.join(messages))
        return self

    @property
    def default_count(self) -> int:
        """Return the number of groups when nothing else fixes it: ``count``, else 4."""
        if self.members is not None:
            return len(self.members)
        return self.count if self.count is not None else rules.DEFAULT_GROUP_COUNT
