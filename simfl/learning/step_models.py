"""Recurrent regressors that predict one value per time step (heart rate along a workout).

FitRec's heart-rate model and SGFusion's LSTM (arXiv 2510.23455) map a workout of ``seq``
steps to a heart rate at every step: a stacked LSTM over the step inputs, a linear head per
step. Their model also reads context: the user's previous workout (its inputs and heart
rate), encoded by LSTMs whose per-step outputs are projected and concatenated with the
current inputs. :class:`PerStepRegressor` does both; the context channels, when there are
any, are the last ``context_features`` input features of each step (see
:mod:`simfl.learning.workout_context`).

The prediction is ``mean + std * head(h_t)``: the head learns the standardised target, so
a model that starts at zero predicts the training mean (a heart rate of about 120 bpm)
instead of 0 and a few optimizer steps at ``lr = 1e-3`` already move it sensibly.
``mean`` and ``std`` are constants of the architecture (not trained, not sent).
"""

from __future__ import annotations

import torch
from torch import nn


class PerStepRegressor(nn.Module):
    """GRU or LSTM regressor with a prediction per step and optional context encoder.

    Input ``(n, seq, features)``; output ``(n, seq)``.

    Parameters
    ----------
    cell
        ``"gru"`` or ``"lstm"``.
    num_features
        Input features per step, context channels included.
    hidden
        Width of every recurrent layer.
    layers
        Stacked layers of the main network.
    context_features
        How many of the last input features are context (0: none). They go through their
        own one-layer recurrent encoder of width ``hidden``, projected to ``context_dim``.
    context_dim
        Width of the projected context added to the step inputs.
    target_mean, target_std
        The affine map from the head's standardised output to the target's unit.
    """

    def __init__(self, cell: str, num_features: int, hidden: int, layers: int, *,
                 context_features: int = 0, context_dim: int = 32,
                 target_mean: float = 0.0, target_std: float = 1.0) -> None:
        super().__init__()
        rnn_cls = nn.GRU if cell == "gru" else nn.LSTM
        self.step_features = num_features - context_features
        self.context_features = context_features
        inputs = self.step_features
        if context_features:
            self.context = rnn_cls(context_features, hidden, batch_first=True)
            self.project = nn.Linear(hidden, context_dim)
            inputs += context_dim
        self.rnn = rnn_cls(inputs, hidden, num_layers=layers, batch_first=True)
        self.head = nn.Linear(hidden, 1)
        self.target_mean = float(target_mean)
        self.target_std = float(target_std)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Return the prediction at every step, ``(n, seq)``, in the target's unit."""
        steps = x[..., : self.step_features]
        if self.context_features:
            encoded, _ = self.context(x[..., self.step_features:])
            steps = torch.cat([steps, self.project(encoded)], dim=-1)
        out, _ = self.rnn(steps)
        return self.head(out).squeeze(-1) * self.target_std + self.target_mean
