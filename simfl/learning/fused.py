"""FuseFL's fused models: frozen fused blocks, a client's trainable stage, the final model.

Tang et al., "FuseFL: One-Shot Federated Learning through the Lens of Causality with
Progressive Model Fusion" (NeurIPS 2024, arXiv 2410.20380). M clients each hold a
:class:`~simfl.learning.blocks.BlockModel` of K blocks ``B_m^1..B_m^K`` and a classifier
``C_m``. In stage k client m trains

    x -> F^1 .. F^{k-1} (fused, frozen) -> A_m^k -> B_m^k -> B_m^{k+1} .. B_m^K -> C_m

and uploads the branch ``(A_m^k, B_m^k)``; the server fuses the M branches into ``F^k``.
A fused block computes ``h_m^k = B_m^k(A_m^k(concat over m' of h_m'^{k-1}))`` for every m
(no adaptor at k = 1: every branch reads the input). Adaptors map the concatenation of the
M features (``M * C`` channels) back to ``C``: ``conv1x1`` (convolutional features),
``linear`` (flat features, e.g. an MLP's; the official code has none for MLPs) or ``avg``
(the mean over m', no parameters). The final model applies the mean of the clients'
classifiers to the sum of the M final features; :mod:`simfl.learning.calibration` then
retrains that classifier.

Freezing is real: fused parameters have ``requires_grad`` False and their BatchNorm layers
stay in eval mode whenever the model is put in train mode. The official code keeps those
statistics updating (its fused blocks are one object shared by all clients, so the last
client to train wins); ``freeze_bn_stats=False`` reproduces that, and sharing one
:class:`FusedBlock` object among the clients' stage models (as :func:`next_stage` does)
reproduces the sharing.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Self

import torch
from torch import nn

from simfl.errors import SimflError
from simfl.learning.blocks import BlockModel
from simfl.learning.flops import part_flops_per_sample, training_flops_per_sample

ADAPTORS: tuple[str, ...] = ("conv1x1", "linear", "avg")
COMBINES: tuple[str, ...] = ("sum", "mean")


class Adaptor(nn.Module):
    """Maps the concatenated features of M clients ``(n, M*C, ...)`` to ``(n, C, ...)``.

    ``conv1x1``: a 1x1 convolution (with bias) over ``(n, M*C, H, W)``; ``linear``: a Linear
    layer over ``(n, M*C)``; ``avg``: the mean of the M groups of C channels.
    """

    def __init__(self, kind: str, num_clients: int, channels: int) -> None:
        super().__init__()
        self.kind = kind
        self.num_clients = num_clients
        self.channels = channels
        self.mix: nn.Module | None = None
        if kind == "conv1x1":
            self.mix = nn.Conv2d(num_clients * channels, channels, kernel_size=1)
        elif kind == "linear":
            self.mix = nn.Linear(num_clients * channels, channels)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        """Return ``(n, C, ...)`` from the concatenation ``(n, M*C, ...)``."""
        if self.mix is not None:
            return self.mix(z)
        return z.view(z.shape[0], self.num_clients, self.channels, *z.shape[2:]).mean(dim=1)


def make_adaptor(
    kind: str, num_clients: int, feature_shape: tuple[int, ...], *, seed: int
) -> Adaptor:
    """Return a seeded adaptor for M = ``num_clients`` features of per-sample ``feature_shape``.

    ``conv1x1`` needs ``(C, H, W)`` features, ``linear`` flat ``(C,)`` ones, ``avg`` any.
    The global torch RNG state is restored afterwards.
    """
    if kind not in ADAPTORS:
        raise SimflError(f"adaptor {kind!r} is unknown; valid adaptors: {', '.join(ADAPTORS)}")
    if num_clients < 1:
        raise SimflError(f"adaptor: num_clients={num_clients} must be >= 1")
    need = {"conv1x1": 3, "linear": 1}.get(kind)
    if need is not None and len(feature_shape) != need:
        other = "linear" if kind == "conv1x1" else "conv1x1"
        raise SimflError(
            f"adaptor {kind!r} needs {'(C, H, W)' if need == 3 else 'flat (C,)'} features but "
            f"this block outputs {tuple(feature_shape)}; use {other!r} or 'avg' here"
        )
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return Adaptor(kind, num_clients, int(feature_shape[0]))


class Branch(nn.Module):
    """One client's contribution to a fused block: its adaptor (None at k = 1) and block."""

    def __init__(self, adaptor: Adaptor | None, block: nn.Module) -> None:
        super().__init__()
        self.adaptor = adaptor
        self.block = block

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        """Return ``B(A(z))``, or ``B(z)`` without an adaptor."""
        return self.block(z if self.adaptor is None else self.adaptor(z))


class FusedBlock(nn.Module):
    """The fused block ``F^k``: M branches, each reading all M features of ``F^{k-1}``.

    ``forward`` takes the input tensor (k = 1) or the list of M features of ``F^{k-1}``
    and returns the list of the M branches' outputs.
    """

    def __init__(self, branches: Sequence[Branch]) -> None:
        super().__init__()
        self.branches = nn.ModuleList(branches)

    @property
    def is_first(self) -> bool:
        """Return True for ``F^1`` (no adaptors: every branch reads the input)."""
        return self.branches[0].adaptor is None

    def forward(self, h: torch.Tensor | list[torch.Tensor]) -> list[torch.Tensor]:
        """Return the M outputs ``h_m^k`` as a list."""
        z = h if isinstance(h, torch.Tensor) else torch.cat(h, dim=1)
        return [branch(z) for branch in self.branches]


class FusedStack(nn.Module):
    """Fused blocks ``F^1..F^j`` in order; ``forward`` returns the M outputs of ``F^j``."""

    def __init__(self, blocks: Sequence[FusedBlock]) -> None:
        super().__init__()
        self.blocks = nn.ModuleList(blocks)

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        """Return the list of M features of the last fused block."""
        h: torch.Tensor | list[torch.Tensor] = x
        for block in self.blocks:
            h = block(h)
        if isinstance(h, torch.Tensor):
            raise SimflError("FusedStack: no fused blocks to run; fuse stage 1 first")
        return h


def fuse(branches: Sequence[Branch]) -> FusedBlock:
    """Return the fused block of the M uploaded branches: copied, frozen, in eval mode."""
    if not branches:
        raise SimflError("fuse: no branches; every client uploads one branch per stage")
    firsts = {b.adaptor is None for b in branches}
    if len(firsts) != 1:
        raise SimflError(
            "fuse: some branches have an adaptor and some do not; all branches of one "
            "stage come from the same stage k (adaptors exactly when k > 1)"
        )
    block = FusedBlock([copy.deepcopy(b) for b in branches])
    block.requires_grad_(False)
    block.eval()
    return block


class StageHead(nn.Module):
    """The trainable part of a client's stage k: branch ``(A^k, B^k)``, later blocks, ``C``.

    Input: the raw input (k = 1) or the concatenated features of ``F^{k-1}``.
    """

    def __init__(self, branch: Branch, tail: Sequence[nn.Module], classifier: nn.Module):
        super().__init__()
        self.branch = branch
        self.tail = nn.ModuleList(tail)
        self.classifier = classifier

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        """Return ``(n, num_outputs)`` logits."""
        h = self.branch(z)
        for block in self.tail:
            h = block(h)
        return self.classifier(h)


class _FrozenPrefix(nn.Module):
    """A model that starts with a :class:`FusedStack` kept frozen in train mode too."""

    def __init__(self, fused: Sequence[FusedBlock], freeze_bn_stats: bool) -> None:
        super().__init__()
        self.fused = FusedStack(fused)
        self.freeze_bn_stats = freeze_bn_stats

    def train(self, mode: bool = True) -> Self:
        """Set train/eval mode; the fused blocks stay in eval mode when statistics are frozen."""
        super().train(mode)
        if self.freeze_bn_stats:
            self.fused.eval()
        return self


class StageModel(_FrozenPrefix):
    """Client m's network in stage k: frozen ``F^1..F^{k-1}``, then its :class:`StageHead`.

    Input ``(n, *input_shape)``, output ``(n, num_outputs)``. Train it like any model
    (:func:`simfl.learning.training.train_local` updates only parameters that require
    gradients); ``train()`` keeps the fused blocks in eval mode unless
    ``freeze_bn_stats`` is False (the official behaviour).
    """

    def __init__(
        self,
        fused: Sequence[FusedBlock],
        head: StageHead,
        *,
        num_clients: int,
        adaptor: str,
        feature_shapes: Sequence[tuple[int, ...]],
        freeze_bn_stats: bool = True,
    ) -> None:
        super().__init__(fused, freeze_bn_stats)
        self.head = head
        self.num_clients = num_clients
        self.adaptor = adaptor
        self.feature_shapes = [tuple(s) for s in feature_shapes]
        self.train(self.training)

    @property
    def stage(self) -> int:
        """Return k, the block this stage trains (1-based)."""
        return len(self.fused.blocks) + 1

    @property
    def num_blocks(self) -> int:
        """Return K."""
        return len(self.feature_shapes)

    def frozen_features(self, x: torch.Tensor) -> torch.Tensor:
        """Return the head's input: ``x`` (k = 1) or ``concat_m h_m^{k-1}``, ``(n, M*C, ...)``."""
        if not self.fused.blocks:
            return x
        return torch.cat(self.fused(x), dim=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Return ``(n, num_outputs)`` logits."""
        return self.head(self.frozen_features(x))

    def upload(self) -> Branch:
        """Return the branch ``(A_m^k, B_m^k)`` this stage sends (the live module)."""
        return self.head.branch


def first_stage(
    model: BlockModel, *, num_clients: int, adaptor: str, freeze_bn_stats: bool = True
) -> StageModel:
    """Return client m's stage-1 model: its own blocks and classifier (shared, not copied).

    ``adaptor`` (one of :data:`ADAPTORS`) is the kind later stages will use.
    """
    if adaptor not in ADAPTORS:
        raise SimflError(f"adaptor {adaptor!r} is unknown; valid adaptors: {', '.join(ADAPTORS)}")
    blocks = list(model.blocks)
    head = StageHead(Branch(None, blocks[0]), blocks[1:], model.classifier)
    return StageModel([], head, num_clients=num_clients, adaptor=adaptor,
                      feature_shapes=model.feature_shapes, freeze_bn_stats=freeze_bn_stats)


def next_stage(stage: StageModel, fused_block: FusedBlock, *, seed: int) -> StageModel:
    """Return the client's stage k+1 model after the server fused stage k into ``fused_block``.

    The client's later blocks and classifier carry on (the same modules); a fresh adaptor
    (seeded with ``seed``) precedes its block k+1. ``fused_block`` is used as given, not
    copied: clients may share one frozen object.
    """
    k = stage.stage
    if not stage.head.tail:
        raise SimflError(
            f"next_stage: stage {k} trains the last of K={stage.num_blocks} blocks; build the "
            "final model with fused_model instead"
        )
    if len(fused_block.branches) != stage.num_clients or fused_block.is_first != (k == 1):
        raise SimflError(
            f"next_stage: the fused block has {len(fused_block.branches)} branches "
            f"({'without' if fused_block.is_first else 'with'} adaptors); stage {k} of "
            f"{stage.num_clients} clients needs {stage.num_clients} branches of stage {k}"
        )
    adaptor = make_adaptor(stage.adaptor, stage.num_clients, stage.feature_shapes[k - 1],
                           seed=seed)
    tail = list(stage.head.tail)
    head = StageHead(Branch(adaptor, tail[0]), tail[1:], stage.head.classifier)
    return StageModel([*stage.fused.blocks, fused_block], head, num_clients=stage.num_clients,
                      adaptor=stage.adaptor, feature_shapes=stage.feature_shapes,
                      freeze_bn_stats=stage.freeze_bn_stats)


class FusedModel(_FrozenPrefix):
    """The final model: ``C(combine over m of h_m^K)`` with all K blocks fused and frozen.

    Input ``(n, *input_shape)``, output ``(n, num_outputs)``. Only the classifier trains.
    """

    def __init__(
        self, fused: Sequence[FusedBlock], classifier: nn.Linear, *, combine: str = "sum",
        freeze_bn_stats: bool = True,
    ) -> None:
        super().__init__(fused, freeze_bn_stats)
        self.classifier = classifier
        self.combine = combine
        self.train(self.training)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """Return the classifier's input ``(n, D)``: sum (or mean) of the M final features."""
        hs = self.fused(x)
        total = torch.stack(hs).sum(dim=0)
        return total / len(hs) if self.combine == "mean" else total

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Return ``(n, num_outputs)`` logits."""
        return self.classifier(self.features(x))


def fused_model(
    fused: Sequence[FusedBlock],
    classifiers: Sequence[nn.Linear],
    *,
    combine: str = "sum",
    weights: Sequence[float] | None = None,
    freeze_bn_stats: bool = True,
) -> FusedModel:
    """Return the final fused model: the clients' classifiers averaged into a new Linear.

    Parameters
    ----------
    fused
        ``F^1..F^K``.
    classifiers
        The M clients' classifiers as uploaded with their last branch.
    combine
        ``"sum"`` of the M final features (the paper and official code) or ``"mean"``.
    weights
        Weights of the classifier average (normalised); None is uniform (official).
    """
    if combine not in COMBINES:
        raise SimflError(f"combine {combine!r} is unknown; use one of {', '.join(COMBINES)}")
    if not fused or len(fused[-1].branches) != len(classifiers):
        raise SimflError(
            f"fused_model: {len(classifiers)} classifiers for fused blocks of "
            f"{len(fused[-1].branches) if fused else 0} branches; give one classifier per client"
        )
    w = torch.ones(len(classifiers)) if weights is None else torch.as_tensor(weights)
    if w.numel() != len(classifiers) or bool((w < 0).any()) or not float(w.sum()) > 0:
        raise SimflError(
            f"fused_model: weights {list(map(float, w))} must be one non-negative weight per "
            "classifier with a positive sum"
        )
    w = (w / w.sum()).to(torch.float32)
    mean = copy.deepcopy(classifiers[0])
    with torch.no_grad():
        for name, param in mean.named_parameters():
            stacked = torch.stack([dict(c.named_parameters())[name] for c in classifiers])
            param.copy_(torch.tensordot(w, stacked, dims=1))
    mean.requires_grad_(True)
    return FusedModel(fused, mean, combine=combine, freeze_bn_stats=freeze_bn_stats)


@dataclass(frozen=True)
class StageFlops:
    """FLOPs per training sample of one stage: frozen forward, then the trainable part."""

    frozen_forward_per_sample: float
    trainable_training_per_sample: float

    @property
    def total_per_sample(self) -> float:
        """Return the FLOPs of one training sample when the frozen part runs every time."""
        return self.frozen_forward_per_sample + self.trainable_training_per_sample


def stage_flops(stage: StageModel, input_shape: tuple[int, ...]) -> StageFlops:
    """Return the FLOPs per sample of training ``stage``: frozen forward + head forward/backward.

    A client that caches ``frozen_features`` of its data once per stage (exact when the
    BatchNorm statistics are frozen) pays the frozen forward once per sample and stage
    instead of once per epoch.
    """
    total = training_flops_per_sample(stage, tuple(input_shape))
    frozen = (
        part_flops_per_sample(stage.fused, tuple(input_shape), train=False)
        if stage.fused.blocks
        else 0.0
    )
    return StageFlops(frozen, total - frozen)
