"""validation services."""
