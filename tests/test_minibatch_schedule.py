"""Tests of simfl.learning.minibatch_schedule."""

from __future__ import annotations

import numpy as np
import pytest

from simfl.errors import SimflError
from simfl.learning.minibatch_schedule import (
    PAD,
    MinibatchSchedule,
    draw_minibatches,
    total_steps,
)


def test_minibatches_are_train_locals_permutation_slices() -> None:
    drawn = draw_minibatches(10, 4, 5, np.random.default_rng(3))
    ref = np.random.default_rng(3)
    first, second = ref.permutation(10), ref.permutation(10)
    # epochs of 3 minibatches (4, 4, 2): 5 steps = one epoch + two minibatches of the next
    assert drawn[0].tolist() == first[:4].tolist()
    assert drawn[2].tolist() == [*first[8:], PAD, PAD]
    assert drawn[3].tolist() == second[:4].tolist()
    assert drawn[4].tolist() == second[4:8].tolist()


def test_drawing_advances_the_stream_one_permutation_per_epoch_begun() -> None:
    rng, ref = np.random.default_rng(8), np.random.default_rng(8)
    draw_minibatches(10, 4, 4, rng)  # 4 steps of 3 per epoch: 2 epochs begun
    ref.permutation(10)
    ref.permutation(10)
    assert rng.integers(1 << 30) == ref.integers(1 << 30)


def test_total_steps_prefers_steps_over_epochs() -> None:
    assert total_steps(50, 16, epochs=2, steps=None) == 8
    assert total_steps(50, 16, epochs=2, steps=3) == 3


def test_draw_rejects_empty_client() -> None:
    with pytest.raises(SimflError, match="n=0"):
        draw_minibatches(0, 4, 1, np.random.default_rng(0))


def test_stack_keeps_training_clients_as_a_prefix() -> None:
    a = draw_minibatches(10, 4, 3, np.random.default_rng(0))  # sizes 4, 4, 2
    b = draw_minibatches(3, 4, 1, np.random.default_rng(1))  # size 3
    sched = MinibatchSchedule.stack([a, b], offsets=[0, 10])
    assert sched.passes == (((0, 2, 4),), ((0, 1, 4),), ((0, 1, 2),))
    assert sched.sizes.tolist() == [[4, 3], [4, 0], [2, 0]]


def test_step_is_split_where_that_saves_enough_padding() -> None:
    wide = [draw_minibatches(8, 8, 1, np.random.default_rng(i)) for i in range(2)]
    narrow = [draw_minibatches(2, 8, 1, np.random.default_rng(i)) for i in range(3)]
    offsets = [0, 8, 16, 18, 20]
    # one pass pads 5 clients to 8 rows (40); two pass 2 x 8 + 3 x 2 = 22 rows: 18 saved
    split = MinibatchSchedule.stack(wide + narrow, offsets, min_split_rows=18)
    assert split.passes == (((0, 2, 8), (2, 5, 2)),)
    whole = MinibatchSchedule.stack(wide + narrow, offsets, min_split_rows=19)
    assert whole.passes == (((0, 5, 8),),)


def test_stack_weights_make_each_minibatch_a_mean() -> None:
    a = draw_minibatches(10, 4, 3, np.random.default_rng(0))
    b = draw_minibatches(3, 4, 1, np.random.default_rng(1))
    sched = MinibatchSchedule.stack([a, b], offsets=[0, 10])
    sums = sched.weights.sum(axis=2)
    assert np.allclose(sums, (sched.sizes > 0).astype(np.float32))


def test_stack_offsets_rows_into_concatenated_data() -> None:
    b = draw_minibatches(3, 4, 1, np.random.default_rng(1))
    sched = MinibatchSchedule.stack([b, b], offsets=[0, 10])
    real = sched.weights[0, 1] > 0
    assert sched.rows[0, 1][real].tolist() == (b[0][b[0] != PAD] + 10).tolist()
    assert (sched.rows[0, 1][~real] == 10).all()  # padding reads the client's first row


def test_stack_rejects_clients_not_ordered_by_steps() -> None:
    short = draw_minibatches(3, 4, 1, np.random.default_rng(1))
    long = draw_minibatches(10, 4, 3, np.random.default_rng(0))
    with pytest.raises(SimflError, match="order them by steps"):
        MinibatchSchedule.stack([short, long], offsets=[0, 3])
