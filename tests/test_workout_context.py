"""Tests of simfl.learning.workout_context: the previous workout as extra step inputs."""

from __future__ import annotations

import numpy as np
import pytest

from simfl.errors import SimflError
from simfl.learning.sequences import SequenceClient
from simfl.learning.workout_context import context_features, with_previous_workout


def _user(n_train: int, n_test: int, target: str = "sequence") -> SequenceClient:
    x = np.arange(n_train * 2 * 3, dtype=np.float32).reshape(n_train, 2, 3)
    y = 100.0 + np.arange(n_train * 2, dtype=np.float32).reshape(n_train, 2)
    xt = -np.ones((n_test, 2, 3), dtype=np.float32)
    yt = np.zeros((n_test, 2), dtype=np.float32)
    if target == "last":
        y, yt = y[:, -1], yt[:, -1]
    return SequenceClient("z/u", "z", "u", x, y, xt, yt)


def test_each_train_workout_sees_the_one_before() -> None:
    (out,) = with_previous_workout([_user(3, 1)], hr_mean_bpm=100.0, hr_std_bpm=2.0)
    assert out.x_train.shape == (3, 2, 3 + context_features(3))
    assert np.all(out.x_train[0, :, 3:] == 0.0)
    assert out.x_train[2, :, 3:6] == pytest.approx(out.x_train[1, :, :3])
    assert out.x_train[2, :, 6] == pytest.approx((np.array([102.0, 103.0]) - 100.0) / 2.0)


def test_test_workouts_see_the_last_train_workout_not_test_heart_rates() -> None:
    (out,) = with_previous_workout([_user(3, 2)], hr_mean_bpm=100.0, hr_std_bpm=2.0)
    for k in range(2):
        assert out.x_test[k, :, 3:6] == pytest.approx(out.x_train[2, :, :3])
        assert out.x_test[k, :, 6] == pytest.approx([2.0, 2.5])


def test_context_needs_per_step_heart_rates() -> None:
    with pytest.raises(SimflError, match=r"heart rate at every step"):
        with_previous_workout([_user(3, 1, "last")], 100.0, 2.0)
