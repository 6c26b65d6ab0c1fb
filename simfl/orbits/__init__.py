"""simfl.orbits."""
