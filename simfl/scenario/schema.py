"""The scenario schema: every section a scenario YAML may have, validated by pydantic.

Unknown keys are rejected (``extra="forbid"``). Quantities accept units (see
:mod:`simfl.scenario.units`). Scenario files should contain only what differs from these
defaults, each line with a comment saying why.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from simfl.scenario import geo_rules, rules
from simfl.scenario.algorithm_section import AlgorithmSection
from simfl.scenario.geo_schema import FitRecSection, GeoWorkoutsSection
from simfl.scenario.groups_schema import GroupsConfig
from simfl.scenario.space_schema import SpaceConfig
from simfl.scenario.units import DurationS, FlopsPerS, RateBps

MAX_SEED = 2**32 - 1
"""Seeds are unsigned 32-bit integers (numpy and scikit-learn take them as such)."""


def _raise(messages: list[str]) -> None:
    """Raise the rule messages as one pydantic value error (joined by RULE_SEPARATOR)."""
    if messages:
        raise ValueError(rules.RULE_SEPARATOR.join(messages))


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
    """Which dataset, where its files are, and how test data is held out.

    ``leaf`` reads a folder in the LEAF / FedProx / pFedMe layout (``train/*.json``,
    ``test/*.json``, also ``.json.gz``): one client per user in file order (the first
    ``partition.num_clients`` users if you set it, else all of them), each with its own test
    data; the union of their test data is the global test set. ``image_shape`` reshapes its
    feature vectors, e.g. ``[1, 28, 28]`` for FEMNIST and a CNN.

    Every client also gets its own test data (``client_test``), on which its own model (a
    personalized, group or region model) is measured: ``proportional`` draws from the global
    test set with the client's label proportions (training data unchanged);
    ``holdout`` keeps ``client_test_fraction`` of each client's shard for testing (the
    75/25 split of pFedMe and PerMFL); ``natural`` is the dataset's own per-user test split
    (``synthetic``, ``leaf``, ``geo_workouts``, ``fitrec``); ``auto`` is ``natural`` where
    the dataset has one, else ``proportional``.

    ``geo_workouts`` (built in) and ``fitrec`` (``data.path``: ``endomondoHR_proper.json``)
    are heart-rate workouts of users in geographic zones, one client per user (see their
    sections); ``partition`` does not apply to them.
    """

    dataset: Literal["digits", "synthetic", "mnist", "fashion-mnist", "cifar10", "leaf",
                     "geo_workouts", "fitrec"] = "digits"
    path: Path | None = None
    image_shape: list[Annotated[int, Field(gt=0)]] | None = None
    test_fraction: float = Field(0.2, gt=0, lt=1)
    split_seed: int | None = Field(None, ge=0, le=MAX_SEED)
    synthetic: SyntheticConfig = SyntheticConfig()
    geo_workouts: GeoWorkoutsSection = GeoWorkoutsSection()
    fitrec: FitRecSection = FitRecSection()
    client_test: Literal["auto", "proportional", "holdout", "natural"] = "auto"
    client_test_fraction: float = Field(0.25, gt=0, lt=1)
    min_client_test_samples: int = Field(10, ge=1)
    public_fraction: float | None = Field(None, ge=0, lt=1)

    @model_validator(mode="after")
    def _path_when_needed(self) -> DataConfig:
        _raise(rules.data_path_rule(self.dataset, self.path)
               + rules.client_test_rule(self.dataset, self.client_test)
               + rules.image_shape_rule(self.dataset, self.image_shape))
        return self


class PartitionConfig(Section):
    """How samples are split among clients (ignored by 'synthetic', which is per client)."""

    scheme: Literal["iid", "dirichlet", "labels_per_client", "groups", "region_dirichlet"] = (
        "dirichlet")
    num_clients: int = Field(100, gt=0)
    alpha: float = Field(0.5, gt=0)
    labels_per_client: int = Field(2, gt=0)
    label_assignment: Literal["random", "consecutive"] = "random"
    """Scheme ``labels_per_client``: classes dealt in a random order in disjoint blocks, or
    client ``u`` gets labels ``u, u+1, ...`` (mod classes): the pFedMe/PerMFL MNIST split."""
    groups: list[list[int]] | None = None
    min_samples_per_client: int = Field(1, ge=1)

    @model_validator(mode="after")
    def _groups_given(self) -> PartitionConfig:
        _raise(rules.groups_rule(self.scheme, self.groups)
               + rules.groups_count_rule(self.scheme, self.groups, self.num_clients))
        return self


RESNET_BASE_WIDTH = {"resnet8": 16, "resnet18": 64}
"""A ResNet's base width when ``model.hidden`` is not given (as ``simfl.learning.resnet``)."""


class ModelConfig(Section):
    """The model architecture every client trains.

    ``hidden``: the MLP's layer widths, the CNN's two channel counts, the recurrent width per
    layer, or a ResNet's one base width (stage widths double from it; default 16 for
    ``resnet8``, 64 for ``resnet18``). ``*_per_step`` kinds predict one value per time step.
    """

    kind: Literal["logreg", "mlp", "cnn", "gru", "lstm", "lstm_per_step", "gru_per_step",
                  "resnet8", "resnet18"] = "mlp"
    hidden: list[Annotated[int, Field(gt=0, le=1_000_000)]] = [64, 64]

    @model_validator(mode="before")
    @classmethod
    def _resnet_default_width(cls, data: object) -> object:
        if isinstance(data, dict) and data.get("kind") in RESNET_BASE_WIDTH and (
                "hidden" not in data):
            return {**data, "hidden": [RESNET_BASE_WIDTH[data["kind"]]]}
        return data

    @model_validator(mode="after")
    def _resnet_has_one_width(self) -> ModelConfig:
        _raise(rules.resnet_width_rule(self.kind, self.hidden))
        return self


class TrainingConfig(Section):
    """Local training on each client: optimizer, how much work per update, how it executes.

    ``executor``: ``auto`` trains the clients whose updates are pending at the same moment
    together as one stacked computation where the model allows it (logreg, MLP, CNN, GRU,
    LSTM), one by one otherwise; ``sequential`` always one by one (the reference);
    ``batched`` insists on the stacked computation. Results agree within floating-point
    noise; simulated time does not depend on it.

    ``loss`` (regression only): ``mse``, or ``rmse`` as SGFusion's code trains (with
    ``optimizer: rmsprop``, ``lr: 1e-3``, ``weight_decay: 1e-4``, ``steps: 5`` and a
    ``batch_size`` above any user's workouts: its 5 full-batch steps per user).
    """

    optimizer: Literal["sgd", "adam", "rmsprop"] = "sgd"
    lr: float = Field(0.05, gt=0)
    momentum: float = Field(0.0, ge=0, lt=1)
    weight_decay: float = Field(0.0, ge=0)
    epochs: int | None = Field(1, gt=0)
    steps: int | None = Field(None, gt=0)
    batch_size: int = Field(32, gt=0)
    executor: Literal["auto", "sequential", "batched"] = "auto"
    loss: Literal["mse", "rmse"] = "mse"

    @model_validator(mode="before")
    @classmethod
    def _steps_replace_default_epochs(cls, data: object) -> object:
        if isinstance(data, dict) and data.get("steps") is not None and "epochs" not in data:
            return {**data, "epochs": None}
        return data

    @model_validator(mode="after")
    def _epochs_xor_steps(self) -> TrainingConfig:
        _raise(rules.epochs_steps_rule(self.epochs, self.steps))
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


class PeerLinkConfig(Section):
    """Links between group servers: a fixed latency plus the great-circle distance between
    the groups' positions at the propagation speed (light in fibre: about 2/3 c)."""

    latency_s: DurationS = Field(0.005, ge=0)
    propagation_km_per_s: float = Field(200_000.0, gt=0)
    rate_bps: RateBps = Field(1e9, gt=0)
    sharing: Literal["dedicated", "shared", "serial"] = "dedicated"


class NetworkConfig(Section):
    """Links between tiers, and the dtype models are sent in."""

    device_cloud: LinkConfig = LinkConfig()
    device_edge: LinkConfig = LinkConfig(latency_s=0.01, up_rate_bps=20e6, down_rate_bps=50e6)
    edge_cloud: LinkConfig = LinkConfig(
        latency_s=0.03, up_rate_bps=100e6, down_rate_bps=100e6, sharing="dedicated"
    )
    edge_edge: PeerLinkConfig = PeerLinkConfig()
    payload_dtype: Literal["float32", "float16", "bfloat16"] = "float32"


class StopConfig(Section):
    """When a run ends besides the algorithm's own round budget."""

    max_time_s: DurationS | None = Field(None, gt=0)
    target_accuracy: float | None = Field(None, gt=0, le=1)


class OutputConfig(Section):
    """What the run directory gets, and the metric targets a run is timed against.

    ``metric_targets`` maps a metric to values, e.g. ``{accuracy: [0.8, 0.9]}`` or
    ``{rmse: [12]}``: the summary reports the simulated time at which the run's headline
    metric (and its personalized metric) first reached each (accuracy at or above, RMSE or
    loss at or below), or null if it never did.

    ``checkpoint_every_s``: every this much simulated time, ``simfl run`` stores what the run
    has trained so far beside its run directory, so that ``simfl run --resume RUN_DIR``
    continues a killed run to the result an uninterrupted run gives.
    """

    figures: bool = True
    checkpoint_every_s: DurationS | None = Field(None, gt=0)
    metric_targets: dict[Literal["accuracy", "rmse", "loss"],
                         list[Annotated[float, Field(ge=0)]]] = {}


class Scenario(Section):
    """A complete, validated scenario.

    ``algorithm`` is one of the registered algorithms' configs: validate scenarios with
    :func:`simfl.scenario.registry.validate_scenario` (or :func:`simfl.load_scenario`), whose
    model is this class with the union of every registered config.
    """

    name: str = Field(min_length=1, pattern=r"^[A-Za-z0-9_.-]+$")
    seed: int = Field(0, ge=0, le=MAX_SEED)
    epoch: datetime = datetime(2026, 2, 24, 12, 0, tzinfo=UTC)
    torch_threads: int = Field(1, ge=1, le=1024)
    data: DataConfig = DataConfig()
    partition: PartitionConfig = PartitionConfig()
    model: ModelConfig = ModelConfig()
    training: TrainingConfig = TrainingConfig()
    devices: DevicesConfig = DevicesConfig()
    servers: ServersConfig = ServersConfig()
    network: NetworkConfig = NetworkConfig()
    algorithm: AlgorithmSection
    groups: GroupsConfig = GroupsConfig()
    space: SpaceConfig | None = None
    stop: StopConfig = StopConfig()
    output: OutputConfig = OutputConfig()

    @model_validator(mode="after")
    def _space_matches_algorithm(self) -> Scenario:
        space = self.space
        _raise([message for _path, message in rules.space_rule(
            self.algorithm.name, self.algorithm.needs_space, self.partition.scheme,
            space is not None,
            [r.devices for r in space.regions] if space is not None else None,
            self.partition.num_clients, getattr(self.algorithm, "duration_s", None),
            space.horizon_s if space is not None else None)]
            + ([message for _path, message in rules.groups_clients_rule(
                self.groups.assignment, self.groups.default_count, self.partition.num_clients,
                space is not None, self.groups.names,
                [list(m) for m in self.groups.members] if self.groups.members else None,
                rules.clients_known(self.data.dataset,
                                    "num_clients" in self.partition.model_fields_set),
            )] if self.algorithm.uses_groups else [])
            + [message for _path, message in geo_rules.zones_rule(
                self.algorithm.name, self.algorithm.needs_zones, self.groups.assignment,
                self.data.dataset, self.data.fitrec.zones is not None)])
        return self

    def __reduce__(self) -> tuple[Any, tuple[dict[str, Any]]]:
        """Pickle as the resolved data, validated again against the registry on loading."""
        return _rebuild, (self.model_dump(mode="json"),)

    @field_validator("epoch")
    @classmethod
    def _aware_epoch(cls, value: datetime) -> datetime:
        if value.tzinfo is None:
            raise ValueError(
                f"epoch {value.isoformat()} has no timezone; write it in UTC with a Z, "
                "e.g. 2026-02-24T12:00:00Z"
            )
        return value.astimezone(UTC)


def _rebuild(data: dict[str, Any]) -> Scenario:
    from simfl.scenario.registry import validate_scenario

    return validate_scenario(data)
