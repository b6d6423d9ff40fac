"""Governance API: audit."""

urlpatterns: list = []
