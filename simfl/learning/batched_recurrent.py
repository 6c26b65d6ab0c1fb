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
from simfl.learning.step_models import PerStepRegressor


def recurrent_layers(model: SequenceModel) -> tuple[StackedLayer, ...] | None:
    """Return the stacked layers of ``model``'s encoder up to its last step's output.

    The layers map the gathered input ``(k, b, seq, features)`` to the top layer's last state
    ``(k, hidden, b)``, features-first like every stacked linear layer; the caller appends
    the Linear head. None if the recurrent module has options the stacked cells do not follow.
    """
    return _encoder(model.rnn, every_step=False)


def per_step_layers(model: PerStepRegressor) -> tuple[StackedLayer, ...] | None:
    """Return the stacked form of a :class:`PerStepRegressor`.

    The layers map ``(k, b, seq, features)`` to the prediction at every step ``(k, seq, b)``
    (the head applied to every step's top state, then the target's affine map). With a
    context encoder, the first layer runs it over the last ``context_features`` channels,
    projects every step's state and puts the projections beside the step features. None if
    a recurrent module has options the stacked cells do not follow.
    """
    encoder = _encoder(model.rnn, every_step=True)
    if encoder is None:
        return None
    if model.context_features:
        context = _context_layer(model)
        if context is None:
            return None
        encoder = (context, *encoder[1:])  # the context layer leaves the sequence layout
    mean, std = model.target_mean, model.target_std

    def head(h: torch.Tensor, p: Sequence[torch.Tensor], k: int) -> torch.Tensor:
        """(k, hidden, seq, b) -> (k, seq, b) in the target's unit."""
        weight, bias = p
        _, hidden, seq, b = h.shape
        out = torch.baddbmm(bias.unsqueeze(2), weight, h.reshape(k, hidden, seq * b))
        return out.view(k, seq, b) * std + mean

    return (*encoder, StackedLayer("per_step_head", 2, head))


def _context_layer(model: PerStepRegressor) -> StackedLayer | None:
    """Return the layer ``(k, b, seq, features)`` -> ``(k, step features + context_dim, seq,
    b)``: the context encoder's every-step states, projected, after the step features."""
    context = _encoder(model.context, every_step=True)
    if context is None or len(context) != 2:  # to_sequence and one recurrent layer
        return None
    to_sequence, recurrent = context
    step_features = model.step_features

    def apply(h: torch.Tensor, p: Sequence[torch.Tensor], k: int) -> torch.Tensor:
        steps = to_sequence.apply(h[..., :step_features], (), k)
        states = recurrent.apply(to_sequence.apply(h[..., step_features:], (), k), p[:4], k)
        weight, bias = p[4:]
        _, hidden, seq, b = states.shape
        projected = torch.baddbmm(bias.unsqueeze(2), weight,
                                  states.reshape(k, hidden, seq * b)).view(k, -1, seq, b)
        return torch.cat([steps, projected], dim=1)

    return StackedLayer("context", 6, apply)


def _encoder(rnn: torch.nn.Module, every_step: bool) -> tuple[StackedLayer, ...] | None:
    """Return the stacked layers of a GRU/LSTM: the top layer's last state ``(k, H, b)``, or
    with ``every_step`` the states of every step ``(k, H, seq, b)``."""
    if not isinstance(rnn, torch.nn.GRU | torch.nn.LSTM):
        return None
    if rnn.bidirectional or not rnn.batch_first or not rnn.bias or rnn.proj_size:
        return None
    run = _gru_layer if isinstance(rnn, torch.nn.GRU) else _lstm_layer
    layers = [StackedLayer("to_sequence", 0, _to_sequence)]
    for i in range(rnn.num_layers):
        top = i == rnn.num_layers - 1 and not every_step
        layers.append(StackedLayer(f"{rnn.mode.lower()}_{i}", 4, _layer_fn(run, top)))
    return tuple(layers)


def _to_sequence(h: torch.Tensor, p: Sequence[torch.Tensor], k: int) -> torch.Tensor:
    """(k, b, seq, features) -> (k, features, seq, b), contiguous."""
    return h.permute(0, 3, 2, 1).contiguous()


#: A layer over all time steps: (input projections (k, gates * H, seq, b), w_hh, b_hh)
#: -> the states of every step, each (k, H, b).
Layer = Callable[[torch.Tensor, torch.Tensor, torch.Tensor], list[torch.Tensor]]


def _layer_fn(run: Layer, top: bool) -> LayerFn:
    """Return a recurrent layer over ``(k, features, seq, b)``.

    It returns the outputs ``(k, hidden, seq, b)``, or only the last state ``(k, hidden, b)``
    for the top layer. The input projections of all time steps are one ``baddbmm``.
    """

    def apply(h: torch.Tensor, p: Sequence[torch.Tensor], k: int) -> torch.Tensor:
        w_ih, w_hh, b_ih, b_hh = p
        _, feat, seq, b = h.shape
        gates = torch.baddbmm(b_ih.unsqueeze(2), w_ih, h.reshape(k, feat, seq * b))
        states = run(gates.view(k, -1, seq, b), w_hh, b_hh.unsqueeze(2))
        return states[-1] if top else torch.stack(states, dim=2)

    return apply


def _gru_layer(gi: torch.Tensor, w_hh: torch.Tensor, b_hh: torch.Tensor) -> list[torch.Tensor]:
    """Return the GRU states (gates r, z, n as in ``torch.nn.GRU``; zero initial state)."""
    hidden = w_hh.shape[2]
    states: list[torch.Tensor] = []
    for x_t in gi.unbind(dim=2):  # one backward node for all steps, not one per slice
        # the initial state is 0, so its projection is the bias alone
        gh = torch.baddbmm(b_hh, w_hh, states[-1]) if states else b_hh
        rz = torch.sigmoid(x_t[:, : 2 * hidden] + gh[:, : 2 * hidden])
        r, z = rz[:, :hidden], rz[:, hidden:]
        n = torch.tanh(x_t[:, 2 * hidden :] + r * gh[:, 2 * hidden :])
        states.append(n + z * (states[-1] - n) if states else n - z * n)
    return states


def _lstm_layer(gi: torch.Tensor, w_hh: torch.Tensor, b_hh: torch.Tensor) -> list[torch.Tensor]:
    """Return the LSTM states (gates i, f, g, o as in ``torch.nn.LSTM``; zero initial state)."""
    hidden = w_hh.shape[2]
    gi = gi + b_hh.unsqueeze(3)  # both biases once for all steps
    states: list[torch.Tensor] = []
    cell = gi.new_zeros(())
    for x_t in gi.unbind(dim=2):  # one backward node for all steps, not one per slice
        gates = torch.baddbmm(x_t, w_hh, states[-1]) if states else x_t
        sig = torch.sigmoid(gates)  # the g rows are wasted; one op is cheaper than a cat
        g = torch.tanh(gates[:, 2 * hidden : 3 * hidden])
        i, f, o = sig[:, :hidden], sig[:, hidden : 2 * hidden], sig[:, 3 * hidden :]
        cell = f * cell + i * g if states else i * g
        states.append(o * torch.tanh(cell))
    return states
