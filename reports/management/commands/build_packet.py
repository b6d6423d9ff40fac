"""``python manage.py build_packet``: build a regulatory submission packet and say where it is.

``--report ID`` packets that report; ``--model-version ID`` packets the version's latest SUCCEEDED
report, rendering one first (``reports.services.documents``) when it has none. ``--actor USERNAME``
is who asks (audited as such); without it the command acts as the first active user holding the
admin role, else the approver role — independent roles that see every version and may request
packets (the auditor is read-only) — and says so. ``--out PATH`` copies the zip there (a folder gets
``packet-<id>.zip``).
"""

from __future__ import annotations

import shutil
import socket
import time
from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from governance.access import visible_versions
from governance.errors import ApplicationError
from governance.models import RunStatus
from governance.roles import ADMIN, APPROVER
from governance.services.run_state import RunBusy
from reports.models import Packet, Report
from reports.selectors import report_get
from reports.services.packets import packet_execute, packet_path, packet_start

WORKER = f"build_packet@{socket.gethostname()}"
WAIT_SECONDS = 900


def default_actor():
    users = get_user_model().objects.filter(is_active=True)
    for role in (ADMIN, APPROVER):
        user = users.filter(groups__name=role).order_by("pk").first()
        if user is not None:
            return user
    return None


def _run_here(execute, model_cls, pk: int) -> None:
    """Do the work in this process; if a worker holds it already, wait for the worker."""
    deadline = time.monotonic() + WAIT_SECONDS
    while True:
        try:
            execute(pk, worker=WORKER)
        except RunBusy:
            pass
        status = model_cls.objects.filter(pk=pk).values_list("status", flat=True).first()
        if status in (RunStatus.SUCCEEDED, RunStatus.FAILED, RunStatus.CANCELLED):
            return
        if time.monotonic() > deadline:
            raise CommandError(f"{model_cls._meta.verbose_name} {pk} is still {status} after {WAIT_SECONDS} s")
        time.sleep(2)


class Command(BaseCommand):
    help = "Build a submission packet for a report or a model version; prints its path, SHA-256 and manifest hash."

    def add_arguments(self, parser):
        which = parser.add_mutually_exclusive_group(required=True)
        which.add_argument("--model-version", type=int, help="model version id: packet its latest rendered report")
        which.add_argument("--report", type=int, help="report id (must be SUCCEEDED)")
        parser.add_argument("--out", help="copy the zip to this file or folder")
        parser.add_argument("--actor", help="username acting (default: the first admin, else approver)")

    def handle(self, *args, **options):
        from governance.health import tasks_run_inline

        tasks_run_inline()  # the command is the long work: without a broker it runs here, not in a queue
        actor = self._actor(options.get("actor"))
        try:
            report = self._report(actor, options)
            packet = packet_start(actor=actor, report=report)
            _run_here(packet_execute, Packet, packet.pk)
        except ApplicationError as error:
            raise CommandError(error.message) from error
        packet.refresh_from_db()
        if packet.status != RunStatus.SUCCEEDED:
            raise CommandError(f"packet {packet.pk} {packet.status}: {packet.error}")
        path = packet_path(packet)
        if options.get("out"):
            out = Path(options["out"]).expanduser()
            if out.is_dir():
                out = out / f"packet-{packet.pk}.zip"
            try:
                shutil.copyfile(path, out)
            except OSError as error:
                raise CommandError(f"could not write {out}: {error.strerror or error}") from error
            path = out
        self.stdout.write(f"packet {packet.pk} of report {report.pk} ({packet.model_version})")
        self.stdout.write(f"path             {path}")
        self.stdout.write(f"sha256           {packet.sha256}")
        self.stdout.write(f"manifest sha256  {packet.manifest_sha256}")

    def _actor(self, username: str | None):
        if username:
            user = get_user_model().objects.filter(username=username, is_active=True).first()
            if user is None:
                raise CommandError(f"no active user {username!r}")
            return user
        user = default_actor()
        if user is None:
            raise CommandError("no active admin or approver to act as: pass --actor USERNAME")
        self.stderr.write(f"acting as {user.get_username()} (the first admin/approver; use --actor to choose)")
        return user

    def _report(self, actor, options) -> Report:
        if options.get("report") is not None:
            return report_get(actor, options["report"])
        version = visible_versions(actor).filter(pk=options["model_version"]).first()
        if version is None:
            raise CommandError(f"model version {options['model_version']} not found")
        report = (Report.objects.filter(model_version=version, status=RunStatus.SUCCEEDED)
                  .order_by("-finished_at", "-pk").first())
        if report is not None:
            return report
        try:
            from reports.services.documents import report_execute, report_start
        except ImportError as error:
            raise CommandError(f"{version} has no rendered report, and this installation cannot render one") from error
        report = report_start(actor=actor, model_version=version)
        _run_here(report_execute, Report, report.pk)
        report.refresh_from_db()
        if report.status != RunStatus.SUCCEEDED:
            raise CommandError(f"rendering report {report.pk} {report.status}: {report.error}")
        self.stderr.write(f"rendered report {report.pk} for {version}")
        return report
