"""simfl.scenario."""
