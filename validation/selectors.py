"""validation selectors."""
