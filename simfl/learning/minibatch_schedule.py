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
    active
        ``(steps,)``: clients still training at each step; always a prefix of the clients.
    widths
        ``(steps,)``: the largest minibatch among the active clients at each step.
    """

    rows: np.ndarray
    weights: np.ndarray
    sizes: np.ndarray
    active: np.ndarray
    widths: np.ndarray

    @classmethod
    def stack(cls, minibatches: Sequence[np.ndarray], offsets: Sequence[int]) -> MinibatchSchedule:
        """Return the schedule of clients given by their :func:`draw_minibatches` arrays.

        Parameters
        ----------
        minibatches
            One ``(steps_c, batch_size_c)`` array per client, ordered by ``steps_c``
            descending (so the clients still training are always a prefix).
        offsets
            Row of each client's first sample in the concatenated data.
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
        widths = sizes.max(axis=1)
        return cls(rows, weights, sizes, active, widths)

    @property
    def num_steps(self) -> int:
        """Return the number of batched steps (the most steps of any client)."""
        return int(self.rows.shape[0])
