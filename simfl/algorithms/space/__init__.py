"""Algorithms over the space-ground world: region FL served by satellites during passes.

FedMeld (store-carry-forward mixing) and its baselines: isolated regions, HFL through ground
stations, Ring-Allreduce and Parallel FL over inter-satellite links.
"""
