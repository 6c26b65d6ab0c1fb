"""simfl.learning."""
