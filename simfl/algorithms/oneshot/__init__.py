"""One-shot federated learning: FuseFL (progressive block fusion) and the one-shot baselines
it is measured against (one-shot FedAvg, the logit ensemble, FedDF), as timed algorithms.

Tang et al., "FuseFL: One-Shot Federated Learning through the Lens of Causality with
Progressive Model Fusion", NeurIPS 2024, arXiv 2410.20380. Each module declares its config
and registers its class; :mod:`.exchange` holds the timed steps they share.
"""
