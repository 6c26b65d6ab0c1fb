"""simfl.algorithms."""
