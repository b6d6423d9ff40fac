"""Governance API: lineage."""

urlpatterns: list = []
