"""Minibatch schedules for batched training: every client's minibatches, padded and stacked.

:func:`draw_minibatches` draws one client's minibatches exactly as
:func:`simfl.learning.training.train_local` does (one ``rng.permutation(n)`` per epoch, the
last minibatch of an epoch possibly smaller, steps cycling through fresh epochs), so a batched
computation consumes each client's random stream identically to the sequential path.
:class:`MinibatchSchedule` stacks many clients' minibatches into dense arrays, so each step of
a batched computation is one slice, whatever the number of clients.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from simfl.errors import SimflError

#: Index that marks a padding slot in the arrays of :func:`draw_minibatches`.
PAD = -1

#: One computation of a step: clients ``first:end``, minibatches padded to ``width``.
Pass = tuple[int, int, int]


def total_steps(n: int, batch_size: int, epochs: int | None, steps: int | None) -> int:
    """Return the number of minibatches ``train_local`` runs: ``steps``, else epochs' worth."""
    if steps is not None:
        return steps
    return -(-n // batch_size) * int(epochs or 1)


def draw_minibatches(n: int, batch_size: int, steps: int, rng: np.random.Generator) -> np.ndarray:
    """Return a client's minibatches as sample indices, shape ``(steps, batch_size)`` int64.

    Row ``s`` holds the indices (into the client's ``n`` samples) of minibatch ``s``; the
    slots past the end of a short minibatch (the last of an epoch) hold :data:`PAD`.
    ``rng.permutation(n)`` is called once per epoch begun, as ``train_local`` does.
    """
    if n < 1 or batch_size < 1 or steps < 1:
        raise SimflError(
            f"draw_minibatches: n={n}, batch_size={batch_size}, steps={steps}; all must be >= 1"
        )
    per_epoch = -(-n // batch_size)
    epochs = -(-steps // per_epoch)
    padded = np.full((epochs, per_epoch * batch_size), PAD, dtype=np.int64)
    for e in range(epochs):
        padded[e, :n] = rng.permutation(n)
    return padded.reshape(epochs * per_epoch, batch_size)[:steps]


@dataclass(frozen=True)
class MinibatchSchedule:
    """Stacked minibatches of clients ordered by step count, most steps first.

    Attributes
    ----------
    rows
        ``(steps, clients, width)`` int64: rows of the clients' concatenated data; padding
        slots point at the client's first row (their weight is 0).
    weights
        ``(steps, clients, width)`` float32: ``1 / size`` of the minibatch for a real sample,
        0 for padding, so a weighted sum of per-sample losses is each client's minibatch mean.
    sizes
        ``(steps, clients)`` int64: samples in each minibatch, 0 once a client is done.
    passes
        Per step, the computations that run it: ``(first, end, width)`` = clients
        ``first:end`` with their minibatches padded to ``width``. One pass covers all clients
        still training (always a prefix), or two when splitting saves enough padding.
    """

    rows: np.ndarray
    weights: np.ndarray
    sizes: np.ndarray
    passes: tuple[tuple[Pass, ...], ...]

    @classmethod
    def stack(
        cls,
        minibatches: Sequence[np.ndarray],
        offsets: Sequence[int],
        min_split_rows: int | None = None,
    ) -> MinibatchSchedule:
        """Return the schedule of clients given by their :func:`draw_minibatches` arrays.

        Parameters
        ----------
        minibatches
            One ``(steps_c, batch_size_c)`` array per client, ordered by ``steps_c``
            descending (so the clients still training are always a prefix); ordering
            clients of equal steps by their last minibatch, largest first, lets a split
            separate wide minibatches from narrow ones.
        offsets
            Row of each client's first sample in the concatenated data.
        min_split_rows
            A step is run as two passes (clients ``0:j`` and ``j:k``, each padded to its own
            width) when that saves at least this many padded sample rows; None never splits.
        """
        steps = [len(m) for m in minibatches]
        if any(a < b for a, b in itertools.pairwise(steps)):
            raise SimflError(
                f"MinibatchSchedule: clients have steps {steps}; order them by steps, most first"
            )
        width = max(m.shape[1] for m in minibatches)
        shape = (steps[0], len(minibatches), width)
        local = np.full(shape, PAD, dtype=np.int64)
        for c, m in enumerate(minibatches):
            local[: len(m), c, : m.shape[1]] = m
        valid = local != PAD
        sizes = valid.sum(axis=2)
        rows = np.where(valid, local, 0) + np.asarray(offsets, dtype=np.int64)[None, :, None]
        weights = (valid / np.maximum(sizes, 1)[:, :, None]).astype(np.float32)
        active = (np.asarray(steps)[None, :] > np.arange(shape[0])[:, None]).sum(axis=1)
        return cls(rows, weights, sizes, _passes(sizes, active, min_split_rows))

    @property
    def num_steps(self) -> int:
        """Return the number of batched steps (the most steps of any client)."""
        return int(self.rows.shape[0])


def _passes(
    sizes: np.ndarray, active: np.ndarray, min_split_rows: int | None
) -> tuple[tuple[Pass, ...], ...]:
    """Return each step's passes: all active clients, or two ranges if that pads less."""
    widths = sizes.max(axis=1)
    whole: list[tuple[Pass, ...]] = [
        ((0, int(k), int(w)),) for k, w in zip(active, widths, strict=True)
    ]
    clients = sizes.shape[1]
    if min_split_rows is None or clients < 2:
        return tuple(whole)
    head = np.maximum.accumulate(sizes, axis=1)[:, :-1]  # width of clients 0:j, j = 1..C-1
    tail = np.maximum.accumulate(sizes[:, ::-1], axis=1)[:, ::-1][:, 1:]  # of clients j:
    cut = np.arange(1, clients)[None, :]
    rows = head * cut + tail * (active[:, None] - cut)
    rows = np.where(cut < active[:, None], rows, np.iinfo(np.int64).max)
    best = rows.argmin(axis=1)
    saved = widths * active - rows[np.arange(len(rows)), best]
    out: list[tuple[Pass, ...]] = []
    for s, one in enumerate(whole):
        if saved[s] < min_split_rows:
            out.append(one)
            continue
        j = int(best[s]) + 1
        out.append(((0, j, int(head[s, j - 1])), (j, int(active[s]), int(tail[s, j - 1]))))
    return tuple(out)
