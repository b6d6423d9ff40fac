"""Every read of scenario data."""
