"""Django admin: audit."""
