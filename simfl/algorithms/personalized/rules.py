"""Server-side update rules of PerMFL and its personalized-FL baselines, over flat vectors.

Papers:

- PerMFL: Banerjee, Dadras, Yurtsever, Bhuyan, "Personalized Multi-tier Federated
  Learning", arXiv 2407.14251 (2024). Global model ``x``, team models ``w_j``, device
  models ``theta_i``. One global round::

      x_old = x
      for each sampled team j:             w_j = x_old
          repeat K times:
              each sampled device i of j:  theta_i = w_j, then L minibatch steps of
                  theta_i -= alpha * (grad f_i(theta_i) + device_prox * (theta_i - w_j))
              w_j = permfl_team_step(w_j, mean_i theta_i, x_old, team_lr, lam, gamma)
      x = permfl_global_step(x_old, [w_j of every team], beta, gamma)

  The device step is ``train_local(..., prox=(w_j, device_prox))``. The paper's
  ``device_prox`` is ``lam``; the official code (github.com/sourasb05/PerMFL_1) uses
  ``L`` (local_iters, 20) there because ``UserPerMFL`` passes its arguments to
  ``User.__init__`` by position; ``device_prox = 20`` reproduces it. Teams not sampled
  this round enter the global mean with their last ``w_j``.
- h-SGD (hierarchical local SGD): each team model is the mean of its devices' models after
  ``L`` local steps, repeated ``K`` team rounds; the global model is the mean of the teams.
- pFedMe: Dinh, Tran, Nguyen, "Personalized Federated Learning with Moreau Envelopes",
  NeurIPS 2020: ``x = (1 - beta) x + beta * mean of the devices' local models``
  (:func:`pfedme_server_step`; ``beta = 1`` is FedAvg's mean, the paper also uses 2).
- Ditto (Li, Hu, Beirami, Smith, ICML 2021) and Per-FedAvg (Fallah, Mokhtari, Ozdaglar,
  NeurIPS 2020) aggregate their global models by FedAvg: :func:`average`.

Means are plain (one vote per device or team), as in the papers and the official PerMFL
code; ``weighting="samples"`` weights each vector by the samples behind it instead.
Every function returns a new float32 vector of shape (P,) and never touches a model.
torch is imported inside the functions (see :mod:`simfl.algorithms`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Literal

from simfl.errors import SimflError

if TYPE_CHECKING:
    import torch

WEIGHTINGS = ("plain", "samples")
Weighting = Literal["plain", "samples"]


def average(
    vectors: Sequence[torch.Tensor],
    sample_counts: Sequence[int] | None = None,
    weighting: Weighting = "plain",
) -> torch.Tensor:
    """Return the mean of ``vectors``, shape (P,): plain, or weighted by ``sample_counts``.

    Parameters
    ----------
    vectors
        Flat parameter vectors of equal shape (P,).
    sample_counts
        Samples behind each vector (a device's local data, a team's total); needed only for
        ``weighting="samples"``.
    weighting
        ``"plain"`` (each vector counts once: the papers and the official PerMFL code) or
        ``"samples"`` (FedAvg-style weights ``n_i / sum n``).
    """
    from simfl.algorithms.aggregate import weighted_average

    if weighting not in WEIGHTINGS:
        raise SimflError(f"weighting {weighting!r} is unknown; use one of {WEIGHTINGS}")
    if not vectors:
        raise SimflError("average: no vectors to average; at least one device or team must report")
    if weighting == "plain":
        return weighted_average(vectors, [1.0] * len(vectors))
    if sample_counts is None or len(sample_counts) != len(vectors):
        got = "none" if sample_counts is None else str(len(sample_counts))
        raise SimflError(
            f"average: weighting='samples' needs one sample count per vector; got {got} "
            f"counts for {len(vectors)} vectors"
        )
    if any(n < 0 for n in sample_counts) or sum(sample_counts) <= 0:
        raise SimflError(
            f"average: sample counts {list(sample_counts)} must be >= 0 with a positive total"
        )
    return weighted_average(vectors, [float(n) for n in sample_counts])


def permfl_team_step(
    w_team: torch.Tensor,
    theta_bar: torch.Tensor,
    x_old: torch.Tensor,
    team_lr: float,
    lam: float,
    gamma: float,
) -> torch.Tensor:
    """Return the team model after one PerMFL team step, shape (P,).

    ``w - team_lr * (lam * (w - theta_bar) + gamma * (w - x_old))``: a gradient step on the
    team's Moreau-envelope objective, pulled toward the mean of its devices ``theta_bar``
    (weight ``lam``) and toward the global model of the round's start ``x_old`` (weight
    ``gamma``). With ``team_lr * (lam + gamma) <= 1`` it is a convex combination of the
    three vectors.
    """
    _check_nonnegative(team_lr=team_lr, lam=lam, gamma=gamma)
    return w_team - team_lr * (lam * (w_team - theta_bar) + gamma * (w_team - x_old))


def permfl_global_step(
    x_old: torch.Tensor,
    team_models: Sequence[torch.Tensor],
    beta: float,
    gamma: float,
    sample_counts: Sequence[int] | None = None,
    weighting: Weighting = "plain",
) -> torch.Tensor:
    """Return the new global model ``(1 - beta*gamma) x_old + beta*gamma * mean_j w_j``, (P,).

    Parameters
    ----------
    x_old
        The global model at the start of the round.
    team_models
        Every team's current model ``w_j``, including teams not sampled this round (they
        enter with their last ``w_j``, as in the official code).
    beta, gamma
        Global step size and the team-global coupling; ``beta * gamma`` must be in [0, 1).
    sample_counts, weighting
        How the team mean is taken (see :func:`average`); plain by default.

    Raises
    ------
    SimflError
        If ``beta * gamma >= 1`` or either is negative.
    """
    _check_nonnegative(beta=beta, gamma=gamma)
    problem = beta_gamma_problem(beta, gamma)
    if problem is not None:
        raise SimflError(problem)
    step = beta * gamma
    w_bar = average(team_models, sample_counts, weighting)
    return (1.0 - step) * x_old + step * w_bar


def beta_gamma_problem(beta: float, gamma: float) -> str | None:
    """Return why ``beta * gamma`` is refused (PerMFL's global step needs it < 1), or None."""
    step = beta * gamma
    if step < 1:
        return None
    return (
        f"PerMFL: beta*gamma = {beta}*{gamma} = {step:g} must be < 1. The global step "
        "x = (1 - beta*gamma) x_old + beta*gamma * mean(w_j) is a convex combination "
        "(a contraction toward the team mean) only for beta*gamma < 1; at "
        f"{step:g} it extrapolates past the team mean and the paper's convergence "
        "guarantee is lost. Use e.g. the paper's beta=0.6, gamma=1.5 (0.9). The official "
        "code's defaults beta=0.99, gamma=5 (4.95) violate this rule."
    )


def pfedme_server_step(
    x_old: torch.Tensor,
    local_models: Sequence[torch.Tensor],
    beta: float,
    sample_counts: Sequence[int] | None = None,
    weighting: Weighting = "plain",
) -> torch.Tensor:
    """Return pFedMe's new global model ``(1 - beta) x_old + beta * mean_i w_i``, shape (P,).

    ``local_models`` are the sampled devices' local models ``w_i`` after their local rounds
    (:func:`simfl.learning.personal_training.train_pfedme`). ``beta = 1`` is the plain mean;
    Dinh et al. also run ``beta = 2`` (an extrapolating step), so only ``beta > 0`` is
    required.
    """
    if not beta > 0:
        raise SimflError(f"pFedMe: beta={beta} must be > 0 (1 gives the plain FedAvg mean)")
    return (1.0 - beta) * x_old + beta * average(local_models, sample_counts, weighting)


def hsgd_step(
    models: Sequence[torch.Tensor],
    sample_counts: Sequence[int] | None = None,
    weighting: Weighting = "plain",
) -> torch.Tensor:
    """Return an h-SGD aggregate, shape (P,): the mean of the models one tier below.

    At a team: the mean of its devices' models after ``L`` local steps (repeated ``K``
    team rounds per global round). At the global server: the mean of the team models.
    """
    return average(models, sample_counts, weighting)


def _check_nonnegative(**values: float) -> None:
    bad = [f"{k}={v}" for k, v in values.items() if not v >= 0]
    if bad:
        raise SimflError(f"PerMFL: {', '.join(bad)} must be >= 0")
