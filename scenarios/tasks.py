"""scenarios tasks."""
