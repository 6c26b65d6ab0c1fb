"""Per-algorithm scenario sections, told apart by ``algorithm.name``."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from simfl.scenario.units import DurationS


class _AlgorithmSection(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    rounds: int = Field(50, gt=0)
    eval_every_rounds: int = Field(1, gt=0)


class FedAvgConfig(_AlgorithmSection):
    """FedAvg (McMahan et al., 2017): sampled clients, sample-weighted averaging."""

    name: Literal["fedavg"]
    clients_per_round: int = Field(10, gt=0)
    deadline_s: DurationS | None = Field(None, gt=0)


class HierarchicalConfig(_AlgorithmSection):
    """Hierarchical FedAvg: devices -> edge servers -> cloud, edge rounds per cloud round."""

    name: Literal["hierarchical"]
    edges: int = Field(4, gt=0)
    edge_rounds: int = Field(2, gt=0)
    clients_per_edge_round: int | None = Field(None, gt=0)
    deadline_s: DurationS | None = Field(None, gt=0)
    edge_assignment: Literal["contiguous", "round_robin"] = "contiguous"


AlgorithmConfig = Annotated[FedAvgConfig | HierarchicalConfig, Field(discriminator="name")]
"""Any algorithm section; pydantic picks the class by ``name``."""

ALGORITHM_NAMES = ("fedavg", "hierarchical")
