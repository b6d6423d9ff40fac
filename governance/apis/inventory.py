"""Governance API: inventory."""

urlpatterns: list = []
