"""validation tasks."""
