"""One timed round between a server and its devices, shared by the personalized algorithms.

The server sends its model to ``members`` over ``down``; the ``trainers`` among them run a
training job each (its compute time from the job's FLOPs on the device), and the
``uploaders`` among those send their result back over ``up``. The trained vectors are asked
for only when the caller aggregates (see :mod:`simfl.engine.jobs`). PerMFL and h-SGD send
the team model to every member of a team and train the sampled ones; pFedMe trains every
device and aggregates the sampled ones; Ditto and Per-FedAvg train and aggregate the sampled
ones; Local only trains. Papers: see the algorithm modules.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Generator, Sequence
from typing import TYPE_CHECKING, Any

import simpy

from simfl.engine.actions import compute
from simfl.engine.jobs import ModelSpec, PendingTraining, TrainingJob
from simfl.engine.transfer import Transport

if TYPE_CHECKING:
    import torch

    from simfl.algorithms.base import Algorithm
    from simfl.scenario.world import World

JobOf = Callable[[int, "torch.Tensor"], TrainingJob]
"""``job_of(client, received) -> TrainingJob``: the job a device runs on the model it got."""


def device_round(
    algo: Algorithm,
    model: torch.Tensor,
    job_of: JobOf,
    *,
    round: int,
    members: Sequence[int],
    trainers: Collection[int],
    uploaders: Collection[int],
    server: str,
    down: Transport | None,
    up: Transport | None,
    **info: Any,
) -> Generator[simpy.Event, Any, dict[int, PendingTraining]]:
    """Run the devices of one round in parallel; return the trainers' jobs by client index.

    Parameters
    ----------
    algo
        The algorithm (its simulation and world).
    model
        The flat model the server sends (shape (P,)); each device receives it as sent.
    job_of
        Builds a device's job from the model it received.
    members
        Devices that receive ``model`` (over ``down``; None: they already hold it).
    trainers
        Members that run a job; the others only receive.
    uploaders
        Trainers that send their result back over ``up`` (the others keep it on the device).
    server
        The server's node name (the other end of the transfers).
    down, up
        The server-device links.
    info
        Extra trace fields of the compute events (e.g. ``team_round=k``).

    Returns
    -------
    dict
        ``{client: PendingTraining}`` for every trainer whose transfers were delivered.
    """
    sim = algo.sim
    procs = {i: sim.process(_device(algo, i, model, job_of, round, server, down, up,
                                    i in trainers, i in uploaders, info))
             for i in members}
    yield sim.env.all_of(list(procs.values()))
    return {i: p.value for i, p in procs.items() if p.value is not None}


def _device(
    algo: Algorithm, index: int, model: torch.Tensor, job_of: JobOf, round: int, server: str,
    down: Transport | None, up: Transport | None, trains: bool, uploads: bool,
    info: dict[str, Any],
) -> Generator[simpy.Event, Any, PendingTraining | None]:
    world, sim = algo.world, algo.sim
    name = world.clients[index].name
    if down is not None:
        got = yield from down.send(server, name, world.payload_bytes, round=round)
        if not got.delivered:
            return None
    if not trains:
        return None
    job = world.jobs.submit(job_of(index, world.as_sent(model)))
    yield from compute(sim, world.nodes[name], job.flops, round=round,
                       samples=job.samples_processed, **info)
    if uploads and up is not None:
        sent = yield from up.send(name, server, world.payload_bytes, round=round)
        if not sent.delivered:
            job.cancel()
            return None
    return job


def paired_model_spec(world: World) -> ModelSpec:
    """Return the architecture of a job that trains two of the world's models together.

    Its flat state is :func:`simfl.learning.paired.pack_pair` of the two models' states; its
    FLOPs per sample are one model's (a procedure's passes say how often each sample runs).
    """
    factory = world.model_factory

    def build() -> Any:
        from simfl.learning.paired import PairedModel

        return PairedModel(factory(), factory())

    return ModelSpec("paired/default", build, world.train_flops_per_sample)


def vector_flops(num_parameters: int, operations: int) -> float:
    """Return the FLOPs of ``operations`` elementwise passes over a (P,) vector."""
    return float(num_parameters) * float(operations)
