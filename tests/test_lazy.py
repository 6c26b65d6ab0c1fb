"""Tests of simfl.lazy: package attributes imported on first use."""

from __future__ import annotations

import sys
import types

import pytest

from simfl.lazy import lazy_attributes


@pytest.fixture
def package(monkeypatch: pytest.MonkeyPatch) -> types.ModuleType:
    module = types.ModuleType("lazy_test_package")
    module.__getattr__, module.__dir__ = lazy_attributes(  # type: ignore[method-assign]
        "lazy_test_package", {"sqrt": "math", "dedent": "textwrap"})
    monkeypatch.setitem(sys.modules, "lazy_test_package", module)
    return module


def test_a_name_is_imported_from_its_module_and_kept(package: types.ModuleType) -> None:
    import math

    assert "sqrt" not in vars(package)
    assert package.sqrt is math.sqrt
    assert vars(package)["sqrt"] is math.sqrt


def test_an_unknown_name_raises_attribute_error(package: types.ModuleType) -> None:
    with pytest.raises(AttributeError, match="'lazy_test_package' has no attribute 'nope'"):
        package.nope  # noqa: B018


def test_dir_lists_the_lazy_names(package: types.ModuleType) -> None:
    assert dir(package) == ["dedent", "sqrt"]
