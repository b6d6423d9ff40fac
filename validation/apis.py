"""validation apis."""
