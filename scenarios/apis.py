"""scenarios apis."""
