"""Wiring only: settings, URLs, the Celery app, the exception handler."""

from config.celery import app as celery_app

__all__ = ["celery_app"]
