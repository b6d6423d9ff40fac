from django.apps import AppConfig


class ValidationConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "validation"

    def ready(self) -> None:
        # A validation run is the aggregate of its parts; the parts are the kernel's runs (lease, retry, reaper).
        from governance.services.run_state import register_run_kind
        from validation.models import ValidationPart, ValidationRun
        from validation.services.parts import part_route, part_status_changed

        register_run_kind(ValidationRun, object_type="validation_run", url_name="validation:validation-run")
        register_run_kind(ValidationPart, object_type="validation_part", route=part_route,
                          on_status=part_status_changed, url_name="")
