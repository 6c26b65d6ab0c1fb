"""Atomic file writes: a killed process never leaves a half-written file that looks complete.

Every output of simfl goes through these helpers: write to a temporary file in the same
directory, flush and fsync, then ``os.replace`` onto the final name (atomic on POSIX).
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO, Any


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; on success it is renamed onto ``path``.

    Use this for writers that want a file name (``DataFrame.to_parquet``, ``savefig``).
    On an exception the temporary file is removed and ``path`` is left untouched.
    """
    final = Path(path)
    final.parent.mkdir(parents=True, exist_ok=True)
    tmp = _create_temp(final)
    try:
        yield tmp
        with open(tmp, "rb") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp, final)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def _create_temp(final: Path) -> Path:
    """Create an empty, new temporary file beside ``final`` and return its path.

    Unlike ``tempfile.mkstemp`` (mode 0600) the file gets the mode a plain ``open`` would
    give (0666 minus the umask), so the renamed output is as readable as any other file.
    """
    while True:
        tmp = final.with_name(f".{final.name}.{secrets.token_hex(4)}.partial{final.suffix}")
        try:
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
        except FileExistsError:  # pragma: no cover - 32 random bits collided
            continue
        os.close(fd)
        return tmp


def write_text(path: str | os.PathLike[str], text: str) -> Path:
    """Write ``text`` (UTF-8) to ``path`` atomically and return the path."""
    return _write(path, lambda fh: fh.write(text), "w")


def write_bytes(path: str | os.PathLike[str], data: bytes) -> Path:
    """Write ``data`` to ``path`` atomically and return the path."""
    return _write(path, lambda fh: fh.write(data), "wb")


def write_json(path: str | os.PathLike[str], obj: Any) -> Path:
    """Write ``obj`` as indented, key-sorted JSON to ``path`` atomically."""
    return write_text(path, json.dumps(obj, indent=2, sort_keys=True, default=str) + "\n")


def _write(path: str | os.PathLike[str], fill: Callable[[IO[Any]], object], mode: str) -> Path:
    final = Path(path)
    encoding = None if "b" in mode else "utf-8"
    with atomic_path(final) as tmp, open(tmp, mode, encoding=encoding) as fh:
        fill(fh)
    return final


def folder_problem(folder: str | os.PathLike[str]) -> str | None:
    """Return why ``folder`` cannot be (made into) a writable folder, or None if it can."""
    wanted = Path(folder)
    existing = wanted
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    if not existing.is_dir():
        return ("is a file, not a folder; give a folder path" if existing == wanted else
                f"{existing} is a file, so this cannot be a folder; give a folder path")
    if not os.access(existing, os.W_OK | os.X_OK):
        return f"{existing} is not writable; give a writable folder"
    return None
