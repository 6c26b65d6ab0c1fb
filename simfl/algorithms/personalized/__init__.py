"""Personalized federated learning: PerMFL and its baselines (h-SGD, pFedMe, Ditto,
Per-FedAvg, Local).

The server-side update rules are pure functions over flat parameter vectors in
:mod:`simfl.algorithms.personalized.rules`; the device-side procedures that are not plain
:func:`simfl.learning.training.train_local` are in :mod:`simfl.learning.personal_training`.
"""
