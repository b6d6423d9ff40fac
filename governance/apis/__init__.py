"""Governance REST API: one thin view per operation, grouped by area."""
