"""simfl.network."""
