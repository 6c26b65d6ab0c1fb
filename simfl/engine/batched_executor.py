"""The batched executor of training jobs: pending jobs of one architecture train together.

When a job's result is first asked for, every pending job that can share its computation (same
architecture, plain minibatch SGD/Adam/RMSprop, all parameters trainable) is trained as one stacked
computation by :func:`simfl.learning.batched_training.train_batched`: parameters stacked
along a client axis, one forward/backward for all of them, each client with its own
minibatches (drawn from its own stream exactly as the sequential path draws them), masks for
unequal shards and step counts, per-client optimizer state. Jobs it cannot batch (other
procedures, frozen parameters, architectures without a stacked form) run one by one, as in
:class:`~simfl.engine.jobs.SequentialExecutor`. Results equal the sequential ones within
floating-point noise and do not depend on the order of submission. Ditto's paired update
(a plain update of the global copy, then the personal model's proximal update, on one
stream) is trained as two batched updates per device, pFedMe's paired update and
Per-FedAvg's update by :mod:`simfl.learning.batched_personal`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from simfl.engine.jobs import JobExecutor, ModelSpec, PendingTraining, TrainingOutput

if TYPE_CHECKING:
    import torch
    from torch import nn

    from simfl.learning.batched_training import BatchJob
    from simfl.learning.training import TrainResult

DITTO = "ditto"
"""The procedure name of Ditto's paired update (:mod:`simfl.learning.personal_procedures`),
which this executor trains as two batched updates per device."""
PFEDME = "pfedme"
"""The family of pFedMe's procedures (``pfedme/K=<inner steps>``), trained by
:func:`simfl.learning.batched_personal.train_pfedme_batched`."""
PERFEDAVG = "perfedavg"
"""The procedure name of Per-FedAvg's (first-order) update, trained by
:func:`simfl.learning.batched_personal.train_perfedavg_batched`."""
PROCEDURE_OPTIONS = {DITTO: {"lam", "personal_lr"}, PFEDME: {"lam", "inner_lr", "inner_steps"},
                     PERFEDAVG: {"meta_lr"}}
"""Procedures besides plain SGD this executor batches, and the options each takes."""


def _options_problem(family: str, name: str, options: Mapping[str, Any],
                     config: Any) -> str | None:
    """Return why a job of ``family`` (procedure ``name``) is not batched as its procedure
    would run it, or None."""
    if set(options) != PROCEDURE_OPTIONS[family]:
        return f"its {name!r} options {sorted(options)} are not {sorted(PROCEDURE_OPTIONS[family])}"
    numbers = {k: v for k, v in options.items() if isinstance(v, int | float)}
    if len(numbers) != len(options):
        return f"its {name!r} options {options} are not all numbers"
    if family == DITTO:
        ok = name == DITTO and numbers["lam"] >= 0 and numbers["personal_lr"] > 0
    elif family == PFEDME:
        k = options["inner_steps"]
        ok = (isinstance(k, int) and k >= 1 and name == f"{PFEDME}/K={k}"
              and numbers["lam"] > 0 and numbers["inner_lr"] > 0)
    else:
        ok = (name == PERFEDAVG and numbers["meta_lr"] > 0 and config.steps is not None
              and config.steps % 2 == 0)
    return None if ok else f"its {name!r} job is not one the batched trainers take as it is"


def _family(procedure: str) -> str:
    """Return a procedure's family: its name up to a ``/`` (``pfedme/K=5`` -> ``pfedme``)."""
    return procedure.partition("/")[0]


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
        """Return why ``handle`` cannot be trained in a batch of ``spec``, or None if it can.

        A job the batched trainers would treat differently from its sequential procedure
        (an option out of range, a proximal term the procedure refuses) is not batchable:
        it runs alone, where the procedure reports the problem for that job only.
        """
        from simfl.learning.batched_models import batched_support

        job = handle.job
        model = self.model_instance(spec)
        family = _family(job.procedure)
        if family == "sgd":
            if job.options:
                return f"it has procedure options {sorted(job.options)}"
        elif family in PROCEDURE_OPTIONS:
            problem = _options_problem(family, job.procedure, job.options, handle.config)
            if problem is not None:
                return problem
            if job.prox is not None:
                return f"{job.procedure!r} sets its own proximal term"
            if family in (DITTO, PFEDME):
                from simfl.learning.paired import PairedModel

                if not isinstance(model, PairedModel):
                    return f"the job model of {job.procedure!r} is not a PairedModel"
                model = model.first
        else:
            return (f"its procedure {job.procedure!r} is not plain SGD/Adam/RMSprop, Ditto, "
                    "pFedMe or Per-FedAvg")
        if job.trainable is not None:
            return "some of its parameters are frozen"
        x = self.clients[job.client].x
        if not batched_support(model, tuple(x.shape[1:])):
            return f"the {spec.key!r} model has no stacked form"
        return None

    def run_pending(self, wanted: PendingTraining) -> None:
        """Train ``wanted`` with every pending job it can share a computation with."""
        from simfl.learning.batched_training import train_batched

        spec = wanted.model
        reason = self.unbatchable(spec, wanted)
        if reason is not None:
            self.forget(wanted)
            wanted.finish(self.run_one(wanted))
            return
        group = [h for h in self.pending if h.model.key == spec.key and self.covers(spec, h)
                 and (h is wanted or not self.take_from_memo(h))]
        family = _family(wanted.job.procedure)
        group = [h for h in group if _family(h.job.procedure) == family]
        if wanted not in group:  # pragma: no cover - unbatchable said it was covered
            raise RuntimeError(f"job {wanted.job.stream} is covered but not in its batch")
        for h in group:
            self.forget(h)
        model = self.model_instance(spec)
        if family == DITTO:
            jobs = [j for h in group for j in self._ditto_jobs(h)]
            results = train_batched(model.first, jobs, task=self.task)  # type: ignore[arg-type]
            outputs = [self._ditto_output(h, results[2 * i], results[2 * i + 1])
                       for i, h in enumerate(group)]
        elif family == PFEDME:
            outputs = self._pfedme_outputs(model.first, group)  # type: ignore[arg-type]
        elif family == PERFEDAVG:
            outputs = self._perfedavg_outputs(model, group)
        else:
            jobs = [self._plain_job(h) for h in group]
            outputs = list(train_batched(model, jobs, task=self.task))
        for h, (trained, result) in zip(group, outputs, strict=True):
            if result.samples_processed != h.samples_processed:
                raise RuntimeError(f"job {h.job.stream}: planned {h.samples_processed} samples "
                                   f"but the batched trainer processed "
                                   f"{result.samples_processed}")
            value = trained - h.job.start if h.job.result == "delta" else trained
            h.finish(TrainingOutput(value, result))
        self.jobs_run += len(group)
        self.batches_run += 1

    def _plain_job(self, h: PendingTraining) -> BatchJob:
        from simfl.learning.batched_training import BatchJob

        client = self.clients[h.job.client]
        return BatchJob(h.job.start, client.x, client.y, h.config, self.rng(h.job.stream),
                        h.job.prox)

    def _ditto_jobs(self, h: PendingTraining) -> tuple[BatchJob, BatchJob]:
        """Return Ditto's two updates of one device as batch jobs, in the order
        :func:`~simfl.learning.personal_procedures.ditto_procedure` runs them on one stream:
        the global copy's plain steps, then the personal model's steps with ``personal_lr``
        and the proximal term towards the received global model."""
        import dataclasses

        from simfl.learning.batched_training import BatchJob
        from simfl.learning.paired import unpack_pair

        lam, personal_lr = float(h.job.options["lam"]), float(h.job.options["personal_lr"])
        received, personal = unpack_pair(h.job.start, h.job.start.numel() // 2)
        client = self.clients[h.job.client]
        rng = self.rng(h.job.stream)  # one stream, drawn by the two updates in turn
        personal_cfg = dataclasses.replace(h.config, lr=personal_lr)
        return (BatchJob(received, client.x, client.y, h.config, rng),
                BatchJob(personal, client.x, client.y, personal_cfg, rng, (received, lam)))

    def _pfedme_outputs(self, model: nn.Module, group: list[PendingTraining]
                        ) -> list[tuple[torch.Tensor, TrainResult]]:
        """Train pFedMe's paired updates (``first`` = w, ``second`` = theta) together; return
        the paired states and results as ``pfedme_procedure`` (samples per pass)."""
        import dataclasses

        from simfl.learning.batched_personal import PFedMeJob, train_pfedme_batched
        from simfl.learning.paired import pack_pair, unpack_pair

        jobs = []
        for h in group:
            w, theta = unpack_pair(h.job.start, h.job.start.numel() // 2)
            client, options = self.clients[h.job.client], h.job.options
            jobs.append(PFedMeJob(w, theta, client.x, client.y, h.config,
                                  self.rng(h.job.stream), float(options["lam"]),
                                  float(options["inner_lr"]), int(options["inner_steps"])))
        return [(pack_pair(w, theta, w.numel()),
                 dataclasses.replace(result, samples_processed=result.samples_processed
                                     // job.inner_steps))
                for job, (w, theta, result) in zip(jobs, train_pfedme_batched(
                    model, jobs, task=self.task), strict=True)]

    def _perfedavg_outputs(self, model: nn.Module, group: list[PendingTraining]
                           ) -> list[tuple[torch.Tensor, TrainResult]]:
        """Train Per-FedAvg (FO) updates together, as ``perfedavg_procedure`` (a job plans
        two minibatches per meta step); jobs with other meta rates train apart."""
        import dataclasses

        from simfl.learning.batched_personal import train_perfedavg_batched
        from simfl.learning.batched_training import BatchJob

        out: dict[int, tuple[torch.Tensor, TrainResult]] = {}
        by_rate: dict[float, list[int]] = {}
        for i, h in enumerate(group):
            by_rate.setdefault(float(h.job.options["meta_lr"]), []).append(i)
        for meta_lr, members in by_rate.items():
            jobs = []
            for i in members:
                h = group[i]
                client = self.clients[h.job.client]
                steps = h.config.steps
                assert steps is not None  # checked by unbatchable
                jobs.append(BatchJob(h.job.start, client.x, client.y,
                                     dataclasses.replace(h.config, steps=steps // 2),
                                     self.rng(h.job.stream)))
            trained = train_perfedavg_batched(model, jobs, meta_lr, task=self.task)
            out.update(zip(members, trained, strict=True))
        return [out[i] for i in range(len(group))]

    @staticmethod
    def _ditto_output(h: PendingTraining, first: tuple[torch.Tensor, TrainResult],
                      second: tuple[torch.Tensor, TrainResult]
                      ) -> tuple[torch.Tensor, TrainResult]:
        """Return the paired state and the global copy's result, as ``ditto_procedure``."""
        from simfl.learning.paired import pack_pair

        (w, result), (v, _) = first, second
        return pack_pair(w, v, w.numel()), result
