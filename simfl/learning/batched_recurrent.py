"""Stacked GRU and LSTM layers: many clients' recurrent encoders in one computation.

The cells follow ``torch.nn.GRU`` / ``torch.nn.LSTM`` exactly (gate order r, z, n and
i, f, g, o; two biases per layer; zero initial state). The input projections of all time
steps are one ``baddbmm`` per layer; the recurrence is one ``baddbmm`` per time step for all
clients, differentiated by ordinary autograd.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch

from simfl.learning.batched_models import StackedLayer
from simfl.learning.models import SequenceModel


def recurrent_layers(model: SequenceModel) -> tuple[StackedLayer, ...] | None:
    """Return the stacked layers of ``model``'s encoder up to its last step's output.

    The layers map ``(k, b, seq, features)`` to ``(k, b, hidden)``; the caller appends the
    Linear head. None if the recurrent module has options the stacked cells do not follow.
    """
    rnn = model.rnn
    if rnn.bidirectional or not rnn.batch_first or not rnn.bias or rnn.proj_size:
        return None
    if isinstance(rnn, torch.nn.GRU):
        cell = _gru_layer
    elif isinstance(rnn, torch.nn.LSTM):
        cell = _lstm_layer
    else:
        return None
    layers = [StackedLayer(f"{rnn.mode.lower()}_{i}", 4, cell) for i in range(rnn.num_layers)]
    return (*layers, StackedLayer("last_step", 0, _last_step))


def _input_gates(h: torch.Tensor, w_ih: torch.Tensor, b_ih: torch.Tensor) -> torch.Tensor:
    """Return ``(k, b, seq, gates)``: the input projection of every time step at once."""
    k, b, seq, feat = h.shape
    flat = torch.baddbmm(b_ih.unsqueeze(1), h.reshape(k, b * seq, feat), w_ih.transpose(1, 2))
    return flat.view(k, b, seq, -1)


def _gru_layer(h: torch.Tensor, p: Sequence[torch.Tensor]) -> torch.Tensor:
    """Return the GRU layer's outputs ``(k, b, seq, hidden)`` for inputs ``(k, b, seq, feat)``."""
    w_ih, w_hh, b_ih, b_hh = p
    gi = _input_gates(h, w_ih, b_ih)
    hidden = w_hh.shape[2]
    state = h.new_zeros((h.shape[0], h.shape[1], hidden))
    w_hh_t, b_hh_row = w_hh.transpose(1, 2), b_hh.unsqueeze(1)
    outputs = []
    for t in range(h.shape[2]):
        gh = torch.baddbmm(b_hh_row, state, w_hh_t)
        x_t = gi[:, :, t]
        rz = torch.sigmoid(x_t[..., : 2 * hidden] + gh[..., : 2 * hidden])
        r, z = rz[..., :hidden], rz[..., hidden:]
        n = torch.tanh(x_t[..., 2 * hidden :] + r * gh[..., 2 * hidden :])
        state = n + z * (state - n)
        outputs.append(state)
    return torch.stack(outputs, dim=2)


def _lstm_layer(h: torch.Tensor, p: Sequence[torch.Tensor]) -> torch.Tensor:
    """Return the LSTM layer's outputs ``(k, b, seq, hidden)`` for inputs ``(k, b, seq, feat)``."""
    w_ih, w_hh, b_ih, b_hh = p
    gi = _input_gates(h, w_ih, b_ih)
    hidden = w_hh.shape[2]
    state = h.new_zeros((h.shape[0], h.shape[1], hidden))
    cell = torch.zeros_like(state)
    w_hh_t, b_hh_row = w_hh.transpose(1, 2), b_hh.unsqueeze(1)
    outputs = []
    for t in range(h.shape[2]):
        gates = torch.baddbmm(b_hh_row, state, w_hh_t) + gi[:, :, t]
        sig = torch.sigmoid(gates)  # the g slice is wasted; one op is cheaper than a cat
        g = torch.tanh(gates[..., 2 * hidden : 3 * hidden])
        i, f, o = sig[..., :hidden], sig[..., hidden : 2 * hidden], sig[..., 3 * hidden :]
        cell = f * cell + i * g
        state = o * torch.tanh(cell)
        outputs.append(state)
    return torch.stack(outputs, dim=2)


def _last_step(h: torch.Tensor, p: Sequence[torch.Tensor]) -> torch.Tensor:
    return h[:, :, -1]
