"""What every algorithm shares: the client update as a timed process, evaluation, stopping.

An algorithm is SimPy processes around pure math. :class:`Algorithm` gives each one:
``run()`` (the main process), ``evaluate_global`` (metrics + trace), and
:func:`train_clients`, the timed round of local updates that FedAvg-like algorithms share:
download, a training job (its compute time known from counted FLOPs before it runs),
upload, optional deadline; the jobs' trained vectors are computed when the round's updates
are collected, so an executor can train them together.
"""

from __future__ import annotations

from collections.abc import Callable, Generator, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np
import simpy

from simfl.engine.actions import compute
from simfl.engine.jobs import PendingTraining, TrainingJob
from simfl.engine.simulation import Simulation
from simfl.engine.transfer import Transport
from simfl.scenario.algorithm_section import AlgorithmSection

if TYPE_CHECKING:
    import torch
    from torch import nn

    from simfl.scenario.world import World

ProgressFn = Callable[[int, dict[str, float]], None]


@dataclass(frozen=True)
class ClientUpdate:
    """A client's trained parameters as received by its server, and its sample count."""

    client: str
    parameters: torch.Tensor
    num_samples: int


@dataclass(frozen=True)
class PendingUpdate:
    """A client update that arrived at its server; its training job may not have run yet."""

    client: str
    job: PendingTraining
    num_samples: int


class Algorithm:
    """Base of all algorithms: holds the simulation, the world and its own config.

    Subclasses implement :meth:`run`, the main SimPy process, and call
    :meth:`evaluate_global` when a global model exists.
    """

    name: ClassVar[str] = "base"
    """The scenario name, set by :func:`~simfl.scenario.registry.register_algorithm`."""
    config_model: ClassVar[type[AlgorithmSection]]
    """The pydantic model of this algorithm's ``algorithm:`` section."""

    def __init__(self, sim: Simulation, world: World, config: Any) -> None:
        self.sim = sim
        self.world = world
        self.config = config
        self.on_evaluate: ProgressFn | None = None
        self.stopped_early = False
        self.rounds_completed = 0
        """Rounds aggregated so far (cloud rounds; for region algorithms, region rounds)."""
        self._bytes_recorded_at: tuple[float, int] | None = None

    def run(self) -> Generator[simpy.Event, Any, None]:
        """The main process; returns when the algorithm's round budget is spent."""
        raise NotImplementedError

    def details(self) -> dict[str, Any]:
        """Return JSON-able facts of the run beyond metrics (the summary's ``details``)."""
        return {}

    @classmethod
    def compare_report(cls, runs: Sequence[tuple[str, dict[str, Any]]], scenario: Any,
                       metrics: Any, out_dir: Any) -> str | None:
        """Write a family's extra tables and figures of ``simfl compare``; return text to
        print (None: nothing). ``runs`` are (algorithm, summary) of the family's runs,
        ``metrics`` the comparison's metrics frame (a ``run`` column), ``out_dir`` its
        directory. Algorithms of one family share the report and get it once."""
        return None

    def evaluate_global(
        self, parameters: torch.Tensor | nn.Module, round: int, node: str = "global", *,
        watched: bool = True, flops_per_sample: float | None = None,
    ) -> bool:
        """Record test metrics of a model; return True if the target accuracy is reached.

        ``parameters`` is a flat state of the world's model, or a model of any other
        architecture (a fused or ensemble model), whose forward FLOPs per sample are then
        ``flops_per_sample``. Evaluations also record the bytes moved so far (see
        :meth:`record_bytes_moved`), so accuracy can be set against bytes.
        ``watched=False`` records an auxiliary model (no progress report, no stop check).
        """
        import torch

        t = self.sim.now_s
        world = self.world
        if isinstance(parameters, torch.Tensor):
            values = world.evaluate(parameters)
            per_sample = world.eval_flops_per_sample
        else:
            values = world.evaluate_model(parameters)
            per_sample = flops_per_sample if flops_per_sample is not None else 0.0
        self.sim.metrics.record(t, round, node, values)
        self.record_bytes_moved(round, again=node == "global")
        self.sim.trace.record("evaluate", node, t, t, round=round,
                              flops=per_sample * len(world.test_y))
        return self.observe(round, values) if watched else False

    def evaluate_personalized(
        self, model_of: Mapping[int, torch.Tensor], round: int, node: str = "personalized"
    ) -> dict[str, float]:
        """Record each client's own model on its own test data, pooled (node ``personalized``).

        ``model_of[i]`` is client ``i``'s model: its personal model, or its group's or
        region's. Returns the pooled metrics.
        """
        t = self.sim.now_s
        values = self.world.evaluate_clients(model_of)
        self.sim.metrics.record(t, round, node, values)
        self.record_bytes_moved(round)
        self.sim.trace.record("evaluate", node, t, t, round=round,
                              flops=self.world.eval_flops_per_sample
                              * self.world.client_test_samples(model_of))
        return values

    def record_bytes_moved(self, round: int, *, again: bool = False) -> None:
        """Record the bytes transferred so far (node ``network``, metric ``bytes_moved``).

        Once per evaluation time and round, whichever models are evaluated then (global,
        region mean, personalized), so any headline metric can be set against bytes;
        ``again=True`` (each evaluation of the global model) records even when that time
        and round already have a row, so several global evaluations at one time (FuseFL's
        stages) each pair with their own bytes.
        """
        key = (self.sim.now_s, round)
        if self._bytes_recorded_at == key and not again:
            return
        self._bytes_recorded_at = key
        self.sim.metrics.record(key[0], round, "network",
                                {"bytes_moved": float(self.sim.trace.bytes_transferred)})

    def observe(self, round: int, values: dict[str, float]) -> bool:
        """Report progress; return True (and mark the run stopped) at the target accuracy."""
        if self.on_evaluate is not None:
            self.on_evaluate(round, values)
        target = self.world.scenario.stop.target_accuracy
        if target is not None and values.get("accuracy", -1.0) >= target:
            self.stopped_early = True
            return True
        return False


def client_update_process(
    algo: Algorithm,
    client_index: int,
    parameters: torch.Tensor,
    round: int,
    server: str,
    down: Transport,
    up: Transport,
    stream_key: str | None = None,
) -> Generator[simpy.Event, Any, PendingUpdate | None]:
    """One client's timed update: download, a training job, its compute time, upload.

    ``stream_key`` names the client's shuffling stream (default: the round); algorithms with
    several updates per round give each its own key.

    Returns the update as the server receives it (its job is trained when its value is
    asked for), or None if interrupted (a straggler dropped at the deadline) or a transfer
    was cut.
    """
    world, sim = algo.world, algo.sim
    client = world.clients[client_index]
    node = world.nodes[client.name]
    nbytes = world.payload_bytes
    job: PendingTraining | None = None
    try:
        got = yield from down.send(server, client.name, nbytes, round=round)
        if not got.delivered:
            return None
        key = round if stream_key is None else stream_key
        job = world.jobs.submit(TrainingJob(client_index, world.as_sent(parameters),
                                            f"train/{client.name}/{key}"))
        yield from compute(sim, node, job.flops, round=round, samples=job.samples_processed)
        sent = yield from up.send(client.name, server, nbytes, round=round)
        if not sent.delivered:
            job.cancel()
            return None
    except simpy.Interrupt:
        if job is not None:
            job.cancel()
        return None
    return PendingUpdate(client.name, job, job.num_samples)


def train_clients(
    algo: Algorithm,
    client_indices: Sequence[int],
    parameters: torch.Tensor,
    round: int,
    server: str,
    down: Transport,
    up: Transport,
    deadline_s: float | None,
    stream_key: str | None = None,
) -> Generator[simpy.Event, Any, list[ClientUpdate]]:
    """Run the clients' updates in parallel; return those received (by the deadline, if any).

    Clients still working at the deadline are interrupted: their partial compute or
    transfer is recorded, and a ``drop`` event marks the discarded update.
    """
    sim = algo.sim
    procs = [
        sim.process(client_update_process(algo, i, parameters, round, server, down, up,
                                          stream_key))
        for i in client_indices
    ]
    everyone = sim.env.all_of(procs)
    if deadline_s is None:
        yield everyone
    else:
        yield sim.env.any_of([everyone, sim.env.timeout(deadline_s)])
        for proc in procs:
            if proc.is_alive:
                proc.interrupt("deadline")
        if not everyone.triggered:
            yield sim.env.all_of(procs)
    arrived = [p.value for p in procs if p.value is not None]
    world = algo.world
    return [ClientUpdate(u.client, world.as_sent(u.job.value()), u.num_samples)
            for u in arrived]


def sample_clients(rng: np.random.Generator, population: Sequence[int], count: int) -> list[int]:
    """Return ``count`` distinct members of ``population`` (all of them if fewer), sorted."""
    if count >= len(population):
        return sorted(population)
    chosen = rng.choice(np.asarray(population), size=count, replace=False)
    return sorted(int(c) for c in chosen)
