"""simfl.devices."""
