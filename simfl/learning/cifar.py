"""CIFAR-10 from its genuine binary version (``cifar-10-binary.tar.gz``, extracted).

Each ``.bin`` file is a sequence of 3073-byte records: one label byte (0..9), then 3072
pixel bytes, 1024 red, 1024 green, 1024 blue, each plane row-major 32x32
(Krizhevsky, https://www.cs.toronto.edu/~kriz/cifar.html). Nothing is ever unpickled.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from simfl.errors import DataError
from simfl.learning.dataset import Dataset

RECORD_BYTES = 1 + 3 * 32 * 32
CIFAR10_CLASSES = 10
TRAIN_FILES = tuple(f"data_batch_{i}.bin" for i in range(1, 6))
TEST_FILES = ("test_batch.bin",)
SUBDIR = "cifar-10-batches-bin"


def read_cifar_bin(path: str | os.PathLike[str]) -> tuple[np.ndarray, np.ndarray]:
    """Return ``(pixels, labels)`` of one CIFAR-10 ``.bin`` file.

    ``pixels`` is uint8 of shape ``(n, 3, 32, 32)`` (channels R, G, B) and ``labels`` int64
    of shape ``(n,)``.

    Raises
    ------
    DataError
        If the file cannot be read, its size is not a whole number of 3073-byte records, or
        a label is above 9.
    """
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise DataError(f"{path}: cannot read ({exc.strerror})") from exc
    if len(data) == 0 or len(data) % RECORD_BYTES:
        raise DataError(
            f"{path}: {len(data)} bytes is not a positive multiple of {RECORD_BYTES} "
            "(1 label byte + 3072 pixel bytes per image); the file is truncated or is not "
            "from the CIFAR-10 binary version (the python version is not supported)"
        )
    records = np.frombuffer(data, dtype=np.uint8).reshape(-1, RECORD_BYTES)
    labels = records[:, 0].astype(np.int64)
    bad = np.flatnonzero(labels >= CIFAR10_CLASSES)
    if bad.size:
        raise DataError(
            f"{path}: record {int(bad[0])} has label {int(labels[bad[0]])}; CIFAR-10 labels "
            "are 0..9 (is this CIFAR-100, whose records have 2 label bytes?)"
        )
    return records[:, 1:].reshape(-1, 3, 32, 32), labels


def cifar10_train_samples(directory: str | os.PathLike[str]) -> int:
    """Return the number of training images in a CIFAR-10 folder, from the file sizes only.

    Raises
    ------
    DataError
        As :func:`load_cifar10_bin` for a missing folder or batch file, or a bad file size.
    """
    root = _batches_dir(directory)
    total = 0
    for name in TRAIN_FILES:
        size = (root / name).stat().st_size
        if size == 0 or size % RECORD_BYTES:
            raise DataError(f"{root / name}: {size} bytes is not a positive multiple of "
                            f"{RECORD_BYTES}; the file is truncated or not CIFAR-10 binary")
        total += size // RECORD_BYTES
    return total


def _batches_dir(directory: str | os.PathLike[str]) -> Path:
    """Return the folder that holds the batch files (``directory`` or its subfolder)."""
    root = Path(directory)
    if not root.is_dir():
        raise DataError(
            f"{root}: no such directory; point load_cifar10_bin at the folder holding "
            "data_batch_1.bin .. data_batch_5.bin and test_batch.bin"
        )
    if not (root / TRAIN_FILES[0]).is_file() and (root / SUBDIR).is_dir():
        root = root / SUBDIR
    missing = [n for n in TRAIN_FILES + TEST_FILES if not (root / n).is_file()]
    if missing:
        raise DataError(
            f"{root}: missing {', '.join(missing)}; extract cifar-10-binary.tar.gz there "
            "(the binary version, not the python one)"
        )
    return root


def load_cifar10_bin(directory: str | os.PathLike[str]) -> tuple[Dataset, Dataset]:
    """Return ``(train, test)`` CIFAR-10 datasets from the binary batch files.

    ``directory`` holds ``data_batch_1.bin`` .. ``data_batch_5.bin`` and ``test_batch.bin``,
    directly or in a ``cifar-10-batches-bin/`` subfolder (as the tarball extracts).

    Returns
    -------
    tuple[Dataset, Dataset]
        float32 ``x`` in [0, 1] of shape ``(n, 3, 32, 32)``, int64 labels in 0..9.
    """
    root = _batches_dir(directory)
    out = []
    for split, names in (("train", TRAIN_FILES), ("test", TEST_FILES)):
        pixels, labels = zip(*(read_cifar_bin(root / n) for n in names), strict=True)
        x = np.concatenate(pixels).astype(np.float32)
        x /= np.float32(255.0)  # in place: no second full-size copy
        y = np.concatenate(labels)
        out.append(Dataset(f"cifar10/{split}", x, y, "classification", CIFAR10_CLASSES))
    return out[0], out[1]
