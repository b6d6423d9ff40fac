"""Every state change of scenario data."""
