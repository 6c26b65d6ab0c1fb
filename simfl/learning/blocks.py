"""Models cut into K blocks and a classifier at named split points, with per-block costs.

FuseFL (Tang et al., "FuseFL: One-Shot Federated Learning through the Lens of Causality
with Progressive Model Fusion", NeurIPS 2024, arXiv 2410.20380) trains a network block by
block: a client uploads block k in round k. This module cuts the models of
:func:`simfl.learning.models.build_model` into blocks without re-initialising anything, so
a :class:`BlockModel` computes exactly the function of the unsplit model built with the
same seed, and reports what each block weighs on the wire and costs to compute.

Units and split points. Each splittable kind is a list of units; ``split_after = (i, j)``
ends block 1 after unit ``i`` and block 2 after unit ``j``; the last block runs to the end.

- ``mlp``: one unit per hidden layer (Linear + ReLU; the first also flattens). Default
  points: contiguous, as even as possible, larger blocks first; for 3 hidden layers this is
  the official table (K=2: after 1; K=3: after 0, 1).
- ``cnn``: one unit per convolution stage (Conv, ReLU, MaxPool; the last also flattens),
  so K <= 2 (K=2: after 0).
- ``resnet18``: unit 0 is the stem, units 1..8 the BasicBlocks (the last one with the
  pooling). Official points (FuseFL ``models/configs.py``): K=2 after 4 (the end of the
  second stage); K=3 after 0, 4; K=4 after 0, 4, 6.
- ``resnet8``: unit 0 the stem, units 1..3 the BasicBlocks, by analogy: K=2 after 2;
  K=3 after 0, 2; K=4 after 0, 1, 2.

Width scaling: with M clients each client's widths are divided by sqrt(M)
(:func:`scaled_hidden`), so the fused model (M branches per block) has about one model's
parameters. The official scripts give an explicit width instead (ResNet-18 ``w = 20`` for
``M = 5``): pass ``hidden=(20,)``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from simfl.errors import SimflError
from simfl.learning.flops import part_flops_per_sample
from simfl.learning.models import RESNET_KINDS, build_model
from simfl.learning.params import num_parameters, state_size
from simfl.learning.resnet import ResNet

SPLITTABLE_KINDS: tuple[str, ...] = ("mlp", "cnn", "resnet8", "resnet18")

#: Named split points of the ResNets by number of blocks K (unit indices, see above).
RESNET_SPLIT_AFTER: dict[str, dict[int, tuple[int, ...]]] = {
    "resnet8": {1: (), 2: (2,), 3: (0, 2), 4: (0, 1, 2)},
    "resnet18": {1: (), 2: (4,), 3: (0, 4), 4: (0, 4, 6)},
}


class BlockModel(nn.Module):
    """A network as K blocks and a Linear classifier; ``forward`` equals the unsplit model.

    Input ``(n, *input_shape)``, output ``(n, num_outputs)``.

    Attributes
    ----------
    kind
        The model kind it was cut from.
    blocks
        The K blocks in order; block k maps the output of block k-1 to its own.
    classifier
        The Linear layer on the (flat) output of the last block.
    split_after
        The unit indices the blocks end after (K - 1 of them).
    feature_shapes
        Per-sample output shape of each block, e.g. ``[(16, 32, 32), (64,)]``.
    """

    def __init__(
        self,
        kind: str,
        blocks: Sequence[nn.Module],
        classifier: nn.Linear,
        split_after: tuple[int, ...],
        feature_shapes: Sequence[tuple[int, ...]],
    ) -> None:
        super().__init__()
        self.kind = kind
        self.blocks = nn.ModuleList(blocks)
        self.classifier = classifier
        self.split_after = split_after
        self.feature_shapes = [tuple(s) for s in feature_shapes]

    @property
    def num_blocks(self) -> int:
        """Return K, the number of blocks (the classifier not counted)."""
        return len(self.blocks)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """Return the output of the last block, ``(n, feature_dim)``."""
        for block in self.blocks:
            x = block(x)
        return x

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Return ``(n, num_outputs)``: the classifier on the last block's output."""
        return self.classifier(self.features(x))


@dataclass(frozen=True)
class BlockStats:
    """What one block (or the classifier) weighs and costs.

    Attributes
    ----------
    name
        ``"block1"`` ... ``"blockK"`` or ``"classifier"``.
    num_parameters
        Trainable scalars.
    num_buffer_values
        Floating-point buffer scalars sent with the parameters (BatchNorm running means
        and variances; the integer batch counters are not sent).
    size_bytes
        ``(num_parameters + num_buffer_values) * bytes per value`` of the payload dtype.
    forward_flops_per_sample
        Forward pass.
    training_flops_per_sample
        Forward + backward as when the whole model trains end to end (input gradients for
        every block but the first), so the sums over blocks equal the whole model's counts.
    output_shape
        Per-sample output shape.
    """

    name: str
    num_parameters: int
    num_buffer_values: int
    size_bytes: int
    forward_flops_per_sample: float
    training_flops_per_sample: float
    output_shape: tuple[int, ...]


def scaled_width(width: int, num_clients: int) -> int:
    """Return ``round(width / sqrt(num_clients))``, at least 1: one client's share of a width."""
    if num_clients < 1:
        raise SimflError(f"width scaling: num_clients={num_clients} must be >= 1")
    return max(1, round(width / math.sqrt(num_clients)))


def scaled_hidden(hidden: Sequence[int], num_clients: int) -> tuple[int, ...]:
    """Return every width of ``hidden`` divided by sqrt(num_clients) (see :func:`scaled_width`).

    The fused model of M clients then has about as many parameters as one unscaled model
    (parameters grow with the square of the width).
    """
    return tuple(scaled_width(int(h), num_clients) for h in hidden)


def model_units(kind: str, model: nn.Module) -> tuple[list[nn.Module], nn.Linear]:
    """Return the units of a model built by ``build_model(kind, ...)`` and its classifier.

    The units share the model's modules (nothing is copied); running them in order and
    then the classifier computes the model's forward.
    """
    if kind not in SPLITTABLE_KINDS:
        raise SimflError(
            f"model kind {kind!r} cannot be cut into blocks; splittable kinds: "
            f"{', '.join(SPLITTABLE_KINDS)}"
        )
    if kind in RESNET_KINDS:
        if not isinstance(model, ResNet):
            raise SimflError(f"model_units: a {kind} must be a ResNet, got {type(model).__name__}")
        blocks = list(model.blocks)
        units = [model.stem, *blocks[:-1], nn.Sequential(blocks[-1], model.pool)]
        return units, model.classifier
    head = model[-1] if isinstance(model, nn.Sequential) else None
    if not isinstance(model, nn.Sequential) or not isinstance(head, nn.Linear):
        raise SimflError(
            f"model_units: a {kind} must be the nn.Sequential of build_model, got "
            f"{type(model).__name__}"
        )
    if kind == "mlp":
        # Flatten, (Linear, ReLU) per hidden layer, Linear.
        hidden_layers = (len(model) - 2) // 2
        units = [model[0:3]] + [model[1 + 2 * i : 3 + 2 * i] for i in range(1, hidden_layers)]
        return units, head
    # cnn: (Conv, ReLU, MaxPool) x 2, Flatten, Linear.
    return [model[0:3], model[3:7]], head


def default_split_after(kind: str, num_units: int, num_blocks: int) -> tuple[int, ...]:
    """Return the named split points of ``kind`` for K = ``num_blocks`` (see module doc)."""
    if kind in RESNET_SPLIT_AFTER:
        table = RESNET_SPLIT_AFTER[kind]
        if num_blocks not in table:
            raise SimflError(
                f"{kind}: no named split points for K={num_blocks}; valid K: "
                f"{', '.join(map(str, table))}, or pass split_after explicitly"
            )
        return table[num_blocks]
    if not 1 <= num_blocks <= num_units:
        raise SimflError(
            f"{kind}: K={num_blocks} blocks from {num_units} units; K must be in "
            f"1..{num_units} (one unit per hidden layer or convolution stage)"
        )
    sizes = [len(chunk) for chunk in np.array_split(np.arange(num_units), num_blocks)]
    return tuple(int(end) - 1 for end in np.cumsum(sizes)[:-1])


def split_model(
    kind: str,
    model: nn.Module,
    input_shape: tuple[int, ...],
    num_blocks: int,
    split_after: Sequence[int] | None = None,
) -> BlockModel:
    """Return ``model`` cut into ``num_blocks`` blocks; the blocks share its modules.

    Parameters
    ----------
    kind
        The kind ``model`` was built as, one of :data:`SPLITTABLE_KINDS`.
    input_shape
        Shape of one sample (to record each block's output shape).
    num_blocks
        K >= 1.
    split_after
        Unit indices ending blocks 1..K-1, strictly increasing; None takes the named
        points of ``kind`` (:func:`default_split_after`).
    """
    units, classifier = model_units(kind, model)
    points = (
        default_split_after(kind, len(units), num_blocks)
        if split_after is None
        else tuple(int(i) for i in split_after)
    )
    valid = all(0 <= i < len(units) - 1 for i in points) and list(points) == sorted(set(points))
    if len(points) != num_blocks - 1 or not valid:
        raise SimflError(
            f"{kind}: split_after={list(points)} does not cut {len(units)} units into "
            f"K={num_blocks} blocks; give K-1 strictly increasing unit indices in "
            f"0..{len(units) - 2}"
        )
    ends = [*points, len(units) - 1]
    blocks, start = [], 0
    for end in ends:
        blocks.append(nn.Sequential(*units[start : end + 1]))
        start = end + 1
    return BlockModel(kind, blocks, classifier, points, _output_shapes(blocks, input_shape))


def split_blocks(
    kind: str,
    input_shape: tuple[int, ...],
    num_outputs: int,
    *,
    num_blocks: int,
    seed: int,
    hidden: Sequence[int] | None = None,
    split_after: Sequence[int] | None = None,
) -> BlockModel:
    """Return ``build_model(kind, input_shape, num_outputs, hidden=hidden, seed=seed)`` cut
    into ``num_blocks`` blocks: bitwise the same initial weights, the same function.

    Widths: pass ``hidden=scaled_hidden(h, M)`` for the default 1/sqrt(M) scaling, or an
    explicit width such as ``hidden=(20,)`` for the official ResNet-18 setting of M = 5.
    """
    model = build_model(kind, input_shape, num_outputs, hidden=hidden, seed=seed)
    return split_model(kind, model, tuple(input_shape), num_blocks, split_after)


def state_bytes(module: nn.Module, payload_dtype: torch.dtype = torch.float32) -> int:
    """Return the bytes of ``module`` as sent: parameters and float buffers in ``payload_dtype``.

    BatchNorm running statistics travel with a block (the receiver evaluates with them);
    integer counters (``num_batches_tracked``) do not.
    """
    return state_size(module) * torch.empty((), dtype=payload_dtype).element_size()


def block_stats(
    model: BlockModel, input_shape: tuple[int, ...], payload_dtype: torch.dtype = torch.float32
) -> list[BlockStats]:
    """Return the size and FLOPs of each block and of the classifier (K + 1 entries).

    Parameters and bytes add up to the whole model's; so do forward and training FLOPs
    (:func:`simfl.learning.flops.training_flops_per_sample` of the unsplit model).
    """
    parts: list[tuple[str, nn.Module]] = [
        (f"block{k + 1}", block) for k, block in enumerate(model.blocks)
    ]
    parts.append(("classifier", model.classifier))
    shapes = [tuple(input_shape), *model.feature_shapes]
    out_shapes = [*model.feature_shapes, (model.classifier.out_features,)]
    stats = []
    for k, (name, part) in enumerate(parts):
        stats.append(
            BlockStats(
                name=name,
                num_parameters=num_parameters(part),
                num_buffer_values=state_size(part) - num_parameters(part),
                size_bytes=state_bytes(part, payload_dtype),
                forward_flops_per_sample=part_flops_per_sample(part, shapes[k], train=False),
                training_flops_per_sample=part_flops_per_sample(
                    part, shapes[k], train=True, input_grad=k > 0
                ),
                output_shape=out_shapes[k],
            )
        )
    return stats


def _output_shapes(
    blocks: Sequence[nn.Module], input_shape: tuple[int, ...]
) -> list[tuple[int, ...]]:
    """Run the blocks in eval mode on zeros (no statistics change); return per-sample shapes."""
    modes = [m.training for b in blocks for m in b.modules()]
    shapes = []
    x = torch.zeros((2, *input_shape))
    try:
        with torch.no_grad():
            for block in blocks:
                block.eval()
                x = block(x)
                shapes.append(tuple(x.shape[1:]))
    except RuntimeError as exc:
        raise SimflError(
            f"split: the model does not accept input of shape {tuple(input_shape)} per sample "
            f"({exc}); pass the shape of one sample without the batch axis"
        ) from exc
    finally:
        for m, mode in zip((m for b in blocks for m in b.modules()), modes, strict=True):
            m.training = mode
    return shapes
