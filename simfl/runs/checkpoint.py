"""Checkpoints of a long run, and resuming a killed run to the identical result.

With ``output.checkpoint_every_s`` set, ``simfl run`` keeps a checkpoint folder beside the run
directory (``.<name>.checkpoint``): the resolved scenario, and every
``checkpoint_every_s`` of simulated time a shard with the trained values of the jobs finished
since the last one (:mod:`simfl.engine.job_memo`), then ``checkpoint.json`` (written last,
atomically) saying which shards are complete. ``simfl run --resume RUN_DIR`` replays the run
from its start, taking every stored job's value instead of training it, so the events, the
trace and the metrics are those of an uninterrupted run; training starts again where the
killed run stopped. The folder is removed once the run directory is complete.

What is replayed for real: the events, evaluations and whatever an algorithm computes outside
training jobs. Training jobs must not draw from torch's global random state (none of simfl's
procedures do), or a replay could diverge.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Generator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from simfl.atomic import write_json, write_text
from simfl.engine.job_memo import JobMemo
from simfl.errors import SimflError

if TYPE_CHECKING:
    import simpy

    from simfl.engine.simulation import Simulation
    from simfl.scenario.schema import Scenario
    from simfl.scenario.world import World

STATE_FILE = "checkpoint.json"
SCENARIO_FILE = "scenario.yaml"


def checkpoint_folder(run_dir: Path) -> Path:
    """Return where the checkpoints of the run writing ``run_dir`` live."""
    return run_dir.parent / f".{run_dir.name}.checkpoint"


class Checkpointer:
    """Writes a run's checkpoints; with stored shards loaded, feeds a resumed run."""

    def __init__(self, folder: Path, every_s: float | None) -> None:
        self.folder = folder
        self.every_s = every_s
        self.memo = JobMemo()
        self.shards: list[str] = []
        self.checkpoints = 0
        self.jobs_stored = 0

    @classmethod
    def start(cls, run_dir: Path, scenario: Scenario) -> Checkpointer:
        """Begin the checkpoints of a new run (a stale folder of an earlier run is replaced)."""
        folder = checkpoint_folder(run_dir)
        if folder.exists():
            shutil.rmtree(folder)
        folder.mkdir(parents=True)
        write_text(folder / SCENARIO_FILE, yaml.safe_dump(scenario.model_dump(mode="json"),
                                                          sort_keys=False))
        point = cls(folder, scenario.output.checkpoint_every_s)
        point._write_state(0.0)
        return point

    @classmethod
    def resume(cls, run_dir: Path) -> tuple[Checkpointer, Scenario]:
        """Return the checkpoints of the killed run of ``run_dir`` and its scenario.

        Raises
        ------
        SimflError
            If there is no checkpoint, or it is damaged.
        """
        from simfl.scenario.registry import validate_scenario

        folder = checkpoint_folder(run_dir)
        state_path = folder / STATE_FILE
        if not state_path.is_file():
            raise SimflError(f"{run_dir}: nothing to resume (no checkpoint at {folder}); a run "
                             "keeps checkpoints when output.checkpoint_every_s is set, and "
                             "removes them once its run directory is complete")
        try:
            state = json.loads(state_path.read_text())
            scenario = validate_scenario(yaml.safe_load((folder / SCENARIO_FILE).read_text()))
            point = cls(folder, scenario.output.checkpoint_every_s)
            for shard in state["shards"]:
                point.memo.load_shard(folder / shard)
        except (OSError, ValueError, KeyError, RuntimeError) as exc:
            raise SimflError(f"{folder}: the checkpoint cannot be read ({exc}); start the run "
                             "again without --resume") from None
        point.shards = list(state["shards"])
        point.checkpoints = len(point.shards)
        point.jobs_stored = len(point.memo.known)
        return point, scenario

    def attach(self, sim: Simulation, world: World) -> None:
        """Let the world's executor use the memo, and write a checkpoint every period."""
        world.jobs.memo = self.memo
        if self.every_s is not None:
            sim.process(self._periodic(sim))

    def _periodic(self, sim: Simulation) -> Generator[simpy.Event, Any, None]:
        assert self.every_s is not None
        while True:
            yield sim.timeout(self.every_s)
            self.write(sim.now_s)

    def write(self, t_s: float) -> None:
        """Store the jobs finished since the last checkpoint, then the state that lists them."""
        if self.memo.recent:
            name = f"jobs-{len(self.shards) + 1:05d}.pt"
            self.jobs_stored += self.memo.save_shard(self.folder / name)
            self.shards.append(name)
        self.checkpoints += 1
        self._write_state(t_s)

    def _write_state(self, t_s: float) -> None:
        write_json(self.folder / STATE_FILE, {"t_s": t_s, "shards": self.shards,
                                              "jobs_stored": self.jobs_stored})

    def finish(self) -> None:
        """Remove the checkpoints: the run directory is complete."""
        shutil.rmtree(self.folder, ignore_errors=True)
