"""``python manage.py audit_checkpoint --reason ...``: sign the audit chain head now.

``--if-due`` applies the schedule instead (a checkpoint only when ``CRUCIBLE_AUDIT_CHECKPOINT_EVERY_*``
says one is due) and publishes checkpoints the anchor log lacks: the beat's tick, for a cron job.
"""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.core.exceptions import ImproperlyConfigured
from django.core.management.base import BaseCommand, CommandError

from governance import signing
from governance.anchors import AnchorError, publish_missing
from governance.errors import ApplicationError
from governance.services.checkpoints import audit_checkpoint_create, audit_checkpoint_if_due


class Command(BaseCommand):
    help = "Sign the current head of the audit chain with the platform key and store the checkpoint."

    def add_arguments(self, parser):
        parser.add_argument("--reason", default="", help="why the checkpoint is taken (recorded and signed)")
        parser.add_argument("--if-due", action="store_true",
                            help="only when the schedule says one is due; then publish what the anchor log lacks")
        parser.add_argument("--actor", default="", help="username recorded as the actor (default: none, the system)")

    def handle(self, *args, **options):
        if options["if_due"]:
            self._if_due()
            return
        if not options["reason"].strip():
            raise CommandError("--reason is required (or --if-due)")
        actor = None
        if options["actor"]:
            try:
                actor = get_user_model().objects.get_by_natural_key(options["actor"])
            except get_user_model().DoesNotExist as exc:
                raise CommandError(f"no user named {options['actor']!r}") from exc
        try:
            checkpoint = audit_checkpoint_create(actor=actor, reason=options["reason"])
        except ApplicationError as exc:
            raise CommandError(exc.message) from exc
        except ImproperlyConfigured as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(
            f"checkpoint {checkpoint.id} at seq {checkpoint.seq} hash {checkpoint.head_hash} "
            f"signed by key {signing.key_fingerprint(checkpoint.public_key)}"
        )

    def _if_due(self) -> None:
        try:
            checkpoint = audit_checkpoint_if_due()
            published = publish_missing()
        except ImproperlyConfigured as exc:
            raise CommandError(str(exc)) from exc
        except AnchorError as exc:
            raise CommandError(str(exc)) from exc
        if checkpoint is None:
            self.stdout.write("no checkpoint due")
        else:
            self.stdout.write(f"checkpoint {checkpoint.id} at seq {checkpoint.seq} ({checkpoint.reason})")
        if published:
            self.stdout.write(f"published {published} checkpoint(s) the anchor log lacked")
