"""scenarios services."""
