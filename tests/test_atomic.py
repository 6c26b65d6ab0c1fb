"""Tests of simfl.atomic: atomic writes leave either the old file or the new one."""

from __future__ import annotations

import json
import os
import stat
from datetime import UTC, datetime
from pathlib import Path

import pytest

from simfl.atomic import atomic_path, write_bytes, write_json, write_text


class BoomError(Exception):
    """Raised inside a writer to simulate a failure half-way."""


def test_write_text_creates_file_and_parents(tmp_path: Path) -> None:
    target = tmp_path / "runs" / "a" / "notes.txt"
    returned = write_text(target, "héllo\n")
    assert returned == target
    assert target.read_text(encoding="utf-8") == "héllo\n"


def test_write_bytes_creates_file(tmp_path: Path) -> None:
    target = tmp_path / "blob.bin"
    write_bytes(target, b"\x00\x01\xff")
    assert target.read_bytes() == b"\x00\x01\xff"


def test_write_json_is_indented_sorted_and_newline_terminated(tmp_path: Path) -> None:
    target = tmp_path / "summary.json"
    write_json(target, {"b": 1, "a": [1, 2]})
    text = target.read_text(encoding="utf-8")
    assert text == '{\n  "a": [\n    1,\n    2\n  ],\n  "b": 1\n}\n'


def test_write_json_stringifies_other_objects(tmp_path: Path) -> None:
    target = tmp_path / "summary.json"
    write_json(target, {"when": datetime(2024, 1, 1, tzinfo=UTC), "dir": Path("runs")})
    assert json.loads(target.read_text(encoding="utf-8")) == {
        "when": "2024-01-01 00:00:00+00:00", "dir": "runs"}


def test_write_accepts_str_paths(tmp_path: Path) -> None:
    write_text(str(tmp_path / "x.txt"), "x")
    assert (tmp_path / "x.txt").read_text(encoding="utf-8") == "x"


def test_write_replaces_existing_file(tmp_path: Path) -> None:
    target = tmp_path / "metrics.csv"
    target.write_text("old", encoding="utf-8")
    write_text(target, "new")
    assert target.read_text(encoding="utf-8") == "new"
    assert os.listdir(tmp_path) == ["metrics.csv"]


def test_atomic_path_yields_a_hidden_temp_beside_the_target(tmp_path: Path) -> None:
    target = tmp_path / "trace.parquet"
    with atomic_path(target) as tmp:
        assert tmp.parent == target.parent
        assert tmp.name.startswith(".trace.parquet.")
        assert tmp != target
        assert tmp.exists()
        assert not target.exists()
        tmp.write_bytes(b"data")
    assert target.read_bytes() == b"data"
    assert not tmp.exists()


def test_exception_leaves_no_final_and_no_temp_file(tmp_path: Path) -> None:
    target = tmp_path / "trace.parquet"
    with pytest.raises(BoomError), atomic_path(target) as tmp:
        tmp.write_bytes(b"half")
        raise BoomError
    assert os.listdir(tmp_path) == []


def test_exception_keeps_old_content(tmp_path: Path) -> None:
    target = tmp_path / "summary.json"
    target.write_text("old", encoding="utf-8")
    with pytest.raises(BoomError), atomic_path(target) as tmp:
        tmp.write_text("half-written", encoding="utf-8")
        raise BoomError
    assert target.read_text(encoding="utf-8") == "old"
    assert os.listdir(tmp_path) == ["summary.json"]


def test_failing_writer_keeps_old_content(tmp_path: Path) -> None:
    target = tmp_path / "notes.txt"
    target.write_text("old", encoding="utf-8")
    with pytest.raises(UnicodeEncodeError):
        write_text(target, "ok until here \ud800")  # a lone surrogate cannot be UTF-8
    assert target.read_text(encoding="utf-8") == "old"
    assert os.listdir(tmp_path) == ["notes.txt"]


def test_written_file_honours_the_umask(tmp_path: Path) -> None:
    umask = os.umask(0o022)
    os.umask(umask)
    target = write_text(tmp_path / "a.txt", "x")
    assert stat.S_IMODE(target.stat().st_mode) == 0o666 & ~umask
