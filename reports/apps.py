from django.apps import AppConfig


class ReportsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "reports"

    def ready(self) -> None:
        # Reports and packets are runs of the run kernel (claim, lease, retry, reaper: governance.services.run_state).
        from governance.services.run_state import register_run_kind
        from reports.models import Packet, Report

        register_run_kind(Report, object_type="report", task="reports.tasks.render_report", url_name="reports:report")
        register_run_kind(Packet, object_type="packet", task="reports.tasks.build_packet", url_name="reports:packet")
