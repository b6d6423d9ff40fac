"""Scenario API."""
