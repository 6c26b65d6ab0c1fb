"""Per-algorithm scenario sections, told apart by ``algorithm.name``."""

from __future__ import annotations

import math
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


class _SpaceSection(BaseModel):
    """Common settings of algorithms over the space-ground world (time-budgeted)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    duration_s: DurationS = Field(12 * 3600.0, gt=0)
    eval_every_s: DurationS = Field(1800.0, gt=0)
    clients_per_round: int | None = Field(None, gt=0)
    min_window_s: DurationS = Field(0.0, ge=0)

    @property
    def rounds(self) -> int:
        """Return the number of evaluation ticks (the progress bar's length)."""
        return max(1, math.ceil(self.duration_s / self.eval_every_s))


class ScfConfig(BaseModel):
    """How store-carry-forward satellites are chosen."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    per_plane: int = Field(1, gt=0)
    max_count: int | None = Field(None, gt=0)


class FedMeldConfig(_SpaceSection):
    """FedMeld (arXiv 2412.17231): store-carry-forward satellites mix region models."""

    name: Literal["fedmeld"]
    mixing_ratio: float = Field(0.5, ge=0, le=1)
    round_interval: int = Field(1, gt=0)
    scf: ScfConfig = ScfConfig()


class IsolatedConfig(_SpaceSection):
    """Isolated regions: per-region FL through serving satellites, no mixing at all."""

    name: Literal["isolated"]


class SpaceHflConfig(_SpaceSection):
    """HFL: region models reach a cloud through ground stations during real passes."""

    name: Literal["space_hfl"]
    region_rounds_per_global: int = Field(1, gt=0)


class RingAllreduceConfig(_SpaceSection):
    """Ring-Allreduce over inter-satellite links between the satellites serving the regions."""

    name: Literal["ring_allreduce"]


class ParallelFlConfig(_SpaceSection):
    """Parallel FL: serving satellites gossip region models with neighbours over ISLs."""

    name: Literal["parallel_fl"]
    neighbours: int = Field(1, gt=0)


SPACE_ALGORITHM_NAMES = ("fedmeld", "isolated", "space_hfl", "ring_allreduce", "parallel_fl")

AlgorithmConfig = Annotated[
    FedAvgConfig | HierarchicalConfig | FedMeldConfig | IsolatedConfig | SpaceHflConfig
    | RingAllreduceConfig | ParallelFlConfig,
    Field(discriminator="name"),
]
"""Any algorithm section; pydantic picks the class by ``name``."""

ALGORITHM_NAMES = ("fedavg", "hierarchical", *SPACE_ALGORITHM_NAMES)
