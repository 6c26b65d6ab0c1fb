"""Federated learning algorithms: one module per algorithm, SimPy processes around pure math.

Each algorithm module declares its config, its class and its name together and registers
itself (see :mod:`simfl.scenario.registry`); nothing here lists them. Families live in
sub-packages: ``space/`` (FedMeld and its baselines over satellites), ``personalized/``,
``geographic/``, ``oneshot/``. Modules here import torch lazily, so validating a scenario
(which imports them all to learn their configs) stays fast.
"""
