"""Local: every device trains alone on its own data, the floor any personalized FL method
has to beat (the "Local" baseline of pFedMe, Ditto and PerMFL's comparisons).

At the start the cloud sends the initial model to every device (the one transfer of the run:
all devices start from the same weights); then each round every device takes
``local_steps`` minibatch steps (rate ``lr``) on its own model, compute on the device. There
is no global model: the run's headline is node ``personalized``, each device's model on its
own test data, pooled. Node ``majority`` (recorded once, at round 0) is the accuracy of a
per-device majority-label predictor on the same test data: on strongly label-skewed data it
is already high, and it is the bar a personalized model must clear to have learned anything
beyond the device's label frequencies.
"""

from __future__ import annotations

from collections.abc import Generator, Sequence
from typing import TYPE_CHECKING, Any, ClassVar, Literal

import numpy as np
import simpy
from pydantic import Field

from simfl.algorithms.base import Algorithm
from simfl.algorithms.personalized.device_round import device_round
from simfl.engine.jobs import TrainingJob, with_work
from simfl.scenario.algorithm_section import RoundsSection
from simfl.scenario.registry import register_algorithm

if TYPE_CHECKING:
    import torch


def majority_label_accuracy(train_labels: Sequence[np.ndarray],
                            test_labels: Sequence[np.ndarray]) -> float:
    """Return the pooled accuracy of predicting each device's most frequent training label.

    ``train_labels[i]`` and ``test_labels[i]`` are device ``i``'s integer labels; ties go to
    the smallest label. Devices without test labels count for nothing.
    """
    correct = total = 0
    for train, test in zip(train_labels, test_labels, strict=True):
        test = np.asarray(test)
        if test.size == 0:
            continue
        values, counts = np.unique(np.asarray(train), return_counts=True)
        majority = values[int(np.argmax(counts))]
        correct += int(np.sum(test == majority))
        total += int(test.size)
    if total == 0:
        raise ValueError("majority_label_accuracy: no device has test labels")
    return correct / total


class LocalConfig(RoundsSection):
    """Local: each device trains alone (no communication after the start): the floor."""

    personalized: ClassVar[bool] = True
    global_model: ClassVar[bool] = False

    name: Literal["local"] = "local"
    rounds: int = Field(30, gt=0)
    local_steps: int | None = Field(None, gt=0)
    """Minibatch steps per device per round (None: the ``training`` section's work)."""
    lr: float | None = Field(None, gt=0)
    """The devices' step size (None: ``training.lr``)."""


@register_algorithm
class Local(Algorithm):
    """Each device trains its own model on its own data."""

    config_model = LocalConfig
    config: LocalConfig

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.device_models: dict[int, torch.Tensor] = {}

    def run(self) -> Generator[simpy.Event, Any, None]:
        """Send the initial model to everyone, then rounds of local training."""
        world, cfg = self.world, self.config
        everyone = list(range(len(world.clients)))
        x0 = world.initial_parameters()
        self.device_models = dict.fromkeys(everyone, x0)
        self.record_majority()
        self.record(0)
        work = with_work(world.train_config, steps=cfg.local_steps, lr=cfg.lr)
        down = world.channels["device_cloud_down"]
        for r in range(1, cfg.rounds + 1):
            models = self.device_models

            def job_of(i: int, received: torch.Tensor, r: int = r,
                       models: dict[int, torch.Tensor] = models) -> TrainingJob:
                return TrainingJob(i, models[i], f"train/{world.clients[i].name}/{r}",
                                   config=work)

            jobs = yield from device_round(self, x0, job_of, round=r, members=everyone,
                                           trainers=everyone, uploaders=(), server="cloud",
                                           down=down if r == 1 else None, up=None)
            self.device_models = {**models, **{i: job.value() for i, job in jobs.items()}}
            self.rounds_completed = r
            if (r % cfg.eval_every_rounds == 0 or r == cfg.rounds) and self.record(r):
                return

    def record(self, round: int) -> bool:
        """Record ``personalized``; return True when the target accuracy is reached."""
        return self.observe(round, self.evaluate_personalized(self.device_models, round))

    def record_majority(self) -> None:
        """Record node ``majority``: the per-device majority-label predictor's accuracy."""
        world = self.world
        if world.task != "classification":
            return
        tests = [c.test_y.numpy() if c.test_y is not None else np.zeros(0, np.int64)
                 for c in world.clients]
        accuracy = majority_label_accuracy([c.labels for c in world.clients], tests)
        self.sim.metrics.record(self.sim.now_s, 0, "majority", {"accuracy": accuracy})
