"""simfl.studies."""
