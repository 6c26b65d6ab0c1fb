"""Package attributes imported on first use (PEP 562), so importing a package stays cheap.

A package's ``__init__`` maps each public name to the module that defines it and installs
the pair of hooks this returns::

    __getattr__, __dir__ = lazy_attributes(__name__, {"load_tle": "simfl.orbits.tle"})

Importing one light module of the package (e.g. ``simfl.orbits.cache`` from ``simfl
validate``) then no longer loads every other module (pandas, skyfield helpers, ...).
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable, Mapping
from typing import Any


def lazy_attributes(
    package: str, modules: Mapping[str, str]
) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """Return ``(__getattr__, __dir__)`` for ``package``: ``name -> modules[name].name``.

    A name is imported from its module when first read and then kept in the package's
    namespace; unknown names raise ``AttributeError`` as usual.
    """

    def getattr_(name: str) -> Any:
        module = modules.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(module), name)
        setattr(sys.modules[package], name, value)
        return value

    def dir_() -> list[str]:
        return sorted(modules)

    return getattr_, dir_
