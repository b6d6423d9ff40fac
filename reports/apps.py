from django.apps import AppConfig


class ReportsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "reports"

    def ready(self) -> None:
        # Reports, packets and figure sets are runs of the run kernel (claim, lease, retry, reaper:
        # governance.services.run_state).
        from governance.services.run_state import register_run_kind
        from reports.models import FigureSet, Packet, Report
        from reports.services.figure_sets import install_hooks

        register_run_kind(Report, object_type="report", task="reports.tasks.render_report", url_name="reports:report")
        register_run_kind(Packet, object_type="packet", task="reports.tasks.build_packet", url_name="reports:packet")
        register_run_kind(FigureSet, object_type="figure_set", task="reports.tasks.draw_figures")
        # Charts are drawn by a task when their subject is produced, never inside a page request (DESIGN §4).
        install_hooks()
