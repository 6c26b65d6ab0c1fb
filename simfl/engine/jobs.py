"""Training jobs: a client update whose simulated cost is known before it runs.

An algorithm submits a :class:`TrainingJob` (start parameters, client, how much work, shuffling
stream, options) and gets a :class:`PendingTraining` at once: its FLOPs, samples and sample
count are known from the work alone, so the algorithm yields the compute and transfer events
first and asks for the trained vector only when it needs it (at aggregation). An executor
decides how pending jobs run: :class:`SequentialExecutor` one by one (the reference), a batched
executor many at once. Results do not depend on when or in which order jobs run: each job
shuffles with its own named stream and starts from its own parameters.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, Literal, Protocol

if TYPE_CHECKING:
    import numpy as np
    import torch
    from torch import nn

    from simfl.engine.job_memo import JobMemo
    from simfl.learning.training import TrainConfig, TrainResult


class ClientShard(Protocol):
    """What a job reads of a client: its name and local training tensors."""

    @property
    def name(self) -> str:
        """The client's node name."""
        ...

    @property
    def x(self) -> torch.Tensor:
        """Local training features, shape (n, *feature_shape)."""
        ...

    @property
    def y(self) -> torch.Tensor:
        """Local training labels or targets, shape (n,) or (n, outputs)."""
        ...


Procedure = Callable[..., "TrainResult"]
"""A local update procedure: ``fn(model, x, y, cfg, rng, task=..., **options) -> TrainResult``,
training ``model`` in place (``train_local`` and its relatives)."""


@dataclass(frozen=True)
class ProcedureSpec:
    """A registered local procedure and how many model passes a sample costs in it.

    ``passes_per_sample`` multiplies the training FLOPs per sample (forward + backward): 1 for
    plain SGD; more where a procedure evaluates extra gradients per sample it reports.
    """

    name: str
    fn: Procedure
    passes_per_sample: float = 1.0


_PROCEDURES: dict[str, ProcedureSpec] = {}


def register_procedure(name: str, fn: Procedure, passes_per_sample: float = 1.0) -> None:
    """Make ``fn`` available to jobs as ``procedure=name``."""
    _PROCEDURES[name] = ProcedureSpec(name, fn, passes_per_sample)


def procedure(name: str) -> ProcedureSpec:
    """Return the registered procedure ``name`` (``"sgd"`` is :func:`train_local`)."""
    if "sgd" not in _PROCEDURES:  # registered lazily: this module must not import torch
        from simfl.learning.training import train_local

        register_procedure("sgd", train_local)
    spec = _PROCEDURES.get(name)
    if spec is None:
        raise KeyError(f"training procedure {name!r} is unknown; registered: "
                       f"{', '.join(sorted(_PROCEDURES))}")
    return spec


@dataclass(frozen=True)
class ModelSpec:
    """An architecture jobs can train: a key that names it, a factory, its training FLOPs.

    Jobs with the same key share one model instance in an executor (and may be batched).
    """

    key: str
    factory: Callable[[], nn.Module]
    train_flops_per_sample: float


@dataclass(frozen=True)
class TrainingJob:
    """One client update, described completely before it runs.

    Attributes
    ----------
    client
        Index of the client whose data is trained on.
    start
        Flat start parameters (float32, shape (P,)), as the client received them.
    stream
        Name of the random stream that shuffles the client's data
        (``train/<client>/<key>``); the same name gives the same minibatches.
    config
        Optimizer and amount of work; None uses the world's ``training`` section.
    prox
        ``(reference, mu)``: adds ``mu/2 ||w - reference||^2`` (FedProx, PerMFL, Ditto).
    trainable
        Names of the parameters that train (``model.named_parameters()``); None: all.
    result
        ``"parameters"``: the job's value is the trained vector; ``"delta"``: trained - start.
    procedure
        The local procedure (``"sgd"``: minibatch SGD/Adam/RMSprop; others are registered with
        :func:`register_procedure`), with its ``options``.
    model
        The architecture; None is the world's model.
    """

    client: int
    start: torch.Tensor
    stream: str
    config: TrainConfig | None = None
    prox: tuple[torch.Tensor, float] | None = None
    trainable: frozenset[str] | None = None
    result: Literal["parameters", "delta"] = "parameters"
    procedure: str = "sgd"
    options: Mapping[str, Any] = field(default_factory=dict)
    model: ModelSpec | None = None


@dataclass(frozen=True)
class TrainingOutput:
    """What a finished job produced: its value (parameters or delta) and what it did."""

    value: torch.Tensor
    result: TrainResult


class PendingTraining:
    """A submitted job: its cost now, its trained value when asked for."""

    def __init__(self, executor: JobExecutor, job: TrainingJob, config: TrainConfig,
                 model: ModelSpec, samples_processed: int, num_samples: int) -> None:
        self.executor = executor
        self.job = job
        self.config = config
        self.model = model
        self.samples_processed = samples_processed
        """Samples the job will process (what its compute time is made of)."""
        self.num_samples = num_samples
        """Local training samples of the client (the FedAvg weight)."""
        self.flops = (samples_processed * model.train_flops_per_sample
                      * procedure(job.procedure).passes_per_sample)
        """Floating-point operations of the job: its simulated compute cost."""
        self._output: TrainingOutput | None = None
        self.cancelled = False

    @property
    def done(self) -> bool:
        """Return whether the job has run."""
        return self._output is not None

    def output(self) -> TrainingOutput:
        """Return the job's output, running it (and what the executor batches with it) now.

        A resumed run takes it from the executor's memo instead when it is there.
        """
        if self.cancelled:
            raise RuntimeError("the job was cancelled; its result was never computed")
        if self._output is None and not self.executor.take_from_memo(self):
            self.executor.run_pending(self)
        assert self._output is not None
        return self._output

    def value(self) -> torch.Tensor:
        """Return the trained parameters (or the delta, as the job asked)."""
        return self.output().value

    def cancel(self) -> None:
        """Drop a job whose result will never be needed (a straggler cut at a deadline)."""
        if self._output is None:
            self.cancelled = True
            self.executor.forget(self)

    def finish(self, output: TrainingOutput) -> None:
        """Store the output (called by the executor, which records it in its memo if any)."""
        self._output = output
        if self.executor.memo is not None:
            self.executor.memo.record(self, output)


class JobExecutor:
    """Base of executors: accepts jobs, prices them, runs them when a result is needed.

    Parameters
    ----------
    clients
        The clients' training data, by index.
    default_config
        The world's training settings (used by jobs without their own).
    default_model
        The world's architecture.
    task
        ``"classification"`` or ``"regression"``.
    rng
        ``rng(stream_name) -> numpy Generator``: a fresh generator per stream name (the
        simulation's ``fresh_rng``).
    """

    def __init__(
        self,
        clients: Sequence[ClientShard],
        default_config: TrainConfig,
        default_model: ModelSpec,
        task: str,
        rng: Callable[[str], np.random.Generator],
    ) -> None:
        self.clients = clients
        self.default_config = default_config
        self.default_model = default_model
        self.task = task
        self.rng = rng
        self.pending: list[PendingTraining] = []
        self.jobs_run = 0
        self.memo: JobMemo | None = None
        """Outputs of jobs kept for checkpoints, and read back on resume (None: off)."""
        self._models: dict[str, nn.Module] = {}

    def submit(self, job: TrainingJob) -> PendingTraining:
        """Accept ``job``; return its handle with the cost known."""
        from simfl.learning.training import planned_samples

        if not 0 <= job.client < len(self.clients):
            raise IndexError(f"client {job.client} does not exist (0..{len(self.clients) - 1})")
        config = job.config if job.config is not None else self.default_config
        model = job.model if job.model is not None else self.default_model
        n = int(self.clients[job.client].y.shape[0])
        handle = PendingTraining(self, job, config, model, planned_samples(n, config), n)
        self.pending.append(handle)
        return handle

    def take_from_memo(self, handle: PendingTraining) -> bool:
        """Finish ``handle`` from the memo if it holds its output; return whether it did."""
        found = self.memo.lookup(handle) if self.memo is not None else None
        if found is None:
            return False
        self.forget(handle)
        handle._output = found
        return True

    def forget(self, handle: PendingTraining) -> None:
        """Remove a cancelled job from the pending ones."""
        self.pending = [h for h in self.pending if h is not handle]

    def run_pending(self, wanted: PendingTraining) -> None:
        """Run ``wanted`` (and whatever the executor chooses to run with it)."""
        raise NotImplementedError

    def model_instance(self, spec: ModelSpec) -> nn.Module:
        """Return the executor's reusable instance of architecture ``spec``."""
        model = self._models.get(spec.key)
        if model is None:
            model = self._models[spec.key] = spec.factory()
        return model

    def run_one(self, handle: PendingTraining) -> TrainingOutput:
        """Train one job on the reusable model instance and return its output."""
        from simfl.learning.params import get_flat, set_flat

        job = handle.job
        model = self.model_instance(handle.model)
        set_flat(model, job.start)
        client = self.clients[job.client]
        proc = procedure(job.procedure)
        frozen = []
        if job.trainable is not None:
            for name, p in model.named_parameters():
                if name not in job.trainable and p.requires_grad:
                    p.requires_grad_(False)
                    frozen.append(p)
        try:
            result = proc.fn(model, client.x, client.y, handle.config, self.rng(job.stream),
                             task=self.task, prox=job.prox, **job.options)
        finally:
            for p in frozen:
                p.requires_grad_(True)
        if result.samples_processed != handle.samples_processed:
            raise RuntimeError(f"job {job.stream}: planned {handle.samples_processed} samples "
                               f"but {job.procedure!r} processed {result.samples_processed}")
        trained = get_flat(model)
        value = trained - job.start if job.result == "delta" else trained
        self.jobs_run += 1
        return TrainingOutput(value, result)


class SequentialExecutor(JobExecutor):
    """Runs each job alone, when its result is first asked for: the reference executor."""

    def run_pending(self, wanted: PendingTraining) -> None:
        """Run ``wanted`` alone."""
        self.forget(wanted)
        wanted.finish(self.run_one(wanted))


def with_work(config: TrainConfig, *, steps: int | None = None, epochs: int | None = None,
              lr: float | None = None) -> TrainConfig:
    """Return ``config`` with another amount of work (steps or epochs) and learning rate."""
    changes: dict[str, Any] = {}
    if steps is not None:
        changes.update(steps=steps, epochs=None)
    elif epochs is not None:
        changes.update(epochs=epochs, steps=None)
    if lr is not None:
        changes["lr"] = lr
    return replace(config, **changes)


def make_executor(kind: str, *args: Any, **kwargs: Any) -> JobExecutor:
    """Return the executor ``kind`` (``auto``, ``sequential`` or ``batched``) of these jobs.

    The arguments are :class:`JobExecutor`'s.
    """
    if kind == "sequential":
        return SequentialExecutor(*args, **kwargs)
    from simfl.engine.batched_executor import BatchedExecutor

    if kind not in ("auto", "batched"):
        raise ValueError(f"executor {kind!r} is unknown; use auto, sequential or batched")
    return BatchedExecutor(*args, **kwargs)
