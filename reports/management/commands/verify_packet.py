"""``python manage.py verify_packet PATH``: check a submission packet (its .zip or unzipped folder).

The same check ``verify.py`` inside the packet does (``reports.services.packets.packet_verify``),
plus one the packet cannot do for itself: whether its public key is one this platform trusts
(``governance.signing.trusted_public_keys``). Exit 0: intact; 1: a file changed, added or removed,
a bad signature or an untrusted key (the message names the first file); 2: PATH is not a packet.
"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from governance import signing
from reports.services.packets import packet_verify


class Command(BaseCommand):
    help = "Verify a submission packet (zip or folder): exit 0 intact, 1 naming the first bad file, 2 unusable input."

    def add_arguments(self, parser):
        parser.add_argument("path", help="the packet's .zip, or the folder it was unzipped into")

    def handle(self, *args, **options):
        check = packet_verify(options["path"])
        for note in check.notes:
            self.stdout.write(note)
        if check.unusable:
            raise CommandError(check.message, returncode=2)
        if not check.ok:
            raise CommandError(check.message, returncode=1)
        if check.public_key not in signing.trusted_public_keys():
            raise CommandError(f"FAILED: signature.ed25519: the packet is signed with key {check.public_key}, "
                               "which this platform does not trust (see CRUCIBLE_TRUSTED_KEYS)", returncode=1)
        self.stdout.write(check.message + "; the public key is one this platform trusts")
