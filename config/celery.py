"""The Celery application. Settings come from Django settings under the ``CELERY_`` prefix."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("crucible")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

# Run with `celery -A config beat`. Issue 16 §6: once a minute the tick signs a checkpoint when
# CRUCIBLE_AUDIT_CHECKPOINT_EVERY_MINUTES have passed since the last one and events arrived since
# (the count rule is applied by every append), and publishes checkpoints the anchor log lacks.
# Added to whatever CELERY_BEAT_SCHEDULE the settings hold (the run reaper's entry lives there).
@app.on_after_configure.connect
def _audit_checkpoint_beat(sender, **kwargs):
    sender.add_periodic_task(
        60.0, sender.signature("governance.tasks.audit_checkpoint_tick", options={"queue": "cpu", "expires": 55}),
        name="audit-checkpoint-tick",
    )
