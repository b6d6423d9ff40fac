"""``python manage.py verify_audit``: recompute the audit hash chain and check the signed checkpoints.

Exit status 0 and ``OK <n> events`` when intact; exit status 1 and the first broken sequence
number with the reason otherwise (see ``governance.audit_verify`` for what is checked).
"""

from __future__ import annotations

import json

from django.core.exceptions import ImproperlyConfigured
from django.core.management.base import BaseCommand, CommandError
from django.core.serializers.json import DjangoJSONEncoder

from governance.audit_verify import verify_audit_chain


class Command(BaseCommand):
    help = "Verify the tamper-evident audit trail; exit 1 at the first broken sequence number."

    def add_arguments(self, parser):
        parser.add_argument("--json", action="store_true", help="print the full result as JSON")
        parser.add_argument("--chunk-size", type=int, default=2000, help="events read per database round trip")

    def handle(self, *args, **options):
        try:
            result = verify_audit_chain(chunk_size=max(1, options["chunk_size"]))
        except ImproperlyConfigured as exc:  # e.g. an unreadable signing key or CRUCIBLE_TRUSTED_KEYS
            raise CommandError(str(exc)) from exc
        if options["json"]:
            self.stdout.write(json.dumps(result.to_dict(), cls=DjangoJSONEncoder, indent=2))
        elif result.ok:
            self.stdout.write(f"OK {result.n_events} events")
            self.stdout.write(f"head seq {result.head_seq} hash {result.head_hash}")
            cp = result.last_checkpoint
            if cp is None:
                self.stdout.write("last checkpoint: none")
            else:
                self.stdout.write(
                    f"last checkpoint {cp.id} at seq {cp.seq} hash {cp.head_hash} signed {cp.signed_at.isoformat()} "
                    f"by key {cp.fingerprint}"
                )
        else:
            self.stdout.write(f"BROKEN at seq {result.first_broken_seq}: {result.reason}")
            self.stdout.write(f"{result.n_events} events verified intact before it")
            for problem in result.problems[1:10]:
                self.stdout.write(f"  also at seq {problem.seq}: {problem.reason}")
        if not result.ok:
            raise SystemExit(1)
