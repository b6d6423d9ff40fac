"""The page of the object a lineage node or audit event stands for, where the portal has one."""

from __future__ import annotations

from django.urls import reverse

from reports.models import Packet, Report


def object_url(object_type: str, object_id: str) -> str:
    if not object_id:
        return ""
    if object_type == "model_version" and object_id.isdigit():
        return reverse("portal:version", args=[int(object_id)])
    if object_type == "model":
        return reverse("portal:model", args=[object_id])
    if object_type == "validation_run" and object_id.isdigit():
        return reverse("portal:validation_run", args=[int(object_id)])
    if object_type == "report" and object_id.isdigit():
        return reverse("portal:report_pdf", args=[int(object_id)])
    if object_type == "packet" and object_id.isdigit():
        return reverse("portal:packet_zip", args=[int(object_id)])
    return ""


def lineage_url(uid: str, direction: str = "both", depth: int = 3) -> str:
    return f"{reverse('portal:lineage_node', args=[uid])}?direction={direction}&depth={depth}"


def download_name(obj: Report | Packet) -> str:
    version = obj.model_version
    kind = "report" if isinstance(obj, Report) else "packet"
    extension = "pdf" if kind == "report" else "zip"
    return f"{version.model.model_id}-v{version.version}-{kind}-{obj.pk}.{extension}"
