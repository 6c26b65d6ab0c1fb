"""Stacked GRU and LSTM layers: many clients' recurrent encoders in one computation.

The cells follow ``torch.nn.GRU`` / ``torch.nn.LSTM`` exactly (gate order r, z, n and
i, f, g, o; two biases per layer; zero initial state). The input projections of all time
steps are one ``baddbmm`` per layer; the recurrence is one ``baddbmm`` per time step for all
clients, differentiated by ordinary autograd. States are features-first, ``(k, hidden, b)``,
like every stacked layer (see :mod:`simfl.learning.batched_models`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import torch

from simfl.learning.batched_models import LayerFn, StackedLayer
from simfl.learning.models import SequenceModel


def recurrent_layers(model: SequenceModel) -> tuple[StackedLayer, ...] | None:
    """Return the stacked layers of ``model``'s encoder up to its last step's output.

    The layers map the gathered input ``(k, b, seq, features)`` to the top layer's last state
    ``(k, hidden, b)``, features-first like every stacked linear layer; the caller appends
    the Linear head. None if the recurrent module has options the stacked cells do not follow.
    """
    rnn = model.rnn
    if rnn.bidirectional or not rnn.batch_first or not rnn.bias or rnn.proj_size:
        return None
    if isinstance(rnn, torch.nn.GRU):
        cell = _gru_step
    elif isinstance(rnn, torch.nn.LSTM):
        cell = _lstm_step
    else:
        return None
    layers = [StackedLayer("to_sequence", 0, _to_sequence)]
    for i in range(rnn.num_layers):
        top = i == rnn.num_layers - 1
        layers.append(StackedLayer(f"{rnn.mode.lower()}_{i}", 4, _layer_fn(cell, top)))
    return tuple(layers)


def _to_sequence(h: torch.Tensor, p: Sequence[torch.Tensor], k: int) -> torch.Tensor:
    """(k, b, seq, features) -> (k, features, seq, b), contiguous."""
    return h.permute(0, 3, 2, 1).contiguous()


#: One time step: (input gates (k, G*H, b), state, cell state or None, w_hh, b_hh)
#: -> (state, cell state or None).
Cell = Callable[
    [torch.Tensor, torch.Tensor, torch.Tensor | None, torch.Tensor, torch.Tensor],
    tuple[torch.Tensor, torch.Tensor | None],
]


def _layer_fn(cell: Cell, top: bool) -> LayerFn:
    """Return a recurrent layer over ``(k, features, seq, b)``.

    It returns the outputs ``(k, hidden, seq, b)``, or only the last state ``(k, hidden, b)``
    for the top layer. The input projections of all time steps are one ``baddbmm``.
    """

    def apply(h: torch.Tensor, p: Sequence[torch.Tensor], k: int) -> torch.Tensor:
        w_ih, w_hh, b_ih, b_hh = p
        _, feat, seq, b = h.shape
        gates = torch.baddbmm(b_ih.unsqueeze(2), w_ih, h.reshape(k, feat, seq * b))
        gates = gates.view(k, -1, seq, b)
        state = h.new_zeros((k, w_hh.shape[2], b))
        cell_state = torch.zeros_like(state) if cell is _lstm_step else None
        outputs = []
        for t in range(seq):
            state, cell_state = cell(gates[:, :, t], state, cell_state, w_hh, b_hh)
            outputs.append(state)
        return state if top else torch.stack(outputs, dim=2)

    return apply


def _gru_step(
    x_t: torch.Tensor,
    state: torch.Tensor,
    cell_state: torch.Tensor | None,
    w_hh: torch.Tensor,
    b_hh: torch.Tensor,
) -> tuple[torch.Tensor, torch.Tensor | None]:
    """Return the next GRU state ``(k, H, b)`` (gates r, z, n as in ``torch.nn.GRU``)."""
    hidden = state.shape[1]
    gh = torch.baddbmm(b_hh.unsqueeze(2), w_hh, state)
    rz = torch.sigmoid(x_t[:, : 2 * hidden] + gh[:, : 2 * hidden])
    r, z = rz[:, :hidden], rz[:, hidden:]
    n = torch.tanh(x_t[:, 2 * hidden :] + r * gh[:, 2 * hidden :])
    return n + z * (state - n), None


def _lstm_step(
    x_t: torch.Tensor,
    state: torch.Tensor,
    cell_state: torch.Tensor | None,
    w_hh: torch.Tensor,
    b_hh: torch.Tensor,
) -> tuple[torch.Tensor, torch.Tensor | None]:
    """Return the next LSTM (state, cell state) (gates i, f, g, o as in ``torch.nn.LSTM``)."""
    assert cell_state is not None
    hidden = state.shape[1]
    gates = torch.baddbmm(b_hh.unsqueeze(2), w_hh, state) + x_t
    sig = torch.sigmoid(gates)  # the g rows are wasted; one op is cheaper than a cat
    g = torch.tanh(gates[:, 2 * hidden : 3 * hidden])
    i, f, o = sig[:, :hidden], sig[:, hidden : 2 * hidden], sig[:, 3 * hidden :]
    cell_state = f * cell_state + i * g
    return o * torch.tanh(cell_state), cell_state
