"""Every read of governance data."""
