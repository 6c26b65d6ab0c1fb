"""Tests of the notebooks: each is saved clean, imports simfl, and runs top to bottom.

Every notebook in ``notebooks/`` is executed with nbclient on the ``python3`` kernel, which
must be the interpreter running the tests (the venv's: ipykernel installed there provides
the kernelspec, and jupyter_client starts it with ``sys.executable``). The run starts in the
notebook's own folder, as Jupyter does, so notebooks must find the repository themselves.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((REPO / "notebooks").glob("*.ipynb"))
_WHY = ("notebook tests need the dev extras nbformat, nbclient and ipykernel "
        "(pip install -e '.[dev]')")
nbformat = pytest.importorskip("nbformat", reason=_WHY)
nbclient = pytest.importorskip("nbclient", reason=_WHY)
pytest.importorskip("ipykernel", reason=_WHY)

_IMPORTS_SIMFL = re.compile(r"^\s*(from|import)\s+simfl\b", re.MULTILINE)


def _read(path: Path) -> Any:
    return nbformat.read(path, as_version=4)


def _code_cells(nb: Any) -> list[Any]:
    return [cell for cell in nb.cells if cell.cell_type == "code"]


def _kernel_check_cell() -> Any:
    """A first cell that fails unless the kernel runs this interpreter and this checkout."""
    source = (
        "import sys\n"
        "from pathlib import Path\n"
        "import simfl\n"
        f"assert Path(sys.prefix).resolve() == Path({sys.prefix!r}).resolve(), sys.prefix\n"
        f"assert Path(simfl.__file__).resolve().is_relative_to({str(REPO)!r}), simfl.__file__\n"
    )
    return nbformat.v4.new_code_cell(source)


def test_notebooks_folder_holds_notebooks() -> None:
    assert [p.name for p in NOTEBOOKS if p.name == "orbital_schedules.ipynb"]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_is_saved_without_outputs(path: Path) -> None:
    stored = [(i, len(c.outputs), c.execution_count) for i, c in enumerate(_code_cells(_read(path)))
              if c.outputs or c.execution_count is not None]
    assert stored == [], f"{path.name}: clear outputs before committing (cell, outputs, count)"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_imports_simfl(path: Path) -> None:
    assert any(_IMPORTS_SIMFL.search(c.source) for c in _code_cells(_read(path)))


@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_runs_on_the_venv_kernel_without_errors_or_warnings(path: Path) -> None:
    nb = _read(path)
    nb.cells.insert(0, _kernel_check_cell())
    client = nbclient.NotebookClient(nb, timeout=600, kernel_name="python3",
                                     resources={"metadata": {"path": str(path.parent)}})
    client.execute()  # raises CellExecutionError at the first failing cell
    outputs = [(i, o) for i, c in enumerate(_code_cells(nb)) for o in c.outputs]
    assert [i for i, o in outputs if o.output_type == "error"] == []
    stderr = [f"cell {i}: {o.text}" for i, o in outputs
              if o.output_type == "stream" and o.name == "stderr"]
    assert stderr == [], "\n".join(stderr)
    figures = [i for i, o in outputs if "image/png" in o.get("data", {})]
    assert figures, f"{path.name} drew no figure"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_uses_only_the_front_door(path: Path) -> None:
    sources = "\n".join(cell.source for cell in _code_cells(_read(path)))
    deeper = re.findall(r"^\s*(?:from simfl\S*\s+import.*|import simfl\.\S+.*)$", sources,
                        re.MULTILINE)
    assert deeper == [], f"{path.name} imports below the front door: {deeper}"
    assert re.search(r"^import simfl$", sources, re.MULTILINE)
