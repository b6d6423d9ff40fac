"""``python manage.py audit_checkpoint --reason ...``: sign the audit chain head now."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.core.exceptions import ImproperlyConfigured
from django.core.management.base import BaseCommand, CommandError

from governance import signing
from governance.errors import ApplicationError
from governance.services.checkpoints import audit_checkpoint_create


class Command(BaseCommand):
    help = "Sign the current head of the audit chain with the platform key and store the checkpoint."

    def add_arguments(self, parser):
        parser.add_argument("--reason", required=True, help="why the checkpoint is taken (recorded and signed)")
        parser.add_argument("--actor", default="", help="username recorded as the actor (default: none, the system)")

    def handle(self, *args, **options):
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
