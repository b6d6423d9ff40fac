from django.apps import AppConfig


class GovernanceConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "governance"

    def ready(self) -> None:
        # The anchored audit chain's deployment checks (signing key outside var/, anchor log writable):
        # `manage.py check --deploy` reports them before the first signature would fail.
        from governance import anchor_checks  # noqa: F401
