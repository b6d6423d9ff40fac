"""Validation API."""
