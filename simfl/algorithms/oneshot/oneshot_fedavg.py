"""One-shot FedAvg: one exchange of independently trained models, averaged once.

The baseline of FuseFL (Tang et al., "FuseFL: One-Shot Federated Learning through the Lens
of Causality with Progressive Model Fusion", NeurIPS 2024, arXiv 2410.20380), after FedAvg
(McMahan et al., AISTATS 2017) with a single round: every client trains the common initial
model for ``local_epochs`` epochs and uploads it; the cloud averages the M models and
broadcasts the average. As in the official FuseFL code the average is uniform and includes
the BatchNorm statistics (the flat state carries them); ``weighting: samples`` weights by
local sample counts as FedAvg does.
"""

from __future__ import annotations

from collections.abc import Generator, Sequence
from typing import TYPE_CHECKING, Any, Literal

import simpy

from simfl.algorithms.aggregate import aggregation_flops, weighted_average
from simfl.algorithms.base import Algorithm
from simfl.algorithms.oneshot.exchange import OneShotSection, broadcast, upload_local_models
from simfl.engine.actions import compute
from simfl.scenario.registry import register_algorithm

if TYPE_CHECKING:
    import torch


class OneShotFedAvgConfig(OneShotSection):
    """One-shot FedAvg: M local models averaged once (uniformly, as the official code)."""

    name: Literal["oneshot_fedavg"] = "oneshot_fedavg"
    weighting: Literal["uniform", "samples"] = "uniform"


def average_weights(num_samples: Sequence[int], weighting: str) -> list[float]:
    """Return one averaging weight per model: 1 each (``uniform``) or its sample count."""
    return [1.0] * len(num_samples) if weighting == "uniform" else [float(n) for n in
                                                                   num_samples]


@register_algorithm
class OneShotFedAvg(Algorithm):
    """Train everywhere once, average once, broadcast the average."""

    config_model = OneShotFedAvgConfig
    config: OneShotFedAvgConfig
    final_model: torch.Tensor
    """The averaged flat state, once built."""

    def run(self) -> Generator[simpy.Event, Any, None]:
        """The cloud's process: collect the M trained models, average, broadcast, evaluate."""
        world, sim, cfg = self.world, self.sim, self.config
        jobs = yield from upload_local_models(self, world.initial_parameters(),
                                              cfg.local_epochs)
        t0 = sim.now_s
        yield from compute(sim, world.nodes["cloud"],
                           aggregation_flops(world.state_size, len(jobs)), round=1,
                           what="aggregate")
        w = weighted_average([world.as_sent(j.value()) for j in jobs],
                             average_weights([j.num_samples for j in jobs], cfg.weighting))
        sim.trace.record("aggregate", "cloud", t0, sim.now_s, round=1, models=len(jobs))
        self.rounds_completed = 1
        self.final_model = w
        yield from broadcast(self, world.payload_bytes, 1, what="model")
        self.evaluate_global(w, 1)
