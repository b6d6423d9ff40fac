"""Django admin: lineage."""
