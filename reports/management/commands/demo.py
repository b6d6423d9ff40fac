"""``python manage.py demo``: the platform's main job.

At this stage it proves the wiring: the roles exist, the database and broker answer.
"""

from __future__ import annotations

import json

from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand, CommandError

from governance import environment
from governance.health import broker_status, database_status
from governance.roles import ALL_ROLES


class Command(BaseCommand):
    help = "Run Crucible's main job on the configured platform and print a summary."

    def add_arguments(self, parser):
        parser.add_argument("--json", action="store_true", help="print the summary as JSON")

    def handle(self, *args, **options):
        db = database_status()
        if db != "ok":
            raise CommandError("the database is unreachable: check DATABASE_URL and run migrate")
        missing = [r for r in ALL_ROLES if not Group.objects.filter(name=r).exists()]
        if missing:
            raise CommandError(f"roles missing ({', '.join(missing)}): run 'python manage.py migrate'")
        from django.db import connection

        summary = {
            "database": db,
            "database_engine": connection.vendor,
            "broker": broker_status(),
            "roles": list(ALL_ROLES),
            "version": environment.VERSION,
            "git_commit": environment.git_commit(),
        }
        if options["json"]:
            self.stdout.write(json.dumps(summary, indent=2))
            return
        self.stdout.write("Crucible demo")
        for key, value in summary.items():
            shown = ", ".join(value) if isinstance(value, list) else value
            self.stdout.write(f"  {key:16s} {shown}")
