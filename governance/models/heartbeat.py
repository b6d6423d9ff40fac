from django.db import models


class WorkerHeartbeat(models.Model):
    """Last time a worker on a queue ran a task: written by ``governance.tasks.heartbeat``."""

    queue = models.CharField(max_length=32)
    hostname = models.CharField(max_length=255)
    seen_at = models.DateTimeField()
    token = models.CharField(max_length=64, blank=True, help_text="caller's correlation id")

    class Meta:
        indexes = [models.Index(fields=["queue", "-seen_at"])]
        ordering = ["-seen_at"]

    def __str__(self) -> str:
        return f"{self.hostname}@{self.queue} {self.seen_at:%Y-%m-%d %H:%M:%S}"
