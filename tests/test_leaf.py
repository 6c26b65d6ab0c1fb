"""Tests of simfl.learning.leaf: small files written in the LEAF / FedProx / pFedMe layout."""

from __future__ import annotations

import gzip
import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from simfl.errors import DataError
from simfl.learning.leaf import load_leaf

RNG = np.random.default_rng(0)


def _user_data(n: int, features: int = 4, labels: int = 3) -> dict[str, list[Any]]:
    return {"x": RNG.normal(size=(n, features)).round(3).tolist(),
            "y": RNG.integers(0, labels, n).tolist()}


def _leaf_file(users: dict[str, dict[str, list[Any]]], **extra: Any) -> dict[str, Any]:
    return {"users": list(users), "num_samples": [len(d["y"]) for d in users.values()],
            "user_data": users, **extra}


def _write(path: Path, doc: Any, gz: bool = False) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    text = doc if isinstance(doc, str) else json.dumps(doc)
    if gz:
        path.write_bytes(gzip.compress(text.encode()))
    else:
        path.write_text(text)


def _dataset(root: Path, gz: bool = False) -> dict[str, dict[str, dict[str, list[Any]]]]:
    """Two train files (b_ sorts after a_) and one test file; users u2, u0 in file a_."""
    files = {
        "train/a_train.json": {"u2": _user_data(5), "u0": _user_data(3)},
        "train/b_train.json": {"u1": _user_data(4)},
        "test/all_test.json": {"u0": _user_data(2), "u1": _user_data(1), "u2": _user_data(2)},
    }
    for name, users in files.items():
        _write(root / (name + (".gz" if gz else "")), _leaf_file(users), gz)
    return files


def test_clients_follow_file_order_with_their_own_splits(tmp_path: Path) -> None:
    files = _dataset(tmp_path / "synthetic")
    data = load_leaf(tmp_path / "synthetic")
    assert [c.name for c in data.clients] == ["u2", "u0", "u1"]
    u0 = data.clients[1]
    assert np.allclose(u0.train.x, np.array(files["train/a_train.json"]["u0"]["x"]))
    assert u0.test.y.tolist() == files["test/all_test.json"]["u0"]["y"]
    assert u0.train.x.dtype == np.float32 and u0.train.y.dtype == np.int64
    assert u0.train.name == "synthetic/u0/train"


def test_global_test_set_is_the_union_in_client_order(tmp_path: Path) -> None:
    _dataset(tmp_path)
    data = load_leaf(tmp_path)
    assert len(data.test) == 5
    assert np.array_equal(data.test.x, np.concatenate([c.test.x for c in data.clients]))


def test_num_classes_is_the_largest_label_plus_one(tmp_path: Path) -> None:
    _write(tmp_path / "train/t.json", _leaf_file({"a": {"x": [[0.0], [1.0]], "y": [0, 7]}}))
    _write(tmp_path / "test/t.json", _leaf_file({"a": {"x": [[0.0]], "y": [2]}}))
    data = load_leaf(tmp_path)
    assert data.task == "classification" and data.num_classes == 8
    assert load_leaf(tmp_path, num_classes=10).clients[0].train.num_classes == 10


def test_too_few_classes_given_is_an_error(tmp_path: Path) -> None:
    _write(tmp_path / "train/t.json", _leaf_file({"a": {"x": [[0.0], [1.0]], "y": [0, 7]}}))
    _write(tmp_path / "test/t.json", _leaf_file({"a": {"x": [[0.0]], "y": [2]}}))
    with pytest.raises(DataError, match="num_classes=5 but label 7 occurs; use at least 8"):
        load_leaf(tmp_path, num_classes=5)


def test_gzipped_files_and_a_data_subfolder(tmp_path: Path) -> None:
    _dataset(tmp_path / "femnist" / "data", gz=True)
    data = load_leaf(tmp_path / "femnist")
    assert data.name == "femnist" and len(data.clients) == 3


def test_flattened_images_take_image_shape(tmp_path: Path) -> None:
    users = {"w": {"x": RNG.random((3, 16)).tolist(), "y": [1, 0, 1]}}
    _write(tmp_path / "train/t.json", _leaf_file(users))
    _write(tmp_path / "test/t.json", _leaf_file(users))
    data = load_leaf(tmp_path, image_shape=(1, 4, 4))
    assert data.clients[0].train.x.shape == (3, 1, 4, 4)
    assert data.feature_shape == (1, 4, 4)


def test_image_shape_of_the_wrong_size(tmp_path: Path) -> None:
    _dataset(tmp_path)
    with pytest.raises(DataError, match=r"image_shape \(1, 3, 3\) holds 9 values but the "
                                        "samples have 4 features"):
        load_leaf(tmp_path, image_shape=(1, 3, 3))


def test_float_targets_make_a_regression_dataset(tmp_path: Path) -> None:
    users = {"r": {"x": [[1.0, 2.0], [3.0, 4.0]], "y": [0.5, 1.5]}}
    _write(tmp_path / "train/t.json", _leaf_file(users))
    _write(tmp_path / "test/t.json", _leaf_file(users))
    data = load_leaf(tmp_path)
    assert data.task == "regression" and data.num_classes == 0
    assert data.test.y.dtype == np.float32


def test_hierarchies_are_kept_per_user(tmp_path: Path) -> None:
    users = {"a": _user_data(2), "b": _user_data(2)}
    _write(tmp_path / "train/t.json", _leaf_file(users, hierarchies=["h1", "h2"]))
    _write(tmp_path / "test/t.json", _leaf_file(users))
    assert load_leaf(tmp_path).hierarchies == {"a": "h1", "b": "h2"}


def test_mixed_label_types_name_both_places(tmp_path: Path) -> None:
    _write(tmp_path / "train/t.json", _leaf_file({"a": {"x": [[0.0]], "y": [1]},
                                                  "b": {"x": [[0.0]], "y": [0.5]}}))
    _write(tmp_path / "test/t.json", _leaf_file({"a": {"x": [[0.0]], "y": [1]},
                                                 "b": {"x": [[0.0]], "y": [0.5]}}))
    with pytest.raises(DataError, match=r"labels mix integers \(.*user 'a'\) and floats "
                                        r"\(.*user 'b'\).*task='regression'"):
        load_leaf(tmp_path)
    assert load_leaf(tmp_path, task="regression").task == "regression"


def test_classification_rejects_fractional_labels(tmp_path: Path) -> None:
    users = {"a": {"x": [[0.0], [1.0]], "y": [1.0, 2.5]}}
    _write(tmp_path / "train/t.json", _leaf_file(users))
    _write(tmp_path / "test/t.json", _leaf_file(users))
    with pytest.raises(DataError, match=r"label 2\.5 is not an integer"):
        load_leaf(tmp_path, task="classification")


def test_every_bad_file_and_user_gets_one_line(tmp_path: Path) -> None:
    _write(tmp_path / "train/a.json", '{"users": ["a"], "num_samples": [1],\n "user_data": }')
    _write(tmp_path / "train/b.json", {"users": ["b"], "user_data": {}})
    _write(tmp_path / "train/c.json", {"users": ["c", "d", "e", "f"], "num_samples": [2, 1, 1, 2],
                                       "user_data": {"c": {"x": [[1.0]], "y": [0]},
                                                     "d": {"x": [[1.0, 2.0]], "y": [0]},
                                                     "e": {"x": [["a"]], "y": [0]},
                                                     "f": {"x": [[1.0], [1.0, 2.0]],
                                                           "y": [0, 1]}}})
    _write(tmp_path / "train/d.json", _leaf_file({"g": {"x": [[1.0]], "y": ["cat"]}}))
    _write(tmp_path / "test/t.json", _leaf_file({"d": _user_data(1, features=2),
                                                 "z": _user_data(1, features=2),
                                                 "g": _user_data(1, features=2)}))
    with pytest.raises(DataError) as info:
        load_leaf(tmp_path)
    lines = info.value.problems
    expected = [
        "a.json:2:15: invalid JSON",
        "b.json: top level has ['user_data', 'users']; a LEAF file is an object with keys",
        "c.json: user 'c': num_samples says 2 but x has 1 and y 1 entries",
        "c.json: user 'e': x holds text; only numeric features are read",
        "c.json: user 'f': x is ragged (rows of lengths [1, 2])",
        "t.json: user 'z': has test data but no train data",
        "d.json: user 'g': samples have 1 features but /",
        "d.json: user 'g': label 'cat' is not a number",
    ]
    assert len(lines) == len(expected)
    for line, text in zip(lines, expected, strict=True):
        assert text in line


def test_user_twice_in_one_split(tmp_path: Path) -> None:
    _write(tmp_path / "train/a.json", _leaf_file({"u": _user_data(2)}))
    _write(tmp_path / "train/b.json", _leaf_file({"u": _user_data(2)}))
    _write(tmp_path / "test/t.json", _leaf_file({"u": _user_data(2)}))
    with pytest.raises(DataError, match=r"b.json: user 'u': already in .*a.json: user 'u'"):
        load_leaf(tmp_path)


def test_user_without_test_data(tmp_path: Path) -> None:
    _write(tmp_path / "train/a.json", _leaf_file({"u": _user_data(2), "v": _user_data(2)}))
    _write(tmp_path / "test/t.json", _leaf_file({"u": _user_data(2)}))
    with pytest.raises(DataError, match="user 'v': has train data but no test data"):
        load_leaf(tmp_path)


def test_empty_folders(tmp_path: Path) -> None:
    (tmp_path / "train").mkdir()
    (tmp_path / "test").mkdir()
    with pytest.raises(DataError) as info:
        load_leaf(tmp_path)
    assert len(info.value.problems) == 2
    assert "train: no .json or .json.gz files" in info.value.problems[0]


def test_missing_split_folders(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="no train/ and test/ folders here"):
        load_leaf(tmp_path)


def test_corrupt_gzip(tmp_path: Path) -> None:
    _dataset(tmp_path)
    (tmp_path / "test" / "all_test.json").unlink()
    (tmp_path / "test" / "all_test.json.gz").write_bytes(b"\x1f\x8b not gzip")
    with pytest.raises(DataError, match=r"all_test\.json\.gz: not a valid gzip file"):
        load_leaf(tmp_path)


def test_many_problems_are_capped(tmp_path: Path) -> None:
    users = {f"u{i}": {"x": [[1.0]], "y": [0, 1]} for i in range(60)}
    _write(tmp_path / "train/t.json", {"users": list(users), "num_samples": [2] * 60,
                                       "user_data": users})
    _write(tmp_path / "test/t.json", _leaf_file({}))
    with pytest.raises(DataError) as info:
        load_leaf(tmp_path)
    assert len(info.value.problems) == 51
    assert info.value.problems[-1] == "... and 10 more problems"
