"""The world of a run: nodes, channels, client data and the model, built from a scenario.

Algorithms receive a :class:`World` and a :class:`~simfl.engine.Simulation`; they never
read the scenario's raw sections for anything the world already resolved.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field

import torch
from torch import nn

from simfl.devices.availability import Availability
from simfl.devices.compute_profile import ComputeProfile
from simfl.engine.channel import Channel
from simfl.engine.jobs import JobExecutor, ModelSpec, make_executor
from simfl.engine.node import Node
from simfl.engine.simulation import Simulation
from simfl.errors import ScenarioError
from simfl.geo.layout import ZoneLayout
from simfl.learning.client_data import ClientData
from simfl.learning.flops import architecture_flops_per_sample
from simfl.learning.models import build_model
from simfl.learning.params import get_flat, num_parameters, set_flat, state_size
from simfl.learning.training import EvalTotals, TrainConfig, evaluate, evaluation_totals
from simfl.network.link import Link
from simfl.scenario.datasets import build_federated_data, region_sizes
from simfl.scenario.groups import ClientGroups, build_groups
from simfl.scenario.groups_schema import GroupsConfig
from simfl.scenario.schema import Scenario
from simfl.scenario.space_world import SpaceWorld, build_space_world

_DTYPES = {"float32": torch.float32, "float16": torch.float16, "bfloat16": torch.bfloat16}


@dataclass
class World:
    """Everything an algorithm needs, resolved from the scenario.

    Attributes
    ----------
    clients
        Client shards; client ``i`` is node ``client-i``.
    nodes
        Every node by name (clients, edges, cloud, ...).
    channels
        Every channel by name: ``device_cloud_up``, ``device_cloud_down``, ``device_edge_up``...
    train_flops_per_sample, eval_flops_per_sample
        Counted from the real model (forward + backward for training).
    num_parameters, state_size
        Trainable parameters; length of the model's flat state (parameters and float
        buffers such as BatchNorm statistics: what is sent and averaged).
    payload_bytes
        Bytes of one model as sent (state values x the payload dtype's size).
    groups
        Client groups with their servers and links (edge servers, teams, zones, regions),
        when the algorithm uses groups or satellites.
    jobs
        The executor of training jobs (client updates).
    public_x
        Unlabeled public inputs held out of the training data before partitioning
        (``data.public_fraction``), for distillation (FedDF); None when there are none.
    layout
        Which zone each client lives in (geographic datasets), else None.
    """

    scenario: Scenario
    sim: Simulation
    clients: list[ClientData]
    test_x: torch.Tensor
    test_y: torch.Tensor
    task: str
    num_classes: int
    input_shape: tuple[int, ...]
    model_factory: Callable[[], nn.Module]
    train_config: TrainConfig
    train_flops_per_sample: float
    eval_flops_per_sample: float
    num_parameters: int
    state_size: int
    payload_dtype: torch.dtype
    nodes: dict[str, Node] = field(default_factory=dict)
    channels: dict[str, Channel] = field(default_factory=dict)
    space: SpaceWorld | None = None
    groups: ClientGroups | None = None
    public_x: torch.Tensor | None = None
    layout: ZoneLayout | None = None
    jobs: JobExecutor = field(init=False)
    _eval_model: nn.Module | None = None

    @property
    def payload_bytes(self) -> int:
        """Return the bytes of one model as sent over a link (dtype-aware)."""
        return self.state_size * self.payload_dtype.itemsize

    def initial_parameters(self) -> torch.Tensor:
        """Return the initial global model as a flat float32 vector (seeded)."""
        return get_flat(self.model_factory())

    def as_sent(self, vec: torch.Tensor) -> torch.Tensor:
        """Return ``vec`` as the receiver gets it: cast to the payload dtype and back."""
        if self.payload_dtype == torch.float32:
            return vec
        return vec.to(self.payload_dtype).to(torch.float32)

    def evaluate(self, vec: torch.Tensor) -> dict[str, float]:
        """Return test metrics (accuracy and loss, or rmse and loss) of parameters ``vec``."""
        if self._eval_model is None:
            self._eval_model = self.model_factory()
        set_flat(self._eval_model, vec)
        return evaluate(self._eval_model, self.test_x, self.test_y, task=self.task)

    def evaluate_model(self, model: nn.Module) -> dict[str, float]:
        """Return test metrics of ``model``, any architecture with the world's inputs/outputs."""
        return evaluate(model, self.test_x, self.test_y, task=self.task)

    def evaluate_many(self, vectors: Sequence[torch.Tensor]) -> list[dict[str, float]]:
        """Return :meth:`evaluate`'s metrics of each model in ``vectors`` (e.g. every region's).

        One stacked forward pass of all of them
        (:func:`~simfl.learning.batched_evaluation.evaluate_batched`, equal within
        floating-point noise) unless the training executor is ``sequential`` or the model
        has buffers; then one model after another (the reference, bit for bit).
        """
        executor = self.scenario.training.executor
        if len(vectors) < 2 or executor == "sequential" or self.state_size != self.num_parameters:
            return [self.evaluate(v) for v in vectors]
        from simfl.learning.batched_evaluation import evaluate_batched

        if self._eval_model is None:
            self._eval_model = self.model_factory()
        return evaluate_batched(self._eval_model, torch.stack(list(vectors)), self.test_x,
                                self.test_y, self.task)

    def evaluate_clients(self, model_of: Mapping[int, torch.Tensor]) -> dict[str, float]:
        """Return metrics of each client's model on that client's own test data, pooled.

        ``model_of[i]`` is client ``i``'s model (personalized, or its group's). Pooled means
        sum correct / sum samples (accuracy) and the RMSE over all test targets (regression).
        Clients not in ``model_of`` are left out.
        """
        if self._eval_model is None:
            self._eval_model = self.model_factory()
        totals = EvalTotals(self.task)
        loaded: torch.Tensor | None = None
        for i in sorted(model_of):
            client = self.clients[i]
            if client.test_x is None or client.test_y is None or client.num_test_samples == 0:
                continue
            vec = model_of[i]
            if vec is not loaded:
                set_flat(self._eval_model, vec)
                loaded = vec
            totals = totals + evaluation_totals(self._eval_model, client.test_x,
                                                client.test_y, task=self.task)
        return totals.metrics()

    def client_test_samples(self, clients: Iterable[int]) -> int:
        """Return how many own test samples ``clients`` have together."""
        return sum(self.clients[i].num_test_samples for i in clients)

    def add_node(self, node: Node) -> Node:
        """Register ``node`` and return it."""
        self.nodes[node.name] = node
        return node


def build_world(scenario: Scenario, sim: Simulation, progress: bool = False) -> World:
    """Return the world of ``scenario`` on ``sim``: data, model, devices, servers, channels.

    Client groups (and their server nodes) are built when the algorithm uses groups or runs
    over satellites (see :func:`_add_groups`).
    """
    torch.set_num_threads(scenario.torch_threads)
    sizes = None
    if scenario.space is not None:
        sizes = region_sizes(scenario.partition.num_clients, len(scenario.space.regions),
                             [r.devices for r in scenario.space.regions])
    public_fraction = scenario.data.public_fraction
    if public_fraction is None:
        public_fraction = scenario.algorithm.public_data_fraction
    fed = build_federated_data(scenario.data, scenario.partition, scenario.model,
                               sim.rng("partition"), scenario.seed, sizes,
                               test_rng=sim.rng("client_test"), public_fraction=public_fraction,
                               public_seed=int(sim.rng("public_data").integers(2**31 - 1)))
    model_seed = int(sim.rng("model").integers(2**31 - 1))
    num_outputs = fed.num_classes if fed.task == "classification" else 1

    def model_factory() -> nn.Module:
        return build_model(scenario.model.kind, fed.input_shape, num_outputs,
                           hidden=scenario.model.hidden, seed=model_seed,
                           context_features=fed.context_features,
                           target_scale=fed.target_scale)

    probe = model_factory()
    _check_target_shape(probe, fed.clients[0], scenario.model.kind)
    train_flops, eval_flops = architecture_flops_per_sample(
        scenario.model.kind, tuple(scenario.model.hidden), fed.input_shape, num_outputs, fed.task,
        context_features=fed.context_features, target_scale=tuple(fed.target_scale))
    tcfg = scenario.training
    world = World(
        scenario=scenario,
        sim=sim,
        clients=fed.clients,
        test_x=fed.test_x,
        test_y=fed.test_y,
        task=fed.task,
        num_classes=fed.num_classes,
        input_shape=fed.input_shape,
        model_factory=model_factory,
        train_config=TrainConfig(optimizer=tcfg.optimizer, lr=tcfg.lr, momentum=tcfg.momentum,
                                 weight_decay=tcfg.weight_decay, epochs=tcfg.epochs,
                                 steps=tcfg.steps, batch_size=tcfg.batch_size,
                                 loss=tcfg.loss),
        train_flops_per_sample=train_flops,
        eval_flops_per_sample=eval_flops,
        num_parameters=num_parameters(probe),
        state_size=state_size(probe),
        payload_dtype=_DTYPES[scenario.network.payload_dtype],
        public_x=fed.public_x,
        layout=fed.layout,
    )
    if tcfg.executor == "batched":
        from simfl.learning.batched_models import batched_support

        if not batched_support(probe, fed.input_shape):
            raise ScenarioError(f"training.executor: 'batched' needs a model with a stacked "
                                f"form (logreg, mlp, cnn, gru, lstm); {scenario.model.kind!r} "
                                "has none here; use 'auto' (it trains such models one by one)")
    world.jobs = make_executor(tcfg.executor, world.clients, world.train_config,
                               ModelSpec("default", model_factory, world.train_flops_per_sample),
                               world.task, sim.fresh_rng)
    _add_devices(world, scenario, sim)
    world.add_node(Node.create(sim.env, "cloud", "cloud", scenario.servers.cloud_flops_per_s))
    net = scenario.network
    for link_name in ("device_cloud", "device_edge", "edge_cloud"):
        cfg = getattr(net, link_name)
        for direction, rate in (("up", cfg.up_rate_bps), ("down", cfg.down_rate_bps)):
            name = f"{link_name}_{direction}"
            world.channels[name] = Channel(sim, name, Link(cfg.latency_s, rate, cfg.sharing))
    if scenario.space is not None:
        world.space = build_space_world(scenario.space, sim, len(world.clients), world.nodes,
                                        progress=progress)
    _add_groups(world, scenario, sim)
    return world


def _add_groups(world: World, scenario: Scenario, sim: Simulation) -> None:
    """Give the world its client groups, built after every other node so names cannot clash.

    An algorithm over satellites gets the space regions, served by whichever satellite passes
    (no server nodes). An algorithm with group servers gets the ``groups`` section; with
    ``assignment: region`` one group per space region, its edge server at the region.
    """
    algorithm = scenario.algorithm
    satellites_serve = algorithm.needs_space
    by_region = satellites_serve or scenario.groups.assignment == "region"
    if not (algorithm.uses_groups or satellites_serve):
        return
    if not by_region:
        world.groups = build_groups(scenario, sim, world.clients, world.num_classes,
                                    world.nodes, layout=world.layout)
        return
    if world.space is None or scenario.space is None:
        return  # validation requires a space section for region groups
    positions = {r.name: (r.lat_deg, r.lon_deg) for r in scenario.space.regions}
    world.groups = build_groups(
        scenario.model_copy(update={"groups": GroupsConfig(assignment="region")}), sim,
        world.clients, world.num_classes, world.nodes, world.space.region_clients, positions,
        satellites_serve=satellites_serve)


def _check_target_shape(model: nn.Module, client: ClientData, kind: str) -> None:
    """Raise if the model's prediction for a sample does not match one sample's target."""
    if not client.y.is_floating_point():
        return
    with torch.no_grad():
        out = model(client.x[:1])
    expected = tuple(client.y.shape[1:]) if client.y.ndim > 1 else (1,)
    if tuple(out.shape[1:]) == expected:
        return
    if client.y.ndim > 1:
        fix = ("use a per-step kind (lstm_per_step, gru_per_step) or targets at the last step "
               "only (data.geo_workouts.target: last)")
    else:
        fix = "use lstm or gru, or per-step targets (data.geo_workouts.target: sequence)"
    raise ScenarioError(f"model.kind: {kind!r} predicts shape {tuple(out.shape[1:])} per "
                        f"sample but the data has targets of shape {expected}; {fix}")


def _add_devices(world: World, scenario: Scenario, sim: Simulation) -> None:
    comp = scenario.devices.compute
    profile = ComputeProfile(distribution=comp.distribution, flops_per_s=comp.flops_per_s,
                             sigma=comp.sigma, low_flops_per_s=comp.low_flops_per_s,
                             high_flops_per_s=comp.high_flops_per_s)
    speeds = profile.draw_flops_per_s(len(world.clients), sim.rng("devices"))
    avail_cfg = scenario.devices.availability
    for client, speed in zip(world.clients, speeds, strict=True):
        availability = None
        if avail_cfg is not None:
            rng = sim.fresh_rng(f"availability/{client.name}")
            period = avail_cfg.on_s + avail_cfg.off_s
            availability = Availability(avail_cfg.on_s, avail_cfg.off_s,
                                        phase_s=float(rng.uniform(0, period)),
                                        random=avail_cfg.random, rng=rng)
        world.add_node(Node.create(sim.env, client.name, "device", float(speed), availability))
