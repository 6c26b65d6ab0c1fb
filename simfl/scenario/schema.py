"""The scenario schema: every section a scenario YAML may have, validated by pydantic.

Unknown keys are rejected (``extra="forbid"``). Quantities accept units (see
:mod:`simfl.scenario.units`). Scenario files should contain only what differs from these
defaults, each line with a comment saying why.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from simfl.scenario.algorithm_configs import (
    SPACE_ALGORITHM_NAMES,
    AlgorithmConfig,
    FedAvgConfig,
)
from simfl.scenario.space_schema import SpaceConfig
from simfl.scenario.units import DurationS, FlopsPerS, RateBps


class Section(BaseModel):
    """Base of every scenario section: unknown keys are errors, values are immutable."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class SyntheticConfig(Section):
    """FedProx Synthetic(alpha, beta): alpha spreads the models, beta the inputs."""

    alpha: float = Field(0.5, ge=0)
    beta: float = Field(0.5, ge=0)
    num_features: int = Field(60, gt=0)
    num_classes: int = Field(10, ge=2)


class DataConfig(Section):
    """Which dataset, where its files are, and how much is held out for testing."""

    dataset: Literal["digits", "synthetic", "mnist", "fashion-mnist", "cifar10"] = "digits"
    path: Path | None = None
    test_fraction: float = Field(0.2, gt=0, lt=1)
    split_seed: int | None = None
    synthetic: SyntheticConfig = SyntheticConfig()

    @model_validator(mode="after")
    def _path_when_needed(self) -> DataConfig:
        if self.dataset in ("mnist", "fashion-mnist", "cifar10") and self.path is None:
            raise ValueError(
                f"dataset {self.dataset!r} is read from files: set data.path to the directory "
                "that holds them (the built-in datasets are 'digits' and 'synthetic')"
            )
        return self


class PartitionConfig(Section):
    """How samples are split among clients (ignored by 'synthetic', which is per client)."""

    scheme: Literal["iid", "dirichlet", "labels_per_client", "groups", "region_dirichlet"] = (
        "dirichlet")
    num_clients: int = Field(100, gt=0)
    alpha: float = Field(0.5, gt=0)
    labels_per_client: int = Field(2, gt=0)
    groups: list[list[int]] | None = None
    min_samples_per_client: int = Field(1, ge=1)

    @model_validator(mode="after")
    def _groups_given(self) -> PartitionConfig:
        if self.scheme == "groups" and not self.groups:
            raise ValueError(
                "scheme 'groups' needs groups: a list of label lists, e.g. [[0, 1], [2, 3]]"
            )
        return self


class ModelConfig(Section):
    """The model architecture every client trains."""

    kind: Literal["logreg", "mlp", "cnn", "gru", "lstm"] = "mlp"
    hidden: list[Annotated[int, Field(gt=0)]] = [64, 64]


class TrainingConfig(Section):
    """Local training on each client: optimizer and how much work per update."""

    optimizer: Literal["sgd", "adam"] = "sgd"
    lr: float = Field(0.05, gt=0)
    momentum: float = Field(0.0, ge=0, lt=1)
    weight_decay: float = Field(0.0, ge=0)
    epochs: int | None = Field(1, gt=0)
    steps: int | None = Field(None, gt=0)
    batch_size: int = Field(32, gt=0)

    @model_validator(mode="after")
    def _epochs_xor_steps(self) -> TrainingConfig:
        if (self.epochs is None) == (self.steps is None):
            raise ValueError(
                "set exactly one of training.epochs and training.steps "
                "(set the other to null)"
            )
        return self


class ComputeConfig(Section):
    """Device speeds: fixed, or drawn per device from a distribution."""

    distribution: Literal["fixed", "lognormal", "uniform"] = "lognormal"
    flops_per_s: FlopsPerS = Field(2e9, gt=0)
    sigma: float = Field(0.5, ge=0)
    low_flops_per_s: FlopsPerS = Field(5e8, gt=0)
    high_flops_per_s: FlopsPerS = Field(4e9, gt=0)


class AvailabilityConfig(Section):
    """On/off periods of devices (periodic with a random phase, or random exponential)."""

    on_s: DurationS = Field(gt=0)
    off_s: DurationS = Field(ge=0)
    random: bool = False


class DevicesConfig(Section):
    """The clients' hardware."""

    compute: ComputeConfig = ComputeConfig()
    availability: AvailabilityConfig | None = None


class ServersConfig(Section):
    """Speeds of the aggregators (edge servers and cloud)."""

    edge_flops_per_s: FlopsPerS = Field(5e10, gt=0)
    cloud_flops_per_s: FlopsPerS = Field(1e12, gt=0)


class LinkConfig(Section):
    """One link type: latency, up and down rates, and how concurrent transfers share it."""

    latency_s: DurationS = Field(0.05, ge=0)
    up_rate_bps: RateBps = Field(5e6, gt=0)
    down_rate_bps: RateBps = Field(20e6, gt=0)
    sharing: Literal["dedicated", "shared", "serial"] = "shared"


class NetworkConfig(Section):
    """Links between tiers, and the dtype models are sent in."""

    device_cloud: LinkConfig = LinkConfig()
    device_edge: LinkConfig = LinkConfig(latency_s=0.01, up_rate_bps=20e6, down_rate_bps=50e6)
    edge_cloud: LinkConfig = LinkConfig(
        latency_s=0.03, up_rate_bps=100e6, down_rate_bps=100e6, sharing="dedicated"
    )
    payload_dtype: Literal["float32", "float16", "bfloat16"] = "float32"


class StopConfig(Section):
    """When a run ends besides the algorithm's own round budget."""

    max_time_s: DurationS | None = Field(None, gt=0)
    target_accuracy: float | None = Field(None, gt=0, le=1)


class OutputConfig(Section):
    """What the run directory gets."""

    figures: bool = True


class Scenario(Section):
    """A complete, validated scenario."""

    name: str = Field(min_length=1, pattern=r"^[A-Za-z0-9_.-]+$")
    seed: int = 0
    epoch: datetime = datetime(2026, 2, 24, 12, 0, tzinfo=UTC)
    torch_threads: int = Field(1, ge=1)
    data: DataConfig = DataConfig()
    partition: PartitionConfig = PartitionConfig()
    model: ModelConfig = ModelConfig()
    training: TrainingConfig = TrainingConfig()
    devices: DevicesConfig = DevicesConfig()
    servers: ServersConfig = ServersConfig()
    network: NetworkConfig = NetworkConfig()
    algorithm: AlgorithmConfig = FedAvgConfig(name="fedavg")
    space: SpaceConfig | None = None
    stop: StopConfig = StopConfig()
    output: OutputConfig = OutputConfig()

    @model_validator(mode="after")
    def _space_matches_algorithm(self) -> Scenario:
        name = self.algorithm.name
        if name in SPACE_ALGORITHM_NAMES and self.space is None:
            raise ValueError(f"algorithm {name!r} runs over satellites: add a space section "
                             "(constellation, regions), e.g. as in scenarios/fedmeld_demo.yaml")
        if self.partition.scheme == "region_dirichlet" and self.space is None:
            raise ValueError("partition.scheme 'region_dirichlet' splits data over space.regions;"
                             " add a space section or use 'dirichlet'")
        if self.space is not None:
            given = [r.devices for r in self.space.regions]
            if any(g is not None for g in given):
                if any(g is None for g in given):
                    raise ValueError("space.regions: give 'devices' for every region or for "
                                     "none (then devices are split equally)")
                if sum(g for g in given if g is not None) != self.partition.num_clients:
                    raise ValueError(f"space.regions: devices add up to "
                                     f"{sum(g for g in given if g is not None)} but "
                                     f"partition.num_clients is {self.partition.num_clients}; "
                                     "make them equal")
        if self.space is not None and name in SPACE_ALGORITHM_NAMES:
            duration = getattr(self.algorithm, "duration_s", 0.0)
            if duration > self.space.horizon_s:
                raise ValueError(f"algorithm.duration_s ({duration:g} s) is longer than "
                                 f"space.horizon_s ({self.space.horizon_s:g} s), the span of the "
                                 "contact plan; raise horizon_s or shorten the run")
        return self

    @field_validator("epoch")
    @classmethod
    def _aware_epoch(cls, value: datetime) -> datetime:
        if value.tzinfo is None:
            raise ValueError(
                f"epoch {value.isoformat()} has no timezone; write it in UTC with a Z, "
                "e.g. 2026-02-24T12:00:00Z"
            )
        return value.astimezone(UTC)
