"""Every read of validation data."""
