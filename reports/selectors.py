"""Reads of reports and packets, with the same object-level visibility as the model versions they document."""

from __future__ import annotations

from django.db.models import QuerySet

from governance.access import visible_versions
from governance.errors import NotFound
from reports.models import Packet, Report


def visible_reports(user) -> QuerySet[Report]:
    return Report.objects.filter(model_version__in=visible_versions(user)).select_related(
        "model_version", "model_version__model", "created_by")


def visible_packets(user) -> QuerySet[Packet]:
    return Packet.objects.filter(model_version__in=visible_versions(user)).select_related(
        "report", "model_version", "model_version__model", "created_by")


def report_get(user, pk: int) -> Report:
    try:
        return visible_reports(user).get(pk=pk)
    except Report.DoesNotExist:
        raise NotFound(f"report {pk} not found") from None


def packet_get(user, pk: int) -> Packet:
    try:
        return visible_packets(user).get(pk=pk)
    except Packet.DoesNotExist:
        raise NotFound(f"packet {pk} not found") from None
