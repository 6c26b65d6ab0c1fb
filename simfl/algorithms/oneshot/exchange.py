"""The timed steps one-shot algorithms share: train and upload, broadcast, the config base.

In one-shot FL (FuseFL, arXiv 2410.20380, and its baselines) every client trains on its own
data and uploads once (FuseFL: once per block); the server builds a model and sends it back.
Here that is SimPy processes over the device-cloud links, every client in parallel:

- no initial download: every client builds the same initial model from the run's model seed
  (as the official FuseFL code deep-copies one initial model into every client), so the
  first bytes moved are the uploads;
- :func:`train_and_upload`: a training job (its compute time = the job's FLOPs / the
  device's FLOP/s), then the upload over ``device_cloud_up`` (uploads contend on the shared
  medium as in FedAvg);
- :func:`broadcast`: the cloud sends what it built to every client over
  ``device_cloud_down``; the methods are evaluated when every client holds their model, so
  an evaluation's ``bytes_moved`` includes the broadcast.
"""

from __future__ import annotations

from collections.abc import Generator, Iterable
from typing import TYPE_CHECKING, Any

import simpy
from pydantic import Field

from simfl.engine.actions import compute
from simfl.engine.jobs import PendingTraining, TrainingJob, with_work
from simfl.scenario.algorithm_section import AlgorithmSection

if TYPE_CHECKING:
    import torch
    from torch import nn

    from simfl.algorithms.base import Algorithm
    from simfl.scenario.world import World


class OneShotSection(AlgorithmSection):
    """A one-shot algorithm: every client trains ``local_epochs`` epochs in all, then the
    server builds one model (or an ensemble) from what they upload."""

    local_epochs: int = Field(20, gt=0)

    def progress_total(self) -> int:
        """Return 1: one exchange."""
        return 1

    def budget_text(self) -> str:
        """Return ``'one exchange, <E> local epochs'``."""
        return f"one exchange, {self.local_epochs} local epochs"


def run_parallel(
    algo: Algorithm, processes: Iterable[Generator[simpy.Event, Any, Any]]
) -> Generator[simpy.Event, Any, list[Any]]:
    """Run the generators as parallel SimPy processes; return their values in order."""
    procs = [algo.sim.process(p) for p in processes]
    yield algo.sim.env.all_of(procs)
    return [p.value for p in procs]


def train_and_upload(
    algo: Algorithm, job: TrainingJob, nbytes: int, round: int, **info: Any
) -> Generator[simpy.Event, Any, PendingTraining | None]:
    """Client ``job.client`` trains (timed by the job's FLOPs), then uploads ``nbytes``.

    Returns the pending job (its value is computed when asked for), or None if the upload
    was not delivered.
    """
    world, sim = algo.world, algo.sim
    client = world.clients[job.client].name
    pending = world.jobs.submit(job)
    yield from compute(sim, world.nodes[client], pending.flops, round=round,
                       samples=pending.samples_processed, **info)
    sent = yield from world.channels["device_cloud_up"].send(client, "cloud", nbytes,
                                                             round=round, **info)
    if not sent.delivered:
        pending.cancel()
        return None
    return pending


def upload_local_models(
    algo: Algorithm, start: torch.Tensor, epochs: int, round: int = 1
) -> Generator[simpy.Event, Any, list[PendingTraining]]:
    """Every client trains the world's model from ``start`` for ``epochs`` and uploads it.

    Returns the received jobs in client order (each client's stream is
    ``train/<client>/oneshot``).
    """
    world = algo.world
    config = with_work(world.train_config, epochs=epochs)
    jobs = [TrainingJob(i, start, f"train/{c.name}/oneshot", config=config)
            for i, c in enumerate(world.clients)]
    got = yield from run_parallel(algo, (train_and_upload(algo, job, world.payload_bytes,
                                                          round, what="model")
                                         for job in jobs))
    return [p for p in got if p is not None]


def received_models(world: World, vectors: Iterable[torch.Tensor]) -> list[nn.Module]:
    """Return one model of the world's architecture per flat state, as received."""
    from simfl.learning.params import set_flat

    models = []
    for vec in vectors:
        model = world.model_factory()
        set_flat(model, world.as_sent(vec))
        models.append(model)
    return models


def broadcast(
    algo: Algorithm, nbytes: int, round: int, **info: Any
) -> Generator[simpy.Event, Any, None]:
    """The cloud sends ``nbytes`` to every client over ``device_cloud_down``, in parallel."""
    world = algo.world
    down = world.channels["device_cloud_down"]
    yield from run_parallel(algo, (down.send("cloud", c.name, nbytes, round=round, **info)
                                   for c in world.clients))
