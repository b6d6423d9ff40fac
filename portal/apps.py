from django.apps import AppConfig


class PortalConfig(AppConfig):
    """Server-rendered pages for people (validators, approvers, auditors, developers).

    The pages compose every layer (a validation run page shows the report's charts and the stress
    results), so they live in one app on top of the stack rather than in the apps they read.
    """

    default_auto_field = "django.db.models.BigAutoField"
    name = "portal"
