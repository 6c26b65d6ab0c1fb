"""SGD, Adam and RMSprop over stacked parameters: one optimizer state per client, updated
together.

Parameters are tensors ``(clients, *shape)``; each update touches a contiguous range of
clients (those of one pass of a
:class:`~simfl.learning.minibatch_schedule.MinibatchSchedule`), which all take their ``step``-th
update together. The arithmetic is that of
:func:`simfl.learning.training._sgd_step` (``torch.optim.SGD`` without dampening or Nesterov)
of ``torch.optim.Adam`` (L2 weight decay added to the gradient, betas (0.9, 0.999),
eps 1e-8) and of ``torch.optim.RMSprop`` (alpha 0.99, eps 1e-8, no momentum, not centered),
operation by operation, so each client's trajectory is the sequential one.
"""

from __future__ import annotations

import torch

from simfl.learning.training import TrainConfig

#: ``torch.optim.Adam``'s defaults, which ``train_local`` uses.
ADAM_BETAS = (0.9, 0.999)
ADAM_EPS = 1e-8
#: ``torch.optim.RMSprop``'s defaults, which ``train_local`` uses.
RMSPROP_ALPHA = 0.99
RMSPROP_EPS = 1e-8


class StackedOptimizer:
    """Per-client SGD/Adam/RMSprop state for stacked parameters, all clients sharing ``cfg``.

    Parameters
    ----------
    cfg
        Optimizer, lr, momentum (SGD only, as ``train_local``) and weight decay, common to
        all clients.
    params
        The stacked parameters ``(clients, *shape)``; the state has the same shapes.
    """

    def __init__(self, cfg: TrainConfig, params: list[torch.Tensor]):
        self.cfg = cfg
        if cfg.optimizer not in ("sgd", "adam", "rmsprop"):
            raise ValueError(f"StackedOptimizer: optimizer {cfg.optimizer!r} is not sgd, "
                             "adam or rmsprop")
        adam = cfg.optimizer == "adam"
        sgd_momentum = cfg.optimizer == "sgd" and bool(cfg.momentum)
        self.momentum_bufs = [torch.zeros_like(p) for p in params] if sgd_momentum else []
        self.exp_avg = [torch.zeros_like(p) for p in params] if adam else []
        # Adam's second moment, or RMSprop's square average
        self.exp_avg_sq = ([torch.zeros_like(p) for p in params]
                           if adam or cfg.optimizer == "rmsprop" else [])

    def step(
        self, live: list[torch.Tensor], grads: list[torch.Tensor], clients: slice, step: int
    ) -> None:
        """Update ``live`` in place with ``grads``; both are the ``clients`` rows.

        ``step`` counts from 1 (each client's first update); ``grads`` may be modified.
        """
        cfg = self.cfg
        if cfg.weight_decay:
            grads = list(torch._foreach_add(grads, live, alpha=cfg.weight_decay))
        if cfg.optimizer == "adam":
            self._adam(live, grads, clients, step)
            return
        if cfg.optimizer == "rmsprop":
            self._rmsprop(live, grads, clients)
            return
        if cfg.momentum:
            bufs = [b[clients] for b in self.momentum_bufs]
            if step == 1:  # torch.optim.SGD starts the buffer at the first gradient
                torch._foreach_copy_(bufs, grads)
            else:
                torch._foreach_mul_(bufs, cfg.momentum)
                torch._foreach_add_(bufs, grads)
            grads = bufs
        torch._foreach_add_(live, grads, alpha=-cfg.lr)

    def _adam(
        self, live: list[torch.Tensor], grads: list[torch.Tensor], clients: slice, step: int
    ) -> None:
        beta1, beta2 = ADAM_BETAS
        exp_avg = [m[clients] for m in self.exp_avg]
        exp_avg_sq = [v[clients] for v in self.exp_avg_sq]
        torch._foreach_lerp_(exp_avg, grads, 1 - beta1)
        torch._foreach_mul_(exp_avg_sq, beta2)
        torch._foreach_addcmul_(exp_avg_sq, grads, grads, value=1 - beta2)
        step_size = self.cfg.lr / (1 - beta1 ** float(step))
        bias_correction2_sqrt = (1 - beta2 ** float(step)) ** 0.5
        denom = list(torch._foreach_sqrt(exp_avg_sq))
        torch._foreach_div_(denom, bias_correction2_sqrt)
        torch._foreach_add_(denom, ADAM_EPS)
        torch._foreach_addcdiv_(live, exp_avg, denom, value=-step_size)

    def _rmsprop(
        self, live: list[torch.Tensor], grads: list[torch.Tensor], clients: slice
    ) -> None:
        square_avg = [v[clients] for v in self.exp_avg_sq]
        torch._foreach_mul_(square_avg, RMSPROP_ALPHA)
        torch._foreach_addcmul_(square_avg, grads, grads, value=1 - RMSPROP_ALPHA)
        avg = list(torch._foreach_sqrt(square_avg))
        torch._foreach_add_(avg, RMSPROP_EPS)
        torch._foreach_addcdiv_(live, grads, avg, value=-self.cfg.lr)
