"""Celery tasks of the reports app (queue ``cpu``): take ids, call one service."""

from __future__ import annotations

import socket

from celery import shared_task


def _worker(task) -> str:
    return task.request.hostname or socket.gethostname()


@shared_task(bind=True, name="reports.tasks.render_report", acks_late=True, max_retries=12)
def render_report(self, report_id: int) -> None:
    from governance.services.run_state import RunBusy
    from reports.services.documents import report_execute

    try:
        report_execute(report_id, worker=_worker(self))
    except RunBusy as busy:
        raise self.retry(countdown=busy.retry_in) from busy


@shared_task(bind=True, name="reports.tasks.build_packet", acks_late=True, max_retries=12)
def build_packet(self, packet_id: int) -> None:
    from governance.services.run_state import RunBusy
    from reports.services.packets import packet_execute

    try:
        packet_execute(packet_id, worker=_worker(self))
    except RunBusy as busy:
        raise self.retry(countdown=busy.retry_in) from busy


@shared_task(bind=True, name="reports.tasks.draw_figures", acks_late=True, max_retries=12)
def draw_figures(self, figure_set_id: int) -> None:
    from governance.services.run_state import RunBusy
    from reports.services.figure_sets import figure_set_execute

    try:
        figure_set_execute(figure_set_id, worker=_worker(self))
    except RunBusy as busy:
        raise self.retry(countdown=busy.retry_in) from busy
