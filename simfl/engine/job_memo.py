"""Trained values of finished jobs, kept so that an interrupted run can be resumed exactly.

A run is deterministic: the same scenario and seed replay the same events and submit the same
training jobs. What costs time is training; so a checkpoint stores the value of every job that
has run (:class:`JobMemo` shards on disk), and a resumed run replays the simulation from the
start, taking each job's value from the memo instead of training it again, until it reaches
the work the killed run never did. The result is identical to an uninterrupted run.

A job is found by a key over everything that determines its value: client, shuffling stream,
procedure and its options, training settings, proximal term, trainable parameters, result
kind, architecture and a digest of the start vector; a memo entry that does not match is never
used.
"""

from __future__ import annotations

import hashlib
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import torch

    from simfl.engine.jobs import PendingTraining, TrainingOutput


def tensor_digest(t: torch.Tensor) -> str:
    """Return a BLAKE2b digest of a tensor's dtype, shape and bytes."""
    data = t.detach().contiguous().cpu()
    h = hashlib.blake2b(digest_size=16)
    h.update(f"{data.dtype}{tuple(data.shape)}".encode())
    h.update(data.numpy().tobytes() if data.numel() else b"")
    return h.hexdigest()


def job_key(handle: PendingTraining) -> str:
    """Return the key of a submitted job: equal keys train to equal values."""
    job = handle.job
    prox = None if job.prox is None else (tensor_digest(job.prox[0]), float(job.prox[1]))
    parts = (job.client, job.stream, job.procedure, sorted(job.options.items()),
             asdict(handle.config), prox, sorted(job.trainable or ()), job.result,
             handle.model.key, tensor_digest(job.start))
    return hashlib.blake2b(repr(parts).encode(), digest_size=20).hexdigest()


@dataclass
class JobMemo:
    """Finished jobs' outputs by key: ``recent`` since the last save, ``known`` loaded.

    Attributes
    ----------
    known
        Outputs read from earlier checkpoints (used to skip training on resume).
    recent
        Outputs finished since the last :meth:`save_shard` (written by the next one).
    """

    known: dict[str, TrainingOutput] = field(default_factory=dict)
    recent: dict[str, TrainingOutput] = field(default_factory=dict)
    hits: int = 0

    def lookup(self, handle: PendingTraining) -> TrainingOutput | None:
        """Return the stored output of ``handle``'s job, or None."""
        key = job_key(handle)
        out = self.known.get(key) or self.recent.get(key)
        if out is not None:
            self.hits += 1
        return out

    def record(self, handle: PendingTraining, output: TrainingOutput) -> None:
        """Keep ``output`` for the next checkpoint."""
        self.recent[job_key(handle)] = output

    def save_shard(self, path: Path) -> int:
        """Write the outputs recorded since the last save to ``path`` (atomically); return
        how many. They are dropped from memory (a running simulation never looks them up)."""
        import torch

        from simfl.atomic import atomic_path

        keys = list(self.recent)
        payload: dict[str, Any] = {
            "keys": keys,
            "values": [self.recent[k].value for k in keys],
            "results": [[r.num_samples, r.num_steps, r.samples_processed, r.mean_loss]
                        for r in (self.recent[k].result for k in keys)],
        }
        with atomic_path(path) as tmp:
            torch.save(payload, tmp)
        self.recent = {}
        return len(keys)

    def load_shard(self, path: Path) -> int:
        """Add the outputs stored in ``path`` (never unpickling code); return how many."""
        import torch

        from simfl.engine.jobs import TrainingOutput
        from simfl.learning.training import TrainResult

        payload = torch.load(path, weights_only=True)
        for key, value, (n, steps, seen, loss) in zip(payload["keys"], payload["values"],
                                                      payload["results"], strict=True):
            self.known[key] = TrainingOutput(value, TrainResult(int(n), int(steps), int(seen),
                                                                float(loss)))
        return len(payload["keys"])
