"""Tests of simfl.learning.grouping: clients into groups, every client exactly once."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from simfl.errors import SimflError
from simfl.learning.grouping import (
    contiguous_groups,
    explicit_groups,
    label_cluster_groups,
    label_histograms,
    random_groups,
    read_group_file,
    round_robin_groups,
)


def covers_once(groups: list[list[int]], n: int) -> bool:
    return sorted(i for g in groups for i in g) == list(range(n)) and all(groups)


def test_contiguous_blocks_differ_by_at_most_one() -> None:
    groups = contiguous_groups(10, 3)
    assert [len(g) for g in groups] == [3, 4, 3] and covers_once(groups, 10)


def test_round_robin_deals_like_cards() -> None:
    assert round_robin_groups(7, 3) == [[0, 3, 6], [1, 4], [2, 5]]


def test_random_groups_are_seeded_blocks() -> None:
    a = random_groups(20, 4, np.random.default_rng(1))
    assert a == random_groups(20, 4, np.random.default_rng(1))
    assert covers_once(a, 20) and a != contiguous_groups(20, 4)


def test_more_groups_than_clients_is_refused() -> None:
    with pytest.raises(SimflError, match=r"5 groups for 3 clients: use 1..3 groups"):
        contiguous_groups(3, 5)


def test_histograms_of_labels_and_of_targets() -> None:
    hist = label_histograms([np.array([0, 0, 1]), np.array([2])], num_classes=3)
    assert np.allclose(hist, [[2 / 3, 1 / 3, 0], [0, 0, 1]])
    reg = label_histograms([np.array([0.0, 0.1]), np.array([0.9, 1.0])], bins=2)
    assert np.allclose(reg, [[1, 0], [0, 1]])


def test_label_clusters_group_clients_with_the_same_labels() -> None:
    labels = [np.array([0, 1] * 5)] * 4 + [np.array([7, 8] * 5)] * 4 + [np.array([4] * 9)] * 4
    hist = label_histograms(labels, num_classes=10)
    groups = label_cluster_groups(hist, 3, np.random.default_rng(0))
    assert sorted(groups) == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9, 10, 11]]


def test_label_clusters_never_leave_a_group_empty() -> None:
    hist = label_histograms([np.array([0])] * 6, num_classes=2)  # all identical
    groups = label_cluster_groups(hist, 3, np.random.default_rng(0))
    assert covers_once(groups, 6)


def test_explicit_groups_report_every_mistake() -> None:
    with pytest.raises(SimflError) as info:
        explicit_groups([[0, 1], [1, 7], []], 4)
    assert info.value.problems == [
        "groups.members[1]: client 1 is already in group 0; a client belongs to one group",
        "groups.members[1]: client 7 does not exist (clients are 0..3)",
        "groups.members[2] is empty; every group needs a client",
        "groups.members: clients 2, 3 are in no group; list every client once",
    ]


def test_group_file_reads_names_and_indices(tmp_path: Path) -> None:
    path = tmp_path / "g.csv"
    path.write_text("client,group\nclient-0,north\n1,south\n2,north\n")
    assert read_group_file(path, 3) == (["north", "south"], [[0, 2], [1]])


def test_group_file_errors_name_the_line(tmp_path: Path) -> None:
    path = tmp_path / "g.csv"
    path.write_text("client,group\n0,a\nx,b\n")
    with pytest.raises(SimflError, match=r"g.csv:3: 'x','b': write a client index"):
        read_group_file(path, 2)
    path.write_text("id,team\n")
    with pytest.raises(SimflError, match=r"g.csv:1: the header must be 'client,group'"):
        read_group_file(path, 2)


def test_a_binary_group_file_is_reported(tmp_path: Path) -> None:
    path = tmp_path / "groups.csv"
    path.write_bytes(b"client,group\n\xff\xfe\x00\x01\n")
    with pytest.raises(SimflError, match=r"groups.csv: cannot read the group file"):
        read_group_file(path, 2)
