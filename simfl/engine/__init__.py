"""simfl.engine."""
