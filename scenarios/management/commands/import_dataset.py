"""python manage.py import_dataset PATH --name NAME --user USERNAME [--kind ...] [--date-column COL]
   python manage.py import_dataset --builtin sp500_nasdaq_wti --user USERNAME [--name NAME]

Every dataset records who imported it: ``--user`` names a developer or admin. For scripted
imports create a dedicated account once in the admin (Users → add, group ``developer``, no usable
password) and pass ``--user svc-import``: the audit trail and lineage then name that account.
A file is parsed like an upload: bounded before decoding, in a memory-limited child process.
"""

from __future__ import annotations

import json
from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from governance.errors import ApplicationError
from scenarios import datasets as checks
from scenarios.builtin_data import BUILTINS
from scenarios.services.datasets import dataset_import_builtin, dataset_import_upload


class Command(BaseCommand):
    help = "Check and import a market-data table (CSV/Parquet) or a bundled real series as a dataset."

    def add_arguments(self, parser):
        parser.add_argument("path", nargs="?", help="CSV or Parquet file")
        parser.add_argument("--builtin", choices=sorted(BUILTINS), help="a bundled real series instead of a file")
        parser.add_argument("--name", help="dataset name (a re-import makes a new version)")
        parser.add_argument("--kind", default="prices", choices=checks.COLUMN_KINDS,
                            help="how columns become increments (default prices → log-returns)")
        parser.add_argument("--date-column", default="date")
        parser.add_argument("--nan-policy", default="reject", choices=checks.NAN_POLICIES)
        parser.add_argument("--ffill-limit", type=int, default=5)
        parser.add_argument("--min-rows", type=int, default=checks.DEFAULT_MIN_ROWS)
        parser.add_argument("--user", help="username to record as the importer (a developer or admin; required)")
        parser.add_argument("--json", action="store_true")

    def handle(self, *args, **o):
        if not o["user"]:
            raise CommandError("--user is required: the username of the developer or admin recorded as the "
                               "importer (every dataset names who imported it; for scripts, use a dedicated "
                               "service account holding the developer role)")
        actor = get_user_model().objects.filter(username=o["user"]).first()
        if actor is None:
            raise CommandError(f"no user named {o['user']!r}")
        common = dict(nan_policy=o["nan_policy"], ffill_limit=o["ffill_limit"], min_rows=o["min_rows"])
        try:
            if o["builtin"]:
                if o["path"]:
                    raise CommandError("give either a PATH or --builtin, not both")
                dataset = dataset_import_builtin(actor=actor, builtin=o["builtin"], name=o["name"], **common)
            else:
                if not o["path"]:
                    raise CommandError("give a PATH to a CSV/Parquet file, or --builtin NAME")
                if not o["name"]:
                    raise CommandError("--name is required when importing a file")
                path = Path(o["path"])
                if not path.is_file():
                    raise CommandError(f"{path}: no such file")
                with path.open("rb") as handle:
                    dataset = dataset_import_upload(
                        actor=actor, handle=handle, filename=path.name, size=path.stat().st_size, name=o["name"],
                        date_column=o["date_column"], kind=o["kind"], **common)
        except ApplicationError as error:
            raise CommandError(error.message) from error
        summary = {"id": dataset.pk, "name": dataset.name, "version": dataset.version, "sha256": dataset.sha256,
                   "rows": dataset.n_rows, "factors": dataset.factors, "start": str(dataset.start_date),
                   "end": str(dataset.end_date), "frequency": dataset.frequency}
        if o["json"]:
            self.stdout.write(json.dumps(summary, indent=2))
        else:
            self.stdout.write(f"imported {dataset} (id {dataset.pk}): {dataset.n_rows} rows "
                              f"{dataset.start_date} → {dataset.end_date}, factors {', '.join(dataset.factors)}\n"
                              f"sha256 {dataset.sha256}")
