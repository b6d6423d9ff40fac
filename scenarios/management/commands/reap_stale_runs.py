"""Mark runs whose worker died (no heartbeat for twice the lease) as FAILED."""

from django.core.management.base import BaseCommand

from scenarios.models import GenerationRun, TrainingRun
from scenarios.services.run_state import reap_stale


class Command(BaseCommand):
    help = "Mark RUNNING training/generation runs with an expired lease as FAILED (worker lost)."

    def handle(self, *args, **options):
        for model in (TrainingRun, GenerationRun):
            reaped = reap_stale(model)
            self.stdout.write(f"{model._meta.verbose_name}: {len(reaped)} marked FAILED {reaped or ''}".rstrip())
