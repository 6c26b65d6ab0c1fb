"""FuseFL: one-shot FL by progressive block fusion, as K timed exchange rounds.

Tang et al., "FuseFL: One-Shot Federated Learning through the Lens of Causality with
Progressive Model Fusion", NeurIPS 2024, arXiv 2410.20380. Every one of the M clients holds
the model cut into K blocks and a classifier (:mod:`simfl.learning.blocks`, widths scaled
by 1/sqrt(M) so the fused model has about one model's parameters, or ``hidden`` given
explicitly, e.g. ``[20]`` for the official ResNet-18 of M = 5). Stage k = 1..K:

1. every client (in parallel) trains ``x -> F^1..F^{k-1} (fused, frozen) -> A_m^k -> B_m^k
   -> B_m^{k+1}..B_m^K -> C_m`` for ``ceil(local_epochs / K)`` epochs (the official scripts
   split one budget over the stages: 100 epochs x 2, 50 x 4), then uploads its branch
   ``(A_m^k, B_m^k)``, and at k = K its classifier too;
2. the cloud fuses the M branches into ``F^k`` (:func:`simfl.learning.fused.fuse`) and
   broadcasts it: every client downloads all M branches and freezes them.

Then the cloud averages the M classifiers (the final model applies the mean classifier to
the sum of the M final features) and, with ``calibrate``, runs CCVR
(:mod:`simfl.learning.calibration`): each client sends per-class counts, means and
covariances of its fused features, the cloud draws ``virtual_per_class`` virtual features
per class from the pooled Gaussians and retrains only the classifier, then broadcasts it.

Timing. Stage training is a training job (the jobs seam): a :class:`ModelSpec` of the
stage model (key ``fusefl/stage<k>``) whose training FLOPs per sample are the forward
through the frozen fused blocks plus forward and backward through the trainable head
(:func:`simfl.learning.fused.stage_flops`), ``trainable`` = the head's parameters; the job
carries the whole stage state (frozen blocks included) and its value is asked for when the
cloud fuses. The frozen forward is paid every epoch, as the official code runs it (a client
could cache the frozen features once per stage when BatchNorm statistics are frozen). Bytes
are the real sizes as sent (parameters and BatchNorm statistics in the payload dtype), so
uploads are uneven across stages; the statistics upload is
:func:`~simfl.learning.calibration.stats_payload_bytes`; the cloud's compute is the
classifier averaging and the calibration training.

Evaluation (node ``global``) when the clients hold the model: after the broadcast of F^k
for k < K the *partial model* of stage k, the mean logits of the M clients' stage-k models
(F^1..F^k with each client's own later blocks and classifier; a measurement: the cloud
never holds the later blocks); at the end the final fused model. The final model before
calibration is recorded as node ``fused_uncalibrated``.

Where simfl departs from the official code (github.com/wizard1203/FuseFL) and why:

- BatchNorm statistics of fused blocks are frozen (``freeze_bn_stats``); the official code
  keeps updating them while later stages train, and its fused blocks are one object shared
  by all clients, so the last client to train wins. ``freeze_bn_stats: false`` reproduces
  that: here the clients train in parallel from the same statistics and the last client's
  (in client order) are kept.
- CCVR pools the clients' statistics with the exact pooled covariance; the official
  ``ccvr.py`` omits the global mean's outer product (``ccvr_formula: official``).
- MLP features get a ``linear`` adaptor (the official code has none for MLPs); ``auto``
  picks ``conv1x1`` for image features and ``linear`` for flat ones.
- The default K is 2, or fewer when the model has fewer units (an MLP with one hidden layer
  runs with K = 1: one exchange of whole branches, fused).

What reproduces of the paper's claims, with numbers: ``docs/fusefl_study.md``.
"""

from __future__ import annotations

import math
from collections.abc import Generator, Sequence
from typing import TYPE_CHECKING, Annotated, Any, Literal, TypeVar, cast

import simpy
from pydantic import Field

from simfl.algorithms.aggregate import aggregation_flops
from simfl.algorithms.base import Algorithm
from simfl.algorithms.oneshot.exchange import (
    OneShotSection,
    broadcast,
    run_parallel,
    train_and_upload,
)
from simfl.engine.actions import compute
from simfl.errors import SimflError
from simfl.scenario.registry import register_algorithm

if TYPE_CHECKING:
    from torch import nn

    from simfl.engine.jobs import PendingTraining
    from simfl.learning.calibration import ClassStats
    from simfl.learning.fused import FusedBlock, FusedModel, StageModel

DEFAULT_BLOCKS = 2
ModuleT = TypeVar("ModuleT", bound="nn.Module")


class FuseFLConfig(OneShotSection):
    """FuseFL (Tang et al., 2024): K stages of block training and fusion, then CCVR.

    ``blocks`` is K (default 2, fewer if the model has fewer units), cut at the model's named
    ``split_after`` points unless given; ``hidden`` gives each client's widths (default: the
    model's divided by sqrt(M)); ``local_epochs`` are spread over the K stages;
    ``calibrate`` runs CCVR with ``virtual_per_class`` virtual features per class;
    ``ccvr_formula: official`` and ``freeze_bn_stats: false`` reproduce the official code.
    """

    name: Literal["fusefl"] = "fusefl"
    blocks: int | None = Field(None, ge=1)
    split_after: list[Annotated[int, Field(ge=0)]] | None = None
    adaptor: Literal["auto", "conv1x1", "linear", "avg"] = "auto"
    hidden: list[Annotated[int, Field(gt=0)]] | None = None
    calibrate: bool = True
    ccvr_formula: Literal["pooled", "official"] = "pooled"
    virtual_per_class: int = Field(5000, gt=0)
    calibration_epochs: int = Field(1, gt=0)
    freeze_bn_stats: bool = True

    def progress_total(self) -> int:
        """Return K (the default 2 when ``blocks`` is not set)."""
        return self.blocks or DEFAULT_BLOCKS

    def budget_text(self) -> str:
        """Return ``'<K> stages, <E> local epochs in all'``."""
        stages = self.blocks if self.blocks is not None else f"{DEFAULT_BLOCKS} (or fewer)"
        return f"{stages} stages, {self.local_epochs} local epochs in all"


def resolve_blocks(requested: int | None, num_units: int) -> int:
    """Return K: ``requested``, or the default 2 capped at the model's ``num_units``."""
    return requested if requested is not None else min(DEFAULT_BLOCKS, num_units)


def stage_epochs(local_epochs: int, num_blocks: int) -> int:
    """Return the epochs of one stage: ``ceil(local_epochs / K)``."""
    return math.ceil(local_epochs / num_blocks)


def resolve_adaptor(requested: str, cut_shapes: Sequence[tuple[int, ...]]) -> str:
    """Return the adaptor kind: ``requested``, or for ``auto`` ``conv1x1`` when every cut
    carries image features ``(C, H, W)``, ``linear`` when every cut is flat, else ``avg``."""
    if requested != "auto":
        return requested
    if all(len(s) == 3 for s in cut_shapes):
        return "conv1x1"
    return "linear" if all(len(s) == 1 for s in cut_shapes) else "avg"


@register_algorithm
class FuseFL(Algorithm):
    """K stages of parallel block training, upload and fusion; then classifier calibration."""

    config_model = FuseFLConfig
    config: FuseFLConfig
    final_model: FusedModel
    """The final fused model (F^1..F^K, the averaged and calibrated classifier), once built."""

    def run(self) -> Generator[simpy.Event, Any, None]:
        """The cloud's process: K stages, the classifier average, calibration, evaluation."""
        import copy

        from simfl.learning.fused import fused_model, next_stage

        world, sim, cfg = self.world, self.sim, self.config
        if world.task != "classification":
            raise SimflError(f"fusefl trains classifiers; this world's task is {world.task!r}; "
                             "use a classification dataset")
        stages = self._first_stages()
        k_total = stages[0].num_blocks
        seeds = sim.rng("fusefl/adaptors")
        fused: list[FusedBlock] = []
        for k in range(1, k_total + 1):
            yield from self._train_stage(stages, k)
            fused.append(self._fuse(stages, k))
            last = k == k_total
            classifiers = [cast("nn.Linear", self._as_sent(copy.deepcopy(s.head.classifier)))
                           for s in stages] if last else []
            if last:
                yield from compute(sim, world.nodes["cloud"], aggregation_flops(
                    _num_parameters(classifiers[0]), len(classifiers)), round=k,
                    what="classifier average")
            yield from broadcast(self, self._bytes(fused[-1]), k, what="fused", block=k)
            self.rounds_completed = k
            if not last:
                self._evaluate_partial(stages, k)
                stages = [next_stage(s, fused[-1], seed=int(seeds.integers(2**31 - 1)))
                          for s in stages]
        final = self.final_model = fused_model(fused, classifiers,
                                               freeze_bn_stats=cfg.freeze_bn_stats)
        sim.trace.record("aggregate", "cloud", sim.now_s, sim.now_s, round=k_total,
                         models=len(stages), what="fused model",
                         fused_parameters=_num_parameters(final))
        if cfg.calibrate:
            self._evaluate_final(final, k_total, node="fused_uncalibrated")
            yield from self._calibrate(final, k_total)
        yield from broadcast(self, self._bytes(final.classifier), k_total, what="classifier")
        self._evaluate_final(final, k_total)

    def _first_stages(self) -> list[StageModel]:
        """Return every client's stage-1 model: the same seeded blocks, scaled widths."""
        import copy

        from simfl.learning.blocks import model_units, scaled_hidden, split_model
        from simfl.learning.fused import first_stage
        from simfl.learning.models import build_model

        world, cfg = self.world, self.config
        m = len(world.clients)
        kind = world.scenario.model.kind
        widths = cfg.hidden or scaled_hidden(world.scenario.model.hidden, m)
        seed = int(self.sim.rng("fusefl/model").integers(2**31 - 1))
        probe = build_model(kind, world.input_shape, world.num_classes, hidden=widths,
                            seed=seed)
        units, _ = model_units(kind, probe)
        k = resolve_blocks(cfg.blocks, len(units))
        blocks = split_model(kind, probe, world.input_shape, k, cfg.split_after)
        adaptor = resolve_adaptor(cfg.adaptor, blocks.feature_shapes[:-1])
        return [first_stage(copy.deepcopy(blocks), num_clients=m, adaptor=adaptor,
                            freeze_bn_stats=cfg.freeze_bn_stats) for _ in range(m)]

    def _train_stage(self, stages: list[StageModel], k: int) -> Generator[simpy.Event, Any, None]:
        """Every client trains its stage-k model and uploads its branch (and classifier at
        k = K), in parallel; their trained states are loaded when all have arrived."""
        import copy

        from simfl.engine.jobs import ModelSpec, TrainingJob, with_work
        from simfl.learning.fused import stage_flops
        from simfl.learning.params import get_flat, set_flat

        world = self.world
        template = copy.deepcopy(stages[0])
        spec = ModelSpec(f"fusefl/stage{k}", lambda: template,
                         stage_flops(stages[0], world.input_shape).total_per_sample)
        trainable = frozenset(n for n, p in stages[0].named_parameters()
                              if n.startswith("head."))
        config = with_work(world.train_config,
                           epochs=stage_epochs(self.config.local_epochs, stages[0].num_blocks))
        last = k == stages[0].num_blocks
        nbytes = self._bytes(stages[0].upload())
        if last:
            nbytes += self._bytes(stages[0].head.classifier)
        jobs = [TrainingJob(m, get_flat(s), f"train/{world.clients[m].name}/fusefl-{k}",
                            config=config, trainable=trainable, model=spec)
                for m, s in enumerate(stages)]
        got: list[PendingTraining | None] = yield from run_parallel(
            self, (train_and_upload(self, job, nbytes, k, what="block", block=k)
                   for job in jobs))
        for stage, pending in zip(stages, got, strict=True):
            if pending is None:
                raise SimflError(f"fusefl: an upload of stage {k} was not delivered; FuseFL "
                                 "needs every client's block (use device-cloud links)")
            set_flat(stage, pending.value())

    def _fuse(self, stages: list[StageModel], k: int) -> FusedBlock:
        """Return F^k, fused from the uploaded branches as received (payload dtype)."""
        from simfl.learning.fused import fuse

        block = fuse([s.upload() for s in stages])
        self._as_sent(block)
        t = self.sim.now_s
        self.sim.trace.record("aggregate", "cloud", t, t, round=k, models=len(stages),
                              what="fuse", block=k)
        return block

    def _calibrate(self, final: FusedModel, k: int) -> Generator[simpy.Event, Any, None]:
        """CCVR: statistics from every client, virtual features, the classifier retrained."""
        from simfl.learning.calibration import (
            calibrate_classifier,
            pool_class_stats,
            sample_virtual_features,
        )
        from simfl.learning.flops import part_flops_per_sample
        from simfl.learning.training import TrainConfig, planned_samples

        world, sim, cfg = self.world, self.sim, self.config
        forward = part_flops_per_sample(final.fused, world.input_shape, train=False)
        stats: list[ClassStats] = yield from run_parallel(
            self, (self._client_stats(final, forward, m, k) for m in range(len(world.clients))))
        pooled = pool_class_stats(stats, cfg.ccvr_formula)
        rng = sim.rng("fusefl/calibration")
        feats, labels = sample_virtual_features(pooled, cfg.virtual_per_class, rng)
        train = TrainConfig(optimizer="sgd", lr=world.train_config.lr,
                            epochs=cfg.calibration_epochs, batch_size=128)
        per_sample = part_flops_per_sample(final.classifier, (pooled.feature_dim,), train=True)
        t0 = sim.now_s
        yield from compute(sim, world.nodes["cloud"],
                           per_sample * planned_samples(len(labels), train), round=k,
                           what="calibrate")
        calibrate_classifier(final.classifier, feats, labels, rng, train)
        sim.trace.record("aggregate", "cloud", t0, sim.now_s, round=k, models=len(stats),
                         what="calibrate", virtual_features=len(labels),
                         formula=cfg.ccvr_formula)

    def _client_stats(self, final: FusedModel, forward_flops: float, m: int, k: int
                      ) -> Generator[simpy.Event, Any, ClassStats]:
        """Client m's per-class statistics of its fused features (``forward_flops`` per
        sample through the fused blocks), computed and uploaded."""
        from simfl.learning.calibration import class_stats, features_of, stats_payload_bytes

        world = self.world
        client = world.clients[m]
        yield from compute(self.sim, world.nodes[client.name], forward_flops * client.num_samples,
                           round=k, what="statistics")
        stats = class_stats(features_of(final, client.x), client.y, world.num_classes)
        nbytes = stats_payload_bytes(stats, self._bytes_per_value())
        yield from world.channels["device_cloud_up"].send(client.name, "cloud", nbytes,
                                                          round=k, what="statistics")
        return stats

    def _evaluate_partial(self, stages: list[StageModel], k: int) -> None:
        """Record the mean logits of the clients' stage-k models (node ``global``)."""
        from simfl.learning.ensemble import EnsembleModel
        from simfl.learning.flops import inference_flops_per_sample

        model = EnsembleModel(stages)
        self.evaluate_global(model, k, flops_per_sample=inference_flops_per_sample(
            model, self.world.input_shape))

    def _evaluate_final(self, final: FusedModel, k: int, node: str = "global") -> None:
        """Record the final fused model (node ``global``, or an auxiliary node)."""
        from simfl.learning.flops import inference_flops_per_sample

        self.evaluate_global(final, k, node, watched=node == "global",
                             flops_per_sample=inference_flops_per_sample(
                                 final, self.world.input_shape))

    def _bytes_per_value(self) -> int:
        import torch

        return torch.empty((), dtype=self.world.payload_dtype).element_size()

    def _bytes(self, module: nn.Module) -> int:
        """Return the bytes of ``module`` as sent in the payload dtype."""
        from simfl.learning.blocks import state_bytes

        return state_bytes(module, self.world.payload_dtype)

    def _as_sent(self, module: ModuleT) -> ModuleT:
        """Round ``module``'s state through the payload dtype in place; return it."""
        from simfl.learning.params import get_flat, set_flat

        set_flat(module, self.world.as_sent(get_flat(module)))
        return module


def _num_parameters(module: nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())
