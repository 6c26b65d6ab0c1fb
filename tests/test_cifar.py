"""Tests of simfl.learning.cifar: small files in the genuine CIFAR-10 binary format."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from simfl.errors import DataError
from simfl.learning.cifar import RECORD_BYTES, load_cifar10_bin, read_cifar_bin

RNG = np.random.default_rng(0)


def _records(n: int) -> tuple[bytes, np.ndarray, np.ndarray]:
    labels = RNG.integers(0, 10, n, dtype=np.uint8)
    pixels = RNG.integers(0, 256, (n, 3072), dtype=np.uint8)
    data = np.concatenate([labels[:, None], pixels], axis=1).tobytes()
    return data, labels, pixels


def write_cifar_batches(folder: Path, per_batch: int = 3
                        ) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    folder.mkdir(parents=True, exist_ok=True)
    written = {}
    for name in [f"data_batch_{i}.bin" for i in range(1, 6)] + ["test_batch.bin"]:
        data, labels, pixels = _records(per_batch)
        (folder / name).write_bytes(data)
        written[name] = (labels, pixels)
    return written


def test_record_layout_is_label_then_rgb_planes(tmp_path: Path) -> None:
    record = bytes([7]) + bytes([10] * 1024 + [20] * 1024 + [30] * 1024)
    (tmp_path / "one.bin").write_bytes(record)
    pixels, labels = read_cifar_bin(tmp_path / "one.bin")
    assert labels.tolist() == [7]
    assert pixels.shape == (1, 3, 32, 32)
    assert [int(pixels[0, c, 5, 9]) for c in range(3)] == [10, 20, 30]


def test_round_trip_of_all_batches(tmp_path: Path) -> None:
    written = write_cifar_batches(tmp_path)
    train, test = load_cifar10_bin(tmp_path)
    assert train.x.shape == (15, 3, 32, 32) and test.x.shape == (3, 3, 32, 32)
    assert train.x.dtype == np.float32 and train.y.dtype == np.int64
    labels, pixels = written["data_batch_2.bin"]
    assert np.array_equal(train.y[3:6], labels)
    assert np.array_equal(train.x[3:6].reshape(3, -1), pixels.astype(np.float32) / 255)
    assert train.x.min() >= 0.0 and train.x.max() <= 1.0
    assert test.name == "cifar10/test" and test.num_classes == 10


def test_extracted_subdirectory_is_found(tmp_path: Path) -> None:
    write_cifar_batches(tmp_path / "cifar-10-batches-bin")
    train, _ = load_cifar10_bin(tmp_path)
    assert len(train) == 15


def test_missing_batches_are_listed(tmp_path: Path) -> None:
    write_cifar_batches(tmp_path)
    (tmp_path / "data_batch_4.bin").unlink()
    (tmp_path / "test_batch.bin").unlink()
    with pytest.raises(DataError, match=r"missing data_batch_4\.bin, test_batch\.bin"):
        load_cifar10_bin(tmp_path)


def test_missing_directory(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="no such directory"):
        load_cifar10_bin(tmp_path / "nope")


def test_size_not_a_multiple_of_the_record_is_reported(tmp_path: Path) -> None:
    write_cifar_batches(tmp_path)
    path = tmp_path / "data_batch_3.bin"
    path.write_bytes(path.read_bytes()[:-1])
    with pytest.raises(DataError, match=f"{3 * RECORD_BYTES - 1} bytes is not a positive multiple"):
        load_cifar10_bin(tmp_path)


def test_empty_file_is_reported(tmp_path: Path) -> None:
    (tmp_path / "x.bin").write_bytes(b"")
    with pytest.raises(DataError, match="0 bytes is not a positive multiple of 3073"):
        read_cifar_bin(tmp_path / "x.bin")


def test_label_above_nine_is_reported(tmp_path: Path) -> None:
    write_cifar_batches(tmp_path)
    path = tmp_path / "test_batch.bin"
    data = bytearray(path.read_bytes())
    data[RECORD_BYTES] = 57  # label byte of record 1
    path.write_bytes(bytes(data))
    with pytest.raises(DataError, match=r"record 1 has label 57; CIFAR-10 labels are 0\.\.9"):
        load_cifar10_bin(tmp_path)
