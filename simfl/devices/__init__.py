"""Device models: compute speed profiles and availability periods (pure, no SimPy)."""

from simfl.devices.availability import Availability
from simfl.devices.compute_profile import ComputeProfile, compute_time_s

__all__ = ["Availability", "ComputeProfile", "compute_time_s"]
