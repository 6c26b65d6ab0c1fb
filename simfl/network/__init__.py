"""Network building blocks: links, transfer times, range-dependent link budgets (pure)."""

from simfl.network.link import Link, Sharing, transfer_time_s
from simfl.network.link_budget import LinkBudget, free_space_path_loss_db

__all__ = ["Link", "LinkBudget", "Sharing", "free_space_path_loss_db", "transfer_time_s"]
