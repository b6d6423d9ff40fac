"""``python manage.py draw_figures``: start the charts of every result that has none (an upgrade step).

Results produced before charts were stored (or while ``CRUCIBLE_DRAW_FIGURES`` was off) have no figure set;
this starts one for each — validation runs, scenario sets, stress results, training runs — recorded for the
result's creator (``--actor USERNAME`` for results with none). The sets are runs: a worker draws them, or, in
the embedded default (no broker), this process as they start. ``--here`` draws any still pending in this
process; ``--retry-failed`` starts FAILED or CANCELLED sets again; ``--kind`` limits the kinds.
"""

from __future__ import annotations

import json
import socket

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from governance.models import RunStatus
from reports.models import FigureSet
from reports.services.figure_sets import (
    KINDS,
    figure_set_ensure,
    figure_set_execute,
    subject_model,
    subjects_without_figures,
)

WORKER = f"draw_figures@{socket.gethostname()}"


class Command(BaseCommand):
    help = "Start the charts of every result that has none (validation runs, scenario sets, stresses, trainings)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--kind", action="append", choices=KINDS, help="only these kinds (repeatable)")
        parser.add_argument("--actor", help="username to record sets for when a result has no creator")
        parser.add_argument("--here", action="store_true", help="draw pending sets in this process")
        parser.add_argument("--retry-failed", action="store_true", help="start FAILED/CANCELLED sets again")

    def handle(self, *args, **options) -> None:
        actor = None
        if options["actor"]:
            actor = get_user_model().objects.filter(username=options["actor"], is_active=True).first()
            if actor is None:
                raise CommandError(f"no active user {options['actor']!r}")
        started: dict[str, list[int]] = {}
        for kind in options["kind"] or KINDS:
            subjects = list(subjects_without_figures(kind))
            if options["retry_failed"]:
                failed = FigureSet.objects.filter(subject_kind=kind, status__in=[RunStatus.FAILED,
                                                                                 RunStatus.CANCELLED])
                subjects += list(subject_model(kind).objects.filter(pk__in=failed.values_list("subject_id",
                                                                                               flat=True)))
            for subject in subjects:
                result = figure_set_ensure(subject_kind=kind, subject=subject,
                                           actor=None if getattr(subject, "created_by_id", None) else actor)
                if result is not None:
                    started.setdefault(kind, []).append(result.id)
        ids = [pk for pks in started.values() for pk in pks]
        if options["here"]:
            for pk in ids:
                figure_set_execute(pk, worker=WORKER)
        rows = FigureSet.objects.filter(pk__in=ids)
        summary = {"started": started, "status": {s: rows.filter(status=s).count() for s in RunStatus.values
                                                  if rows.filter(status=s).exists()}}
        self.stdout.write(json.dumps(summary, sort_keys=True))
