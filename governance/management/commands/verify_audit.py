"""``python manage.py verify_audit [--anchors]``: recompute the audit hash chain and check the signed checkpoints.

Exit status 0 and ``OK <n> events`` when intact; exit status 1 and the first broken sequence
number with the reason otherwise (see ``governance.audit_verify`` for what is checked).

``--anchors`` also checks the chain against the heads published outside the database (the
anchor log ``CRUCIBLE_ANCHOR_LOG`` and stored RFC 3161 tokens, ``governance.anchors``): every
published head must be a prefix state of the current chain. That catches what the rows alone
cannot: an event rewritten after the last checkpoint left in the database, or a chain re-signed
with a stolen key, as long as it lies at or before the newest published anchor.
"""

from __future__ import annotations

import json

from django.core.exceptions import ImproperlyConfigured
from django.core.management.base import BaseCommand, CommandError
from django.core.serializers.json import DjangoJSONEncoder

from governance.anchors import verify_anchors
from governance.audit_verify import verify_audit_chain


class Command(BaseCommand):
    help = "Verify the tamper-evident audit trail; exit 1 at the first broken sequence number."

    def add_arguments(self, parser):
        parser.add_argument("--json", action="store_true", help="print the full result as JSON")
        parser.add_argument("--chunk-size", type=int, default=2000, help="events read per database round trip")
        parser.add_argument("--anchors", action="store_true",
                            help="also check against the published anchors (anchor log, RFC 3161 tokens)")

    def handle(self, *args, **options):
        anchors = None
        try:
            result = verify_audit_chain(chunk_size=max(1, options["chunk_size"]))
            if options["anchors"]:
                anchors = verify_anchors()
        except ImproperlyConfigured as exc:  # e.g. an unreadable signing key or CRUCIBLE_TRUSTED_KEYS
            raise CommandError(str(exc)) from exc
        except OSError as exc:  # an unreadable anchor log or CRUCIBLE_TSA_CA_FILE
            raise CommandError(f"cannot read the anchors: {exc}") from exc
        ok = result.ok and (anchors is None or anchors.ok)
        if options["json"]:
            data = result.to_dict()
            if anchors is not None:
                data["anchors"] = anchors.to_dict()
                data["ok"] = ok
            self.stdout.write(json.dumps(data, cls=DjangoJSONEncoder, indent=2))
            if not ok:
                raise SystemExit(1)
            return
        if anchors is not None and not anchors.ok:
            first = anchors.problems[0]
            self.stdout.write(f"ANCHORS BROKEN at seq {first.seq}: {first.reason}")
            for problem in anchors.problems[1:10]:
                self.stdout.write(f"  also at seq {problem.seq}: {problem.reason}")
        if result.ok:
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
        if anchors is not None:
            if anchors.ok:
                self.stdout.write(
                    f"anchors OK: {anchors.n_anchors} published head(s) in {anchors.anchor_log or 'no log'}, "
                    f"{anchors.n_timestamps} RFC 3161 token(s); newest anchored seq {anchors.newest_anchored_seq}"
                )
            for note in anchors.notes:
                self.stdout.write(f"note: {note}")
        if not ok:
            raise SystemExit(1)
