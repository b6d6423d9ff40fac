"""Governance tables: inventory, versions, workflow records, audit trail, lineage."""

from governance.models.audit import AuditChainHead, AuditCheckpoint, AuditEvent
from governance.models.heartbeat import WorkerHeartbeat
from governance.models.inventory import InventoryModel, ModelVersion
from governance.models.lineage import LineageEdge, LineageNode
from governance.models.review import Evidence, Finding, Signature
from governance.models.runs import FINISHED_STATUSES, RunFields, RunStatus

__all__ = [
    "AuditChainHead", "AuditCheckpoint", "AuditEvent", "Evidence", "Finding", "InventoryModel",
    "FINISHED_STATUSES", "LineageEdge", "LineageNode", "ModelVersion", "RunFields", "RunStatus", "Signature",
    "WorkerHeartbeat",
]
