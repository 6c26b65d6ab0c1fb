"""FLOPs per sample of the real model, counted by ``torch.utils.flop_counter``.

Compute time in simfl is FLOPs / device FLOP/s, so the FLOPs come from running the actual
model on a small batch under :class:`~torch.utils.flop_counter.FlopCounterMode`. Like that
counter, we count matrix products and convolutions (a multiply-add is 2 FLOPs) and ignore
elementwise work (activations, the loss, bias adds, optimizer updates, BatchNorm, pooling
and residual additions: a ResNet's count is its convolutions and its classifier).

Recurrent layers: on CPU, PyTorch runs ``nn.LSTM`` (and on some builds ``nn.GRU``) as one
fused oneDNN op, ``aten.mkldnn_rnn_layer``, for which the counter has no formula and would
report 0. We register one: its forward does, per time step and sample, the input and
recurrent matrix products, ``2 * (numel(W_ih) + numel(W_hh))`` FLOPs; its backward computes
the gradients of both inputs and both weights, twice that. When PyTorch decomposes the RNN
into ``mm``/``addmm`` (as for GRU on CPU today) those are counted directly, with the same
forward total.

Counting runs the model once under a dispatch mode; :func:`architecture_flops_per_sample`
does it once per architecture and input shape in a process. The first use of any
``TorchDispatchMode`` imports ``torch._dynamo`` (2-4 s, only to shield the mode from
``torch.compile``, which never traces a count); :func:`_without_dynamo_import` skips that
import while a count runs.
"""

from __future__ import annotations

import copy
import functools
import math
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import torch
from torch import nn
from torch.utils import flop_counter
from torch.utils.flop_counter import FlopCounterMode

from simfl.errors import SimflError

#: Samples in the batch that is run to count; FLOPs scale linearly with batch size.
COUNT_BATCH = 4


def _rnn_layer_flops(
    input_shape: tuple[int, ...], w_ih: tuple[int, ...], w_hh: tuple[int, ...]
) -> int:
    steps_x_batch = math.prod(input_shape) // input_shape[-1]
    return 2 * steps_x_batch * (math.prod(w_ih) + math.prod(w_hh))


def _rnn_forward(
    input: tuple[int, ...], w_ih: tuple[int, ...], w_hh: tuple[int, ...], *args: Any, **kw: Any
) -> int:
    return _rnn_layer_flops(input, w_ih, w_hh)


def _rnn_backward(
    input: tuple[int, ...], w_ih: tuple[int, ...], w_hh: tuple[int, ...], *args: Any, **kw: Any
) -> int:
    return 2 * _rnn_layer_flops(input, w_ih, w_hh)


def _custom_mapping() -> dict[Any, Any]:
    aten = torch.ops.aten
    mapping: dict[Any, Any] = {}
    if hasattr(aten, "mkldnn_rnn_layer"):
        mapping[aten.mkldnn_rnn_layer] = _rnn_forward
    if hasattr(aten, "mkldnn_rnn_layer_backward"):
        mapping[aten.mkldnn_rnn_layer_backward] = _rnn_backward
    return mapping


@contextmanager
def _without_dynamo_import() -> Iterator[None]:
    """Let a FLOP count run without importing ``torch._dynamo`` (a no-op once imported).

    PyTorch wraps every dispatch mode's ``__torch_dispatch__`` in ``_disable_dynamo``, which
    imports ``torch._dynamo`` on its first call and caches the disabled function as the
    attribute ``__dynamo_disable`` of the raw function. While the count runs, that
    attribute is the raw function itself (nothing is compiled here, so nothing needs
    disabling); it is removed again afterwards. If PyTorch's layout differs, nothing is
    changed and the import simply happens.
    """
    mode = getattr(flop_counter, "_FlopCounterMode", None)
    raw = getattr(getattr(mode, "__dict__", {}).get("__torch_dispatch__"), "__wrapped__", None)
    if raw is None or "torch._dynamo" in sys.modules or hasattr(raw, "__dynamo_disable"):
        yield
        return
    setattr(raw, "__dynamo_disable", raw)  # the attribute name PyTorch looks up
    try:
        yield
    finally:
        delattr(raw, "__dynamo_disable")


@functools.lru_cache(maxsize=256)
def architecture_flops_per_sample(
    kind: str,
    hidden: tuple[int, ...] | None,
    input_shape: tuple[int, ...],
    num_outputs: int,
    task: str = "classification",
    context_features: int = 0,
    target_scale: tuple[float, float] = (0.0, 1.0),
) -> tuple[float, float]:
    """Return (training, inference) FLOPs per sample of ``build_model(kind, ...)``.

    Counted once per architecture (kind, widths, context features, target scale), input
    shape, outputs and task in a process (the count does not depend on the weights), then
    remembered.
    """
    from simfl.learning.models import build_model

    widths = None if hidden is None else list(hidden)
    model = build_model(kind, input_shape, num_outputs, hidden=widths, seed=0,
                        context_features=context_features, target_scale=target_scale)
    return (training_flops_per_sample(model, input_shape, task),
            inference_flops_per_sample(model, input_shape, task))


def training_flops_per_sample(
    model: nn.Module,
    input_shape: tuple[int, ...],
    task: str = "classification",
    num_outputs: int | None = None,
) -> float:
    """Return the FLOPs of one training sample: forward + loss + backward, per sample.

    The model is copied, so its parameters and gradients are left untouched.

    Parameters
    ----------
    model
        The model as trained (any module mapping ``(n, *input_shape)`` to ``(n, outputs)``).
    input_shape
        Shape of one sample, without the batch axis.
    task
        ``"classification"`` (cross-entropy) or ``"regression"`` (MSE).
    num_outputs
        Optional check: if given, the model's output width must equal it.
    """
    return _count(model, input_shape, task, num_outputs, train=True)


def inference_flops_per_sample(
    model: nn.Module,
    input_shape: tuple[int, ...],
    task: str = "classification",
    num_outputs: int | None = None,
) -> float:
    """Return the FLOPs of one forward pass per sample (no gradients)."""
    return _count(model, input_shape, task, num_outputs, train=False)


def _count(
    model: nn.Module,
    input_shape: tuple[int, ...],
    task: str,
    num_outputs: int | None,
    *,
    train: bool,
) -> float:
    if task not in ("classification", "regression"):
        raise SimflError(f"flops: task {task!r} is unknown; use 'classification' or 'regression'")
    probe = copy.deepcopy(model)
    probe.train(train)
    x = torch.zeros((COUNT_BATCH, *input_shape), dtype=torch.float32)
    counter = FlopCounterMode(display=False, custom_mapping=_custom_mapping())
    try:
        if train:
            probe.zero_grad(set_to_none=True)
            with _without_dynamo_import(), counter:
                out = probe(x)
                _check_outputs(out, num_outputs)
                _loss(out, task).backward()
        else:
            with _without_dynamo_import(), torch.no_grad(), counter:
                out = probe(x)
                _check_outputs(out, num_outputs)
    except RuntimeError as exc:
        raise SimflError(
            f"flops: the model does not accept input of shape {tuple(input_shape)} per sample "
            f"({exc}); pass the shape of one sample without the batch axis"
        ) from exc
    return counter.get_total_flops() / COUNT_BATCH


def part_flops_per_sample(
    part: nn.Module, input_shape: tuple[int, ...], *, train: bool, input_grad: bool = False
) -> float:
    """Return the FLOPs per sample of one part of a network (a block, an adaptor, a head).

    The part is copied and run on a zero batch. ``train=True`` adds the backward pass of
    the sum of its outputs (a tensor or a list of tensors): weight gradients of its
    trainable parameters, and input gradients when ``input_grad`` (as for every part but
    the first one of a network trained end to end). Counts of consecutive parts then add
    up to the count of the whole network.
    """
    probe = copy.deepcopy(part)
    probe.train(train)
    x = torch.zeros((COUNT_BATCH, *input_shape), dtype=torch.float32)
    x.requires_grad_(train and input_grad)
    counter = FlopCounterMode(display=False, custom_mapping=_custom_mapping())
    try:
        with _without_dynamo_import(), torch.set_grad_enabled(train), counter:
            out = probe(x)
            outs = out if isinstance(out, list | tuple) else [out]
            if train:
                total = sum(o.sum() for o in outs)
                if isinstance(total, torch.Tensor) and total.requires_grad:
                    total.backward()
    except RuntimeError as exc:
        raise SimflError(
            f"flops: the part does not accept input of shape {tuple(input_shape)} per sample "
            f"({exc}); pass the shape of one sample of its input without the batch axis"
        ) from exc
    return counter.get_total_flops() / COUNT_BATCH


def _check_outputs(out: torch.Tensor, num_outputs: int | None) -> None:
    if num_outputs is not None and (out.ndim != 2 or out.shape[1] != num_outputs):
        raise SimflError(
            f"flops: the model outputs shape {tuple(out.shape)} per batch of {COUNT_BATCH}, "
            f"not ({COUNT_BATCH}, {num_outputs}); pass the model's num_outputs"
        )


def _loss(out: torch.Tensor, task: str) -> torch.Tensor:
    if task == "classification":
        target = torch.zeros(out.shape[0], dtype=torch.long)
        return nn.functional.cross_entropy(out, target)
    return nn.functional.mse_loss(out, torch.zeros_like(out))
