"""simfl: a discrete-event network and orbital simulator for federated learning.

The time is modelled; the learning is real.
"""

from simfl.errors import DataError, OrbitError, ScenarioError, SimflError

__all__ = ["DataError", "OrbitError", "ScenarioError", "SimflError"]
__version__ = "0.1.0"
