"""Batched evaluation: the test metrics of many parameter vectors of one architecture at once.

:func:`evaluate_batched` scores ``n`` models on one test set (e.g. every region or device
model of a run against the global test set); :func:`evaluate_batched_each` scores each model
on its own test set (per-client test data). Both return exactly the dictionaries of
:func:`simfl.learning.training.evaluate`, computed with the stacked forward pass of
:mod:`simfl.learning.batched_models`; architectures without one are evaluated one by one.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence

import torch
from torch import nn

from simfl.errors import SimflError
from simfl.learning.batched_models import StackedModel, stacked_form
from simfl.learning.batched_training import sample_losses
from simfl.learning.params import set_flat
from simfl.learning.training import EvalTotals, _check_data, evaluate

#: Activation floats (float32) one chunk of models x samples may hold: 2**24 = 64 MiB
#: (measured on the benchmark CNN: 2**22..2**24 evaluate 100 models 3x faster than one by
#: one, 2**27 only 1.3x; larger chunks leave the caches).
MAX_ACTIVATION_FLOATS = 2**24


def evaluate_batched(
    model: nn.Module,
    vectors: torch.Tensor,
    x: torch.Tensor,
    y: torch.Tensor,
    task: str = "classification",
    batch_size: int = 1024,
) -> list[dict[str, float]]:
    """Return ``evaluate``'s metrics for each row of ``vectors`` on the test set ``(x, y)``.

    Parameters
    ----------
    model
        The architecture, as built by ``build_model``; left untouched.
    vectors
        ``(n_models, P)`` flat parameter vectors, as from ``get_flat``.
    x, y, task, batch_size
        As for :func:`~simfl.learning.training.evaluate`.

    Returns
    -------
    list of dict
        Per model, ``{"accuracy", "loss"}`` (classification) or ``{"rmse", "loss"}``.
    """
    return evaluate_batched_each(model, vectors, [(x, y)] * len(vectors), task, batch_size)


def evaluate_batched_each(
    model: nn.Module,
    vectors: torch.Tensor,
    tests: Sequence[tuple[torch.Tensor, torch.Tensor]],
    task: str = "classification",
    batch_size: int = 1024,
) -> list[dict[str, float]]:
    """Return ``evaluate``'s metrics of model ``i`` (row ``i`` of ``vectors``) on ``tests[i]``.

    Test sets may differ in size; the same ``x`` and ``y`` tensors given for several models
    are read once. Other parameters as for :func:`evaluate_batched`.
    """
    total = sum(p.numel() for p in model.parameters())
    if vectors.ndim != 2 or vectors.shape[1] != total or len(tests) != vectors.shape[0]:
        raise SimflError(
            f"evaluate_batched: vectors of shape {tuple(vectors.shape)} and {len(tests)} test "
            f"sets; pass (n_models, {total}) vectors (torch.stack of get_flat) and one test "
            "set per model"
        )
    if batch_size < 1:
        raise SimflError(f"evaluate_batched: batch_size={batch_size} must be >= 1")
    if not tests:
        return []
    for x, y in {id(t): t for t in tests}.values():
        _check_data(model, x, y, task)
    shape = tuple(tests[0][0].shape[1:])
    form = stacked_form(model, shape)
    if form is None or any(tuple(x.shape[1:]) != shape for x, _ in tests):
        return _evaluate_sequential(model, vectors, tests, task, batch_size)
    vectors = vectors.to(torch.float32)
    rows = min(batch_size, max(y.shape[0] for _, y in tests))
    per_chunk = max(1, MAX_ACTIVATION_FLOATS // (max(1, form.floats_per_sample) * rows))
    metrics: list[dict[str, float]] = []
    for start in range(0, len(tests), per_chunk):
        chunk = slice(start, start + per_chunk)
        metrics += _evaluate_chunk(form, vectors[chunk], tests[chunk], task, batch_size)
    return metrics


def _evaluate_chunk(
    form: StackedModel,
    vectors: torch.Tensor,
    tests: Sequence[tuple[torch.Tensor, torch.Tensor]],
    task: str,
    batch_size: int,
) -> list[dict[str, float]]:
    """Return the metrics of ``k`` models, reading ``batch_size`` samples of each at a time."""
    k = len(tests)
    params = form.split(vectors)
    distinct: dict[tuple[int, int], int] = {}  # test sets by identity, read once each
    which = [distinct.setdefault((id(x), id(y)), len(distinct)) for x, y in tests]
    first = {i: tests[which.index(i)] for i in range(len(distinct))}
    shared = len(distinct) == 1
    x_all = first[0][0] if shared else torch.cat([first[i][0] for i in range(len(distinct))])
    y_all = first[0][1] if shared else torch.cat([first[i][1] for i in range(len(distinct))])
    sizes = torch.tensor([first[i][1].shape[0] for i in range(len(distinct))])
    lengths = sizes[which]
    offsets = (torch.cumsum(sizes, 0) - sizes)[which]
    loss_sum = torch.zeros(k, dtype=torch.float64)
    correct = torch.zeros(k, dtype=torch.int64)
    longest = int(lengths.max())
    with torch.no_grad():
        for start in range(0, longest, batch_size):
            valid = None
            if shared:
                xb = x_all[start : start + batch_size]
                yb = y_all[start : start + batch_size]
                xb, yb = xb.expand(k, *xb.shape), yb.expand(k, *yb.shape)
            else:
                pos = torch.arange(start, min(start + batch_size, longest))
                valid = pos[None, :] < lengths[:, None]
                rows = offsets[:, None] + torch.minimum(pos[None, :], lengths[:, None] - 1)
                nb = rows.shape[1]
                xb = x_all.index_select(0, rows.view(-1)).view(k, nb, *x_all.shape[1:])
                yb = y_all.index_select(0, rows.view(-1)).view(k, nb, *y_all.shape[1:])
            out = form.forward(params, xb)
            losses = sample_losses(out, yb, task)
            if valid is not None:
                losses = losses * valid
            loss_sum += losses.sum(dim=1).to(torch.float64)
            if task == "classification":
                hits = _argmax_hits(out, yb)
                correct += (hits if valid is None else hits & valid).sum(dim=1)
    return [EvalTotals(task, float(s), int(c), y.shape[0], y.numel()).metrics()
            for s, c, (_, y) in zip(loss_sum, correct, tests, strict=True)]


def _argmax_hits(out: torch.Tensor, yb: torch.Tensor) -> torch.Tensor:
    """Return ``out.argmax(dim=1) == yb`` for logits ``(k, classes, b)``, labels ``(k, b)``.

    The label's logit must be the maximum and no earlier class may reach it (argmax returns
    the first maximum). CPU argmax over the middle axis is ~100x slower than ``amax`` there.
    """
    best = out.amax(dim=1)
    label_logit = out.gather(1, yb.unsqueeze(1)).squeeze(1)
    classes = torch.arange(out.shape[1]).view(1, -1, 1)
    earlier = ((out == best.unsqueeze(1)) & (classes < yb.unsqueeze(1))).any(dim=1)
    return (label_logit == best) & ~earlier


def _evaluate_sequential(
    model: nn.Module,
    vectors: torch.Tensor,
    tests: Sequence[tuple[torch.Tensor, torch.Tensor]],
    task: str,
    batch_size: int,
) -> list[dict[str, float]]:
    """Return ``evaluate`` of each vector on its test set, one model at a time."""
    local = copy.deepcopy(model)
    metrics = []
    for vec, (x, y) in zip(vectors, tests, strict=True):
        set_flat(local, vec)
        metrics.append(evaluate(local, x, y, task, batch_size))
    return metrics
