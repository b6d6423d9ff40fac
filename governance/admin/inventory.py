"""Django admin: inventory."""
