"""simfl.analysis."""
