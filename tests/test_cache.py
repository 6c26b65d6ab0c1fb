"""On-disk cache of contact plans: hits, misses on any input change, corrupt files."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pandas as pd
import pytest

import simfl.orbits.contacts as contacts
from simfl.orbits.cache import (
    contact_plan_key,
    load_plan,
    plan_path,
    resolve_cache_dir,
    user_cache_dir,
)
from simfl.orbits.contacts import ALGORITHM_VERSION, COLUMNS, compute_contacts
from simfl.orbits.elements import ElementSet
from simfl.orbits.sites import GroundSite
from simfl.orbits.walker import walker_delta

EPOCH = datetime(2026, 2, 24, tzinfo=UTC)
SITES = (GroundSite("Munich", 48.14, 11.58, 520.0, 10.0),
         GroundSite("Sydney", -33.87, 151.21, 30.0, 25.0))
DURATION_S = 4 * 3600.0


@pytest.fixture(scope="module")
def shell() -> list[ElementSet]:
    return walker_delta(53.0, 12, 3, 1, 550.0, EPOCH)


def key_of(shell: list[ElementSet], **changes: object) -> str:
    arguments: dict = {"elements": shell, "sites": SITES, "start_utc": EPOCH,
                       "duration_s": DURATION_S, "coarse_step_s": 60.0,
                       "algorithm_version": ALGORITHM_VERSION, **changes}
    return contact_plan_key(**arguments)


def test_a_cached_plan_is_returned_without_recomputing(shell, tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    first = compute_contacts(shell, SITES, EPOCH, DURATION_S, workers=1, cache_dir=tmp_path)
    assert len(list(tmp_path.glob("contacts-*.parquet"))) == 1

    def fail(*args: object, **kwargs: object) -> None:
        raise AssertionError("recomputed despite a cached plan")

    monkeypatch.setattr(contacts, "_compute", fail)
    second = compute_contacts(shell, SITES, EPOCH, DURATION_S, workers=1, cache_dir=tmp_path)
    pd.testing.assert_frame_equal(first, second)
    assert tuple(second.columns) == COLUMNS


def test_a_corrupt_cache_file_is_ignored_and_rewritten(shell, tmp_path: Path) -> None:
    first = compute_contacts(shell, SITES, EPOCH, DURATION_S, workers=1, cache_dir=tmp_path)
    (path,) = tmp_path.glob("contacts-*.parquet")
    path.write_bytes(b"PAR1 this is not a parquet file")
    again = compute_contacts(shell, SITES, EPOCH, DURATION_S, workers=1, cache_dir=tmp_path)
    pd.testing.assert_frame_equal(first, again)
    pd.testing.assert_frame_equal(pd.read_parquet(path).astype(first.dtypes.to_dict()), first)


def test_a_cache_file_with_other_columns_is_a_miss(tmp_path: Path) -> None:
    key = "0" * 64
    pd.DataFrame({"a": [1]}).to_parquet(plan_path(tmp_path, key))
    assert load_plan(tmp_path, key, COLUMNS) is None


def test_no_temporary_files_are_left_behind(shell, tmp_path: Path) -> None:
    compute_contacts(shell, SITES, EPOCH, DURATION_S, workers=1, cache_dir=tmp_path)
    assert [p.name for p in tmp_path.iterdir() if "partial" in p.name] == []


@pytest.mark.parametrize(
    "change",
    [
        {"start_utc": EPOCH + timedelta(seconds=1)},
        {"duration_s": DURATION_S + 1.0},
        {"coarse_step_s": 30.0},
        {"algorithm_version": "contacts-0"},
        {"ut1_minus_utc_s": 0.062},
        {"sites": (SITES[0], GroundSite("Sydney", -33.87, 151.21, 30.0, 26.0))},
    ],
)
def test_any_input_change_changes_the_key(shell, change: dict) -> None:
    assert key_of(shell, **change) != key_of(shell)


def test_a_changed_element_set_changes_the_key(shell) -> None:
    renamed = [ElementSet("OTHER", shell[0].line1, shell[0].line2), *shell[1:]]
    assert key_of(renamed) != key_of(shell)
    assert key_of(shell[:-1]) != key_of(shell)


def test_the_key_ignores_the_timezone_spelling(shell) -> None:
    from zoneinfo import ZoneInfo

    berlin = EPOCH.astimezone(ZoneInfo("Europe/Berlin"))
    assert key_of(shell, start_utc=berlin) == key_of(shell)


def test_a_plan_cut_short_but_still_parquet_is_recomputed(
    shell: list[ElementSet], tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    first = compute_contacts(shell, SITES, EPOCH, DURATION_S, workers=1, cache_dir=tmp_path)
    (path,) = tmp_path.glob("contacts-*.parquet")
    first.iloc[: len(first) // 2].to_parquet(path, index=False)  # right columns, half the rows
    with caplog.at_level(logging.WARNING, logger="simfl"):
        again = compute_contacts(shell, SITES, EPOCH, DURATION_S, workers=1, cache_dir=tmp_path)
    pd.testing.assert_frame_equal(first, again)
    assert "its rows do not match the content hash stored with them" in caplog.text
    key = path.name.removeprefix("contacts-").removesuffix(".parquet")
    pd.testing.assert_frame_equal(load_plan(tmp_path, key, COLUMNS), first)  # rewritten


def test_an_unwritable_cache_costs_a_warning_not_the_plan(
    shell: list[ElementSet], tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture
) -> None:
    import simfl.orbits.cache as cache

    def read_only(path: object) -> object:
        raise PermissionError(13, "Permission denied", str(path))

    monkeypatch.setattr(cache, "atomic_path", read_only)
    with caplog.at_level(logging.WARNING, logger="simfl"):
        plan = compute_contacts(shell, SITES, EPOCH, DURATION_S, workers=1, cache_dir=tmp_path)
    assert len(plan) > 0
    assert "cannot write the contact-plan cache" in caplog.text
    assert "(Permission denied); the plan is used but not kept" in caplog.text


def test_the_user_cache_follows_xdg(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert user_cache_dir() == tmp_path / "simfl" / "contacts"
    monkeypatch.setenv("XDG_CACHE_HOME", "relative/is/ignored")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert user_cache_dir() == tmp_path / "home" / ".cache" / "simfl" / "contacts"


def test_cache_settings_resolve_to_folders(monkeypatch: pytest.MonkeyPatch,
                                           tmp_path: Path) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert resolve_cache_dir("user") == tmp_path / "simfl" / "contacts"
    assert resolve_cache_dir(None) is None
    assert resolve_cache_dir(Path("plans")) == Path("plans")
