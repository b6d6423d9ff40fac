"""Re-queue (or, out of attempts, fail) runs of every kind whose worker died; see the run kernel."""

import json

from django.core.management.base import BaseCommand

from governance.services.run_state import lease_seconds, max_attempts, run_kinds, run_reap_stale


class Command(BaseCommand):
    help = ("Runs of every registered kind (training, generation, validation parts, reports, packets, dataset "
            "imports, ...) RUNNING with no heartbeat for twice the lease: re-queued while they have attempts "
            "left, FAILED otherwise; PENDING runs whose message was lost: enqueued again.")

    def add_arguments(self, parser):
        parser.add_argument("--json", action="store_true", help="print what was done as JSON")

    def handle(self, *args, **options):
        report = run_reap_stale()
        if options["json"]:
            self.stdout.write(json.dumps(report.as_dict(), sort_keys=True))
            return
        self.stdout.write(f"lease {lease_seconds()} s, at most {max_attempts()} attempts")
        for kind in run_kinds():
            if not kind.executable:
                continue
            name = kind.object_type
            requeued, failed = report.requeued.get(name, []), report.failed.get(name, [])
            again = report.re_enqueued.get(name, [])
            self.stdout.write(f"{name}: {len(requeued)} re-queued {requeued or ''}, {len(failed)} marked FAILED "
                              f"{failed or ''}, {len(again)} pending re-enqueued {again or ''}".replace("  ", " "))
        if report.temp_files_removed:
            self.stdout.write(f"half-written artefacts removed: {len(report.temp_files_removed)}")
