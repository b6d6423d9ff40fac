"""scenarios selectors."""
