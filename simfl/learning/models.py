"""Model factory: logistic regression, MLP, small CNN, ResNets, GRU and LSTM, seeded init.

Every model maps a batch ``(n, *input_shape)`` to ``(n, num_outputs)`` (logits for
classification, predictions for regression), except the per-step regressors
(``lstm_per_step``, ``gru_per_step``), which map ``(n, seq, features)`` to ``(n, seq)``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
from torch import nn

from simfl.errors import SimflError
from simfl.learning.resnet import DEFAULT_WIDTH, build_resnet
from simfl.learning.step_models import PerStepRegressor

MODEL_KINDS: tuple[str, ...] = ("logreg", "mlp", "cnn", "gru", "lstm", "resnet8", "resnet18",
                                "lstm_per_step", "gru_per_step")
RESNET_KINDS: tuple[str, ...] = ("resnet8", "resnet18")
RECURRENT_KINDS: tuple[str, ...] = ("gru", "lstm", "lstm_per_step", "gru_per_step")
PER_STEP_KINDS: tuple[str, ...] = ("lstm_per_step", "gru_per_step")


class SequenceModel(nn.Module):
    """Recurrent encoder (GRU or LSTM) whose last-step output feeds a linear head.

    Input ``(n, seq, feat)``, output ``(n, num_outputs)``.
    """

    def __init__(self, cell: str, num_features: int, hidden: int, layers: int, outputs: int):
        super().__init__()
        rnn_cls = nn.GRU if cell == "gru" else nn.LSTM
        self.rnn = rnn_cls(num_features, hidden, num_layers=layers, batch_first=True)
        self.head = nn.Linear(hidden, outputs)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Return ``(n, num_outputs)`` from the top layer's output at the last time step."""
        out, _ = self.rnn(x)
        return self.head(out[:, -1, :])


def build_model(
    kind: str,
    input_shape: tuple[int, ...],
    num_outputs: int,
    *,
    hidden: Sequence[int] | None = None,
    seed: int,
    context_features: int = 0,
    target_scale: tuple[float, float] = (0.0, 1.0),
) -> nn.Module:
    """Return a freshly initialised model; the same arguments give bitwise equal weights.

    Parameters
    ----------
    kind
        One of :data:`MODEL_KINDS`:

        - ``"logreg"``: flatten + Linear (``hidden`` is ignored);
        - ``"mlp"``: flatten + (Linear, ReLU) per entry of ``hidden`` + Linear;
        - ``"cnn"``: two (Conv3x3 pad 1, ReLU, MaxPool2) blocks with ``hidden[0]`` and
          ``hidden[1]`` channels + flatten + Linear; ``input_shape`` is ``(C, H, W)`` with
          H, W >= 4, e.g. (1, 8, 8), (1, 28, 28), (3, 32, 32);
        - ``"gru"``/``"lstm"``: ``len(hidden)`` stacked layers of width ``hidden[0]`` (all
          entries equal) over ``input_shape = (seq, feat)``; the last step feeds a Linear;
        - ``"resnet8"``/``"resnet18"``: CIFAR-style ResNet with BatchNorm
          (:mod:`simfl.learning.resnet`); ``hidden = (w,)`` is the base width (default 16
          and 64), ``input_shape`` is ``(C, H, W)``, e.g. (3, 32, 32);
        - ``"lstm_per_step"``/``"gru_per_step"``: like ``lstm``/``gru`` but a prediction at
          every step, ``(n, seq)`` (:class:`~simfl.learning.step_models.PerStepRegressor`);
          ``num_outputs`` must be 1.
    input_shape
        Shape of one sample, without the batch axis.
    num_outputs
        Classes (classification) or targets (regression, usually 1).
    hidden
        Layer widths or channel counts, see ``kind``; None gives ``(64, 64)``, or the
        kind's base width for ResNets.
    seed
        Initialisation seed. The global torch RNG state is restored afterwards.
    context_features
        Per-step kinds: how many of the last input features are context (the user's
        previous workout), read by their own encoder; 0 for none.
    target_scale
        Per-step kinds: ``(mean, std)`` of the target; predictions are ``mean + std * head``.
    """
    shape = tuple(int(d) for d in input_shape)
    if hidden is None:
        hidden = (DEFAULT_WIDTH[kind],) if kind in RESNET_KINDS else (64, 64)
    widths = [int(h) for h in hidden]
    _validate(kind, shape, num_outputs, widths)
    if kind in PER_STEP_KINDS:
        _validate_per_step(shape, num_outputs, context_features, target_scale)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        if kind in PER_STEP_KINDS:
            return PerStepRegressor(kind.removesuffix("_per_step"), shape[1], widths[0],
                                    len(widths), context_features=context_features,
                                    target_mean=target_scale[0], target_std=target_scale[1])
        return _construct(kind, shape, num_outputs, widths)


def _construct(kind: str, shape: tuple[int, ...], outputs: int, widths: list[int]) -> nn.Module:
    if kind == "logreg":
        return nn.Sequential(nn.Flatten(), nn.Linear(math.prod(shape), outputs))
    if kind == "mlp":
        layers: list[nn.Module] = [nn.Flatten()]
        width = math.prod(shape)
        for h in widths:
            layers += [nn.Linear(width, h), nn.ReLU()]
            width = h
        layers.append(nn.Linear(width, outputs))
        return nn.Sequential(*layers)
    if kind == "cnn":
        c, h, w = shape
        c1, c2 = widths[0], widths[1]
        return nn.Sequential(
            nn.Conv2d(c, c1, kernel_size=3, padding=1),
            nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Conv2d(c1, c2, kernel_size=3, padding=1),
            nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Flatten(),
            nn.Linear(c2 * (h // 4) * (w // 4), outputs),
        )
    if kind in RESNET_KINDS:
        return build_resnet(kind, shape[0], outputs, widths[0])
    return SequenceModel(kind, shape[1], widths[0], len(widths), outputs)


def _validate(kind: str, shape: tuple[int, ...], outputs: int, widths: list[int]) -> None:
    if kind not in MODEL_KINDS:
        raise SimflError(f"model kind {kind!r} is unknown; valid kinds: {', '.join(MODEL_KINDS)}")
    problems = []
    if not shape or min(shape) < 1:
        problems.append(f"model {kind}: input_shape {shape} must be non-empty with sizes >= 1")
    if outputs < 1:
        problems.append(f"model {kind}: num_outputs={outputs}; it must be >= 1")
    if kind != "logreg" and (not widths or min(widths) < 1):
        problems.append(f"model {kind}: hidden={widths} must list positive widths")
    if kind in RESNET_KINDS:
        if len(shape) != 3:
            problems.append(
                f"model {kind}: input_shape {shape} must be (channels, height, width), "
                "e.g. (3, 32, 32)"
            )
        if len(widths) != 1:
            problems.append(
                f"model {kind}: hidden={widths} must give one base width, e.g. "
                f"hidden=({DEFAULT_WIDTH[kind]},); stage widths double from it"
            )
    if kind == "cnn":
        if len(shape) != 3 or min(shape[1:], default=0) < 4:
            problems.append(
                f"model cnn: input_shape {shape} must be (channels, height, width) with height "
                "and width >= 4, e.g. (1, 28, 28); use load_digits(image=True) for digits"
            )
        if len(widths) != 2:
            problems.append(f"model cnn: hidden={widths} must give 2 channel counts, e.g. (16, 32)")
    if kind in RECURRENT_KINDS:
        if len(shape) != 2:
            problems.append(
                f"model {kind}: input_shape {shape} must be (sequence_length, features)"
            )
        if widths and len(set(widths)) != 1:
            problems.append(
                f"model {kind}: hidden={widths}; stacked recurrent layers share one width, "
                f"e.g. hidden=({widths[0]}, {widths[0]}) for two layers"
            )
    if problems:
        raise SimflError(problems)


def _validate_per_step(shape: tuple[int, ...], outputs: int, context_features: int,
                       target_scale: tuple[float, float]) -> None:
    problems = []
    if outputs != 1:
        problems.append(f"per-step models predict one value per step; num_outputs={outputs} "
                        "must be 1 (a regression target)")
    if len(shape) == 2 and not 0 <= context_features < shape[1]:
        problems.append(f"context_features={context_features} must leave at least one of the "
                        f"{shape[1]} features per step as step input")
    if not target_scale[1] > 0:
        problems.append(f"target_scale std={target_scale[1]} must be > 0")
    if problems:
        raise SimflError(problems)
