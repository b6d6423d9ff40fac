from django.apps import AppConfig


class PipelinesConfig(AppConfig):
    """The end-to-end orchestration (``manage.py demo``, ``manage.py run_pipeline``): the top app below the
    portal, driving the services of reports, validation, scenarios and governance. It has no tables."""

    default_auto_field = "django.db.models.BigAutoField"
    name = "pipelines"
