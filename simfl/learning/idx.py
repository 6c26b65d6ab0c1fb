"""MNIST and Fashion-MNIST from their genuine IDX files (optionally gzipped).

The IDX format (LeCun et al., http://yann.lecun.com/exdb/mnist/) is a big-endian header
``0x00 0x00 <type code> <ndim>``, then ``ndim`` big-endian uint32 dimensions, then the data
in row-major order, big-endian. Read as one 32-bit number, the header is the file's
*magic*: 2051 for uint8 images (3 dims) and 2049 for uint8 labels (1 dim).
"""

from __future__ import annotations

import gzip
import os
import zlib
from pathlib import Path
from typing import Literal

import numpy as np

from simfl.atomic import write_bytes
from simfl.errors import DataError
from simfl.learning.dataset import Dataset

#: IDX type code -> numpy dtype (big-endian), as in the format description.
IDX_DTYPES: dict[int, np.dtype] = {
    0x08: np.dtype(">u1"),
    0x09: np.dtype(">i1"),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}
IMAGE_MAGIC = 0x0803  # 2051: uint8, 3 dims (n, rows, cols)
LABEL_MAGIC = 0x0801  # 2049: uint8, 1 dim (n,)
MNIST_SIDE = 28
MNIST_CLASSES = 10
VARIANTS = ("mnist", "fashion-mnist")


def read_idx(path: str | os.PathLike[str]) -> np.ndarray:
    """Return the array stored in an IDX file (``.gz`` is decompressed), native byte order.

    Raises
    ------
    DataError
        If the file is missing, not gzip despite a ``.gz`` name, or its header, type code or
        size do not match the IDX format.
    """
    path = Path(path)
    return _parse(path, _read_bytes(path))


def _parse(path: Path, data: bytes) -> np.ndarray:
    if len(data) < 4:
        raise DataError(f"{path}: only {len(data)} bytes; an IDX file starts with a 4-byte magic")
    if data[0] != 0 or data[1] != 0:
        raise DataError(
            f"{path}: first two bytes are {data[0]:#04x} {data[1]:#04x}, not 0x00 0x00; "
            "this is not an IDX file (is it still compressed, or an HTML error page?)"
        )
    code, ndim = data[2], data[3]
    if code not in IDX_DTYPES:
        valid = ", ".join(f"{c:#04x}" for c in IDX_DTYPES)
        raise DataError(f"{path}: IDX type code {code:#04x} is unknown; valid codes: {valid}")
    if ndim == 0:
        raise DataError(f"{path}: IDX header declares 0 dimensions; need at least 1")
    header = 4 + 4 * ndim
    if len(data) < header:
        raise DataError(
            f"{path}: {len(data)} bytes is too short for the header of a {ndim}-dim IDX file "
            f"({header} bytes)"
        )
    dims = tuple(int(d) for d in np.frombuffer(data, dtype=">u4", count=ndim, offset=4))
    dtype = IDX_DTYPES[code]
    expected = header + int(np.prod(dims, dtype=np.int64)) * dtype.itemsize
    if len(data) != expected:
        raise DataError(
            f"{path}: {len(data)} bytes but the header dims {dims} of {dtype.name} need "
            f"{expected}; the file is {'truncated' if len(data) < expected else 'too long'} "
            "(download it again)"
        )
    arr = np.frombuffer(data, dtype=dtype, offset=header).reshape(dims)
    return arr.astype(dtype.newbyteorder("="))


def write_idx(path: str | os.PathLike[str], array: np.ndarray) -> Path:
    """Write ``array`` as a genuine IDX file (gzipped if ``path`` ends in ``.gz``); return path.

    The dtype must be one IDX knows: uint8, int8, int16, int32, float32 or float64. The
    file is written atomically.
    """
    arr = np.asarray(array)
    code = next(
        (c for c, dt in IDX_DTYPES.items() if dt.newbyteorder("=") == arr.dtype.newbyteorder("=")),
        None,
    )
    if code is None:
        valid = ", ".join(dt.newbyteorder("=").name for dt in IDX_DTYPES.values())
        raise DataError(
            f"write_idx({path}): dtype {arr.dtype} cannot be stored; use one of {valid}"
        )
    if not 1 <= arr.ndim <= 255:
        raise DataError(f"write_idx({path}): array has {arr.ndim} dims; IDX allows 1 to 255")
    header = bytes([0, 0, code, arr.ndim]) + np.asarray(arr.shape, dtype=">u4").tobytes()
    payload = header + np.ascontiguousarray(arr, dtype=IDX_DTYPES[code]).tobytes()
    if str(path).endswith(".gz"):
        payload = gzip.compress(payload, mtime=0)
    return write_bytes(path, payload)


def load_mnist_idx(
    directory: str | os.PathLike[str],
    variant: Literal["mnist", "fashion-mnist"] = "mnist",
) -> tuple[Dataset, Dataset]:
    """Return ``(train, test)`` MNIST or Fashion-MNIST datasets from the IDX files.

    ``directory`` must hold ``train-images-idx3-ubyte``, ``train-labels-idx1-ubyte``,
    ``t10k-images-idx3-ubyte`` and ``t10k-labels-idx1-ubyte`` (each may be ``.gz``; the
    ``train-images.idx3-ubyte`` spelling and a ``raw/`` subfolder are accepted too).

    Returns
    -------
    tuple[Dataset, Dataset]
        float32 ``x`` in [0, 1] of shape ``(n, 1, 28, 28)``, int64 labels in 0..9.
    """
    if variant not in VARIANTS:
        raise DataError(f"load_mnist_idx: variant {variant!r} is unknown; use one of {VARIANTS}")
    root = Path(directory)
    if not root.is_dir():
        raise DataError(
            f"{root}: no such directory; point load_mnist_idx at the folder holding the "
            "train-*/t10k-* IDX files"
        )
    parts = []
    for split in ("train", "t10k"):
        image_path = _find(root, f"{split}-images", "idx3-ubyte")
        images = _read_checked(image_path, IMAGE_MAGIC, "an image")
        label_path = _find(root, f"{split}-labels", "idx1-ubyte")
        labels = _read_checked(label_path, LABEL_MAGIC, "a label")
        _check_pair(image_path, images, label_path, labels)
        x = images.astype(np.float32)[:, None, :, :]
        x /= np.float32(255.0)  # in place: no second full-size copy
        name = f"{variant}/{'train' if split == 'train' else 'test'}"
        parts.append(Dataset(name, x, labels.astype(np.int64), "classification", MNIST_CLASSES))
    return parts[0], parts[1]


def mnist_train_samples(directory: str | os.PathLike[str]) -> int:
    """Return the number of training samples in an MNIST folder, from its label file only.

    Cheap enough for ``simfl validate`` (the image file is not read).

    Raises
    ------
    DataError
        As :func:`load_mnist_idx` for a missing folder or label file, or a bad header.
    """
    root = Path(directory)
    if not root.is_dir():
        raise DataError(f"{root}: no such directory; point data.path at the folder holding "
                        "the train-*/t10k-* IDX files")
    labels = _read_checked(_find(root, "train-labels", "idx1-ubyte"), LABEL_MAGIC, "a label")
    return int(labels.shape[0])


def _check_pair(image_path: Path, images: np.ndarray, label_path: Path, labels: np.ndarray) -> None:
    if images.shape[1:] != (MNIST_SIDE, MNIST_SIDE):
        raise DataError(
            f"{image_path}: images are {images.shape[1]}x{images.shape[2]}, expected "
            f"{MNIST_SIDE}x{MNIST_SIDE} for MNIST / Fashion-MNIST"
        )
    if labels.shape[0] != images.shape[0]:
        raise DataError(
            f"{label_path}: {labels.shape[0]} labels but {image_path.name} has "
            f"{images.shape[0]} images; the files must come from the same split"
        )
    if labels.size and labels.max() >= MNIST_CLASSES:
        raise DataError(f"{label_path}: label {int(labels.max())} found; MNIST labels must be 0..9")


def _read_checked(path: Path, expected: int, kind: str) -> np.ndarray:
    data = _read_bytes(path)
    found = int.from_bytes(data[:4], "big")
    if len(data) >= 4 and found != expected:
        raise DataError(
            f"{path}: expected magic {expected} for {kind} file, found {found}; "
            "check that it is the right file (MNIST images have 2051, labels 2049)"
        )
    return _parse(path, data)


def _find(root: Path, stem: str, suffix: str) -> Path:
    names = [f"{stem}-{suffix}", f"{stem}.{suffix}"]
    tried = []
    for folder in (root, root / "raw"):
        for name in names:
            for candidate in (folder / name, folder / f"{name}.gz"):
                if candidate.is_file():
                    return candidate
                tried.append(candidate.name)
    raise DataError(
        f"{root}: missing {stem}-{suffix} (looked for {', '.join(sorted(set(tried)))} "
        f"here and in {root / 'raw'}); put the four IDX files of the dataset there"
    )


def _read_bytes(path: Path) -> bytes:
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise DataError(f"{path}: cannot read ({exc.strerror})") from exc
    if path.suffix != ".gz":
        return raw
    try:
        return gzip.decompress(raw)
    except (OSError, EOFError, zlib.error) as exc:
        raise DataError(f"{path}: not a valid gzip file ({exc}); download it again") from exc
