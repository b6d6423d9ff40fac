"""Governance API: workflow."""

urlpatterns: list = []
