"""Tests of simfl.learning.idx: genuine IDX files written small, then read back."""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np
import pytest

from simfl.errors import DataError
from simfl.learning.idx import load_mnist_idx, read_idx, write_idx

RNG = np.random.default_rng(0)


def _write_mnist(folder: Path, n_train: int = 12, n_test: int = 5, gz: bool = False) -> dict:
    arrays = {
        "train-images-idx3-ubyte": RNG.integers(0, 256, (n_train, 28, 28), dtype=np.uint8),
        "train-labels-idx1-ubyte": RNG.integers(0, 10, n_train, dtype=np.uint8),
        "t10k-images-idx3-ubyte": RNG.integers(0, 256, (n_test, 28, 28), dtype=np.uint8),
        "t10k-labels-idx1-ubyte": RNG.integers(0, 10, n_test, dtype=np.uint8),
    }
    for name, arr in arrays.items():
        write_idx(folder / (name + (".gz" if gz else "")), arr)
    return arrays


def test_write_idx_produces_the_documented_header(tmp_path: Path) -> None:
    write_idx(tmp_path / "a", np.zeros((2, 28, 28), np.uint8))
    data = (tmp_path / "a").read_bytes()
    assert data[:4] == bytes([0, 0, 8, 3])  # magic 2051
    assert data[4:16] == bytes([0, 0, 0, 2, 0, 0, 0, 28, 0, 0, 0, 28])
    assert len(data) == 16 + 2 * 28 * 28


@pytest.mark.parametrize("dtype", [np.uint8, np.int8, np.int16, np.int32, np.float32, np.float64])
def test_idx_round_trip_of_every_type(tmp_path: Path, dtype: type) -> None:
    arr: np.ndarray = (np.arange(24).reshape(2, 3, 4) - 5).astype(dtype)
    if dtype is np.uint8:
        arr = np.arange(24, dtype=np.uint8).reshape(2, 3, 4)
    write_idx(tmp_path / "x.idx", arr)
    back = read_idx(tmp_path / "x.idx")
    assert back.dtype == np.dtype(dtype) and np.array_equal(back, arr)


def test_mnist_round_trip(tmp_path: Path) -> None:
    arrays = _write_mnist(tmp_path)
    train, test = load_mnist_idx(tmp_path)
    assert train.x.shape == (12, 1, 28, 28) and test.x.shape == (5, 1, 28, 28)
    assert train.x.dtype == np.float32 and train.y.dtype == np.int64
    expected = arrays["train-images-idx3-ubyte"].astype(np.float32) / 255
    assert np.array_equal(train.x[:, 0], expected)
    assert np.array_equal(test.y, arrays["t10k-labels-idx1-ubyte"])
    assert train.name == "mnist/train" and test.num_classes == 10


def test_gzipped_files_and_fashion_name(tmp_path: Path) -> None:
    arrays = _write_mnist(tmp_path, gz=True)
    with gzip.open(tmp_path / "t10k-labels-idx1-ubyte.gz") as fh:
        assert fh.read(4) == bytes([0, 0, 8, 1])
    train, _ = load_mnist_idx(tmp_path, variant="fashion-mnist")
    assert np.array_equal(train.y, arrays["train-labels-idx1-ubyte"])
    assert train.name == "fashion-mnist/train"


def test_missing_file_is_named(tmp_path: Path) -> None:
    _write_mnist(tmp_path)
    (tmp_path / "t10k-labels-idx1-ubyte").unlink()
    with pytest.raises(DataError, match="missing t10k-labels-idx1-ubyte"):
        load_mnist_idx(tmp_path)


def test_missing_directory(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="no such directory"):
        load_mnist_idx(tmp_path / "nope")


def test_wrong_magic_is_reported(tmp_path: Path) -> None:
    _write_mnist(tmp_path)
    path = tmp_path / "train-images-idx3-ubyte"
    data = bytearray(path.read_bytes())
    data[0:4] = (1234).to_bytes(4, "big")
    path.write_bytes(bytes(data))
    with pytest.raises(DataError, match="expected magic 2051 for an image file, found 1234"):
        load_mnist_idx(tmp_path)


def test_swapped_label_and_image_files_are_reported(tmp_path: Path) -> None:
    _write_mnist(tmp_path)
    images = tmp_path / "t10k-images-idx3-ubyte"
    labels = tmp_path / "t10k-labels-idx1-ubyte"
    img_bytes, lbl_bytes = images.read_bytes(), labels.read_bytes()
    images.write_bytes(lbl_bytes)
    labels.write_bytes(img_bytes)
    with pytest.raises(DataError, match="expected magic 2051 for an image file, found 2049"):
        load_mnist_idx(tmp_path)


def test_truncated_file_is_reported(tmp_path: Path) -> None:
    _write_mnist(tmp_path)
    path = tmp_path / "train-images-idx3-ubyte"
    path.write_bytes(path.read_bytes()[:-10])
    with pytest.raises(DataError, match=r"header dims \(12, 28, 28\) .* the file is truncated"):
        load_mnist_idx(tmp_path)


def test_wrong_image_size_is_reported(tmp_path: Path) -> None:
    _write_mnist(tmp_path)
    write_idx(tmp_path / "train-images-idx3-ubyte", np.zeros((12, 8, 8), np.uint8))
    with pytest.raises(DataError, match="images are 8x8, expected 28x28"):
        load_mnist_idx(tmp_path)


def test_label_count_mismatch_is_reported(tmp_path: Path) -> None:
    _write_mnist(tmp_path)
    write_idx(tmp_path / "train-labels-idx1-ubyte", np.zeros(11, np.uint8))
    with pytest.raises(DataError, match="11 labels but train-images-idx3-ubyte has 12 images"):
        load_mnist_idx(tmp_path)


def test_label_above_nine_is_reported(tmp_path: Path) -> None:
    _write_mnist(tmp_path)
    write_idx(tmp_path / "t10k-labels-idx1-ubyte", np.full(5, 10, np.uint8))
    with pytest.raises(DataError, match=r"label 10 found; MNIST labels must be 0\.\.9"):
        load_mnist_idx(tmp_path)


def test_corrupt_gzip_is_reported(tmp_path: Path) -> None:
    _write_mnist(tmp_path, gz=True)
    (tmp_path / "train-images-idx3-ubyte.gz").write_bytes(b"not gzip at all")
    with pytest.raises(DataError, match="not a valid gzip file"):
        load_mnist_idx(tmp_path)


def test_unknown_type_code_is_reported(tmp_path: Path) -> None:
    (tmp_path / "x").write_bytes(bytes([0, 0, 7, 1, 0, 0, 0, 1, 5]))
    with pytest.raises(DataError, match="type code 0x07 is unknown"):
        read_idx(tmp_path / "x")


def test_write_idx_rejects_unsupported_dtype(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="dtype int64 cannot be stored"):
        write_idx(tmp_path / "x", np.zeros(3, np.int64))
