"""SGD and Adam over stacked parameters: one optimizer state per client, updated together.

Parameters are tensors ``(clients, *shape)``; at each step the clients still training are the
first ``k`` of them (see :class:`~simfl.learning.minibatch_schedule.MinibatchSchedule`), and
the update touches only those. The arithmetic is that of
:func:`simfl.learning.training._sgd_step` (``torch.optim.SGD`` without dampening or Nesterov)
and of ``torch.optim.Adam`` (L2 weight decay added to the gradient, betas (0.9, 0.999),
eps 1e-8), operation by operation, so each client's trajectory is the sequential one.
"""

from __future__ import annotations

import torch

from simfl.learning.training import TrainConfig

#: ``torch.optim.Adam``'s defaults, which ``train_local`` uses.
ADAM_BETAS = (0.9, 0.999)
ADAM_EPS = 1e-8


class StackedOptimizer:
    """Per-client SGD/Adam state for stacked parameters, all clients sharing ``cfg``.

    Parameters
    ----------
    cfg
        Optimizer, lr, momentum (SGD) and weight decay, common to all clients.
    params
        The stacked parameters ``(clients, *shape)``, updated in place by :meth:`step`.
    """

    def __init__(self, cfg: TrainConfig, params: list[torch.Tensor]):
        self.cfg = cfg
        self.steps_taken = 0
        self.momentum_bufs: list[torch.Tensor] | None = None
        self.exp_avg: list[torch.Tensor] = []
        self.exp_avg_sq: list[torch.Tensor] = []
        if cfg.optimizer == "adam":
            self.exp_avg = [torch.zeros_like(p) for p in params]
            self.exp_avg_sq = [torch.zeros_like(p) for p in params]

    def step(self, live: list[torch.Tensor], grads: list[torch.Tensor]) -> None:
        """Update ``live`` (the first ``k`` clients' parameters) in place with ``grads``.

        ``grads`` may be modified. Every client must take part in the first step.
        """
        cfg = self.cfg
        self.steps_taken += 1
        if cfg.weight_decay:
            grads = list(torch._foreach_add(grads, live, alpha=cfg.weight_decay))
        if cfg.optimizer == "adam":
            self._adam(live, grads)
            return
        if cfg.momentum:
            if self.momentum_bufs is None:
                self.momentum_bufs = [g.clone() for g in grads]
                grads = self.momentum_bufs
            else:
                k = live[0].shape[0]
                bufs = [b[:k] for b in self.momentum_bufs]
                torch._foreach_mul_(bufs, cfg.momentum)
                torch._foreach_add_(bufs, grads)
                grads = bufs
        torch._foreach_add_(live, grads, alpha=-cfg.lr)

    def _adam(self, live: list[torch.Tensor], grads: list[torch.Tensor]) -> None:
        k = live[0].shape[0]
        beta1, beta2 = ADAM_BETAS
        exp_avg = [m[:k] for m in self.exp_avg]
        exp_avg_sq = [v[:k] for v in self.exp_avg_sq]
        torch._foreach_lerp_(exp_avg, grads, 1 - beta1)
        torch._foreach_mul_(exp_avg_sq, beta2)
        torch._foreach_addcmul_(exp_avg_sq, grads, grads, value=1 - beta2)
        step = float(self.steps_taken)
        step_size = self.cfg.lr / (1 - beta1**step)
        bias_correction2_sqrt = (1 - beta2**step) ** 0.5
        denom = list(torch._foreach_sqrt(exp_avg_sq))
        torch._foreach_div_(denom, bias_correction2_sqrt)
        torch._foreach_add_(denom, ADAM_EPS)
        torch._foreach_addcdiv_(live, exp_avg, denom, value=-step_size)
