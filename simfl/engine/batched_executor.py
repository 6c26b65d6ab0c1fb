"""The batched executor of training jobs: pending jobs of one architecture train together.

When a job's result is first asked for, every pending job that can share its computation (same
architecture, plain minibatch SGD/Adam/RMSprop, all parameters trainable) is trained as one stacked
computation by :func:`simfl.learning.batched_training.train_batched`: parameters stacked
along a client axis, one forward/backward for all of them, each client with its own
minibatches (drawn from its own stream exactly as the sequential path draws them), masks for
unequal shards and step counts, per-client optimizer state. Jobs it cannot batch (other
procedures, frozen parameters, architectures without a stacked form) run one by one, as in
:class:`~simfl.engine.jobs.SequentialExecutor`. Results equal the sequential ones within
floating-point noise and do not depend on the order of submission.
"""

from __future__ import annotations

from typing import Any

from simfl.engine.jobs import JobExecutor, ModelSpec, PendingTraining, TrainingOutput


class BatchedExecutor(JobExecutor):
    """Trains the pending jobs of the wanted job's architecture together.

    Jobs it cannot batch (another procedure, procedure options, frozen parameters, an
    architecture without a stacked form) run one at a time. ``training.executor: batched``
    differs from ``auto`` only in that the world refuses a model without a stacked form.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.batches_run = 0

    def covers(self, spec: ModelSpec, handle: PendingTraining) -> bool:
        """Return whether ``handle`` can be trained in a batch of architecture ``spec``."""
        return self.unbatchable(spec, handle) is None

    def unbatchable(self, spec: ModelSpec, handle: PendingTraining) -> str | None:
        """Return why ``handle`` cannot be trained in a batch of ``spec``, or None if it can."""
        from simfl.learning.batched_models import batched_support

        job = handle.job
        if job.procedure != "sgd":
            return f"its procedure {job.procedure!r} is not plain SGD/Adam/RMSprop"
        if job.options:
            return f"it has procedure options {sorted(job.options)}"
        if job.trainable is not None:
            return "some of its parameters are frozen"
        x = self.clients[job.client].x
        if not batched_support(self.model_instance(spec), tuple(x.shape[1:])):
            return f"the {spec.key!r} model has no stacked form"
        return None

    def run_pending(self, wanted: PendingTraining) -> None:
        """Train ``wanted`` with every pending job it can share a computation with."""
        from simfl.learning.batched_training import BatchJob, train_batched

        spec = wanted.model
        reason = self.unbatchable(spec, wanted)
        if reason is not None:
            self.forget(wanted)
            wanted.finish(self.run_one(wanted))
            return
        group = [h for h in self.pending if h.model.key == spec.key and self.covers(spec, h)
                 and (h is wanted or not self.take_from_memo(h))]
        assert wanted in group
        for h in group:
            self.forget(h)
        jobs = [BatchJob(h.job.start, self.clients[h.job.client].x, self.clients[h.job.client].y,
                         h.config, self.rng(h.job.stream), h.job.prox) for h in group]
        results = train_batched(self.model_instance(spec), jobs, task=self.task)
        for h, (trained, result) in zip(group, results, strict=True):
            if result.samples_processed != h.samples_processed:
                raise RuntimeError(f"job {h.job.stream}: planned {h.samples_processed} samples "
                                   f"but the batched trainer processed "
                                   f"{result.samples_processed}")
            value = trained - h.job.start if h.job.result == "delta" else trained
            h.finish(TrainingOutput(value, result))
        self.jobs_run += len(group)
        self.batches_run += 1
