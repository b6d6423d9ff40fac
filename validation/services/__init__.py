"""Every state change of validation data."""
