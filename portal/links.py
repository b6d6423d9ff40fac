"""The page of the object a lineage node or audit event stands for, where the portal has one.

Links follow the one visibility rule (governance.access.visible_versions, the API's selectors): a
page never links to an object the reader would get 404 for (issue 17: a validator was shown a link
to a draft version). ``Links(user)`` answers per object and reads each kind's visible ids once.
"""

from __future__ import annotations

from django.urls import reverse

from reports.models import Packet, Report

_PAGES = {
    "model_version": "portal:version",
    "validation_run": "portal:validation_run",
    "report": "portal:report_pdf",
    "packet": "portal:packet_zip",
}


def object_url(object_type: str, object_id: str) -> str:
    """The URL of an object's page, without asking whether the reader may see it (see ``Links``)."""
    if not object_id:
        return ""
    if object_type == "model":
        return reverse("portal:model", args=[object_id])
    name = _PAGES.get(object_type)
    if name and str(object_id).isdigit():
        return reverse(name, args=[int(object_id)])
    return ""


class Links:
    """``object_url`` for one reader: empty where the reader may not see the object."""

    def __init__(self, user):
        self.user = user
        self._visible: dict[str, set[str]] = {}

    def _ids(self, object_type: str) -> set[str]:
        if object_type not in self._visible:
            from governance.selectors.inventory import version_list
            from reports.selectors import visible_packets, visible_reports
            from validation.selectors.runs import validation_run_list

            queryset = {"model_version": lambda: version_list(user=self.user),
                        "validation_run": lambda: validation_run_list(user=self.user),
                        "report": lambda: visible_reports(self.user),
                        "packet": lambda: visible_packets(self.user)}[object_type]()
            self._visible[object_type] = {str(pk) for pk in queryset.values_list("pk", flat=True)}
        return self._visible[object_type]

    def url(self, object_type: str, object_id) -> str:
        url = object_url(object_type, str(object_id) if object_id is not None else "")
        if url and object_type in _PAGES and str(object_id) not in self._ids(object_type):
            return ""
        return url

    def version_visible(self, pk) -> bool:
        return str(pk) in self._ids("model_version")


def lineage_url(uid: str, direction: str = "both", depth: int = 3) -> str:
    return f"{reverse('portal:lineage_node', args=[uid])}?direction={direction}&depth={depth}"


def download_name(obj: Report | Packet) -> str:
    version = obj.model_version
    kind = "report" if isinstance(obj, Report) else "packet"
    extension = "pdf" if kind == "report" else "zip"
    return f"{version.model.model_id}-v{version.version}-{kind}-{obj.pk}.{extension}"
