"""Context inputs for heart-rate models: each workout also sees the user's previous workout.

FitRec's heart-rate model, which SGFusion (arXiv 2510.23455) trains, feeds an LSTM the
user's previous workout (its step inputs and its heart rate) next to the current one. Here
the context becomes extra channels of every step: ``x`` of shape ``(n, seq, f)`` becomes
``(n, seq, 2f + 1)`` = the workout's own ``f`` inputs, then the previous workout's ``f``
inputs and its standardised heart rate. Only training workouts serve as context, so no test
heart rate is ever an input: train workout ``k`` (in the user's order) sees train workout
``k - 1`` (the first one sees zeros: it has no predecessor), and every test workout sees the
user's last train workout.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

import numpy as np

from simfl.errors import SimflError
from simfl.learning.sequences import SequenceClient


def context_features(step_features: int) -> int:
    """Return how many context channels a workout of ``step_features`` inputs gets (f + 1)."""
    return step_features + 1


def with_previous_workout(clients: Sequence[SequenceClient], hr_mean_bpm: float,
                          hr_std_bpm: float) -> list[SequenceClient]:
    """Return the clients with the previous workout appended to every step's inputs.

    Parameters
    ----------
    clients
        Users with per-step targets, ``y`` of shape ``(n, seq)``.
    hr_mean_bpm, hr_std_bpm
        Standardisation of the context heart rate (the training targets' mean and std).

    Raises
    ------
    SimflError
        If a client's targets are not per step (the context needs the heart rate at every
        step) or the std is not positive.
    """
    if not hr_std_bpm > 0:
        raise SimflError(f"heart-rate std {hr_std_bpm} must be > 0 to standardise the context")
    out = []
    for c in clients:
        if c.y_train.ndim != 2:
            raise SimflError(f"client {c.name}: context inputs need the heart rate at every "
                             f"step, targets of shape (n, seq); got {c.y_train.shape} (use "
                             "per-step targets, or turn the context off)")
        past = np.concatenate(
            [c.x_train, ((c.y_train - hr_mean_bpm) / hr_std_bpm)[..., None]], axis=-1)
        before = np.zeros_like(past)
        before[1:] = past[:-1]
        latest = np.broadcast_to(past[-1], (len(c.x_test), *past.shape[1:]))
        out.append(replace(
            c,
            x_train=np.concatenate([c.x_train, before], axis=-1).astype(np.float32),
            x_test=np.concatenate([c.x_test, latest], axis=-1).astype(np.float32)))
    return out
