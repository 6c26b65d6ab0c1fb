"""Tests of the dendrogram figure."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from simfl.analysis.dendrogram import plot_dendrogram


def test_leaves_are_labelled_in_tree_order_and_nodes_sit_at_d(tmp_path: Path) -> None:
    # ((a, c), b) with heights 0.2 and 0.7
    fig = plot_dendrogram([(0, 2), (3, 1)], [0.2, 0.7], ["a", "b", "c"],
                          path=tmp_path / "d.png")
    ax = fig.axes[0]
    assert [t.get_text() for t in ax.get_xticklabels()] == ["a", "c", "b"]
    tops = sorted({round(float(np.max(line.get_ydata())), 6) for line in ax.get_lines()})
    assert tops == [0.2, 0.7]
    assert (tmp_path / "d.png").read_bytes()[:4] == b"\x89PNG"


def test_inversions_are_flagged() -> None:
    # the child (a, b) at 0.9 sits above its parent at 0.5
    fig = plot_dendrogram([(0, 1), (3, 2)], [0.9, 0.5], ["a", "b", "c"])
    texts = [t.get_text() for t in fig.axes[0].texts]
    assert "red: 1 node(s) above their parent" in texts


def test_lengths_must_agree() -> None:
    with pytest.raises(ValueError, match="3 leaves need 2 merges"):
        plot_dendrogram([(0, 1)], [0.1], ["a", "b", "c"])
