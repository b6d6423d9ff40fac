"""Lineage in W3C PROV terms: entities, activities and agents, and the relations between them.

Edges are written by the services that create things, never reconstructed later. An edge
points from the later node to what it came from (PROV's direction): "up" walks edges
forward towards the sources, "down" walks them backward towards what was derived.
"""

from __future__ import annotations

from django.db import models


class NodeClass(models.TextChoices):
    ENTITY = "entity", "Entity"
    ACTIVITY = "activity", "Activity"
    AGENT = "agent", "Agent"


class LineageNode(models.Model):
    uid = models.CharField(max_length=120, unique=True, help_text="stable id, e.g. dataset:12")
    node_class = models.CharField(max_length=16, choices=NodeClass.choices)
    kind = models.CharField(max_length=40, help_text="dataset, checkpoint, scenario_set, training, user, ...")
    label = models.CharField(max_length=300)
    sha256 = models.CharField(max_length=64, blank=True)
    object_type = models.CharField(max_length=100, blank=True)
    object_id = models.CharField(max_length=100, blank=True)
    attributes = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]
        indexes = [models.Index(fields=["object_type", "object_id"]), models.Index(fields=["kind"])]

    def __str__(self) -> str:
        return self.uid


class Relation(models.TextChoices):
    USED = "used", "used"  # activity → entity
    WAS_GENERATED_BY = "wasGeneratedBy", "wasGeneratedBy"  # entity → activity
    WAS_DERIVED_FROM = "wasDerivedFrom", "wasDerivedFrom"  # entity → entity
    WAS_ASSOCIATED_WITH = "wasAssociatedWith", "wasAssociatedWith"  # activity → agent
    WAS_ATTRIBUTED_TO = "wasAttributedTo", "wasAttributedTo"  # entity → agent
    WAS_INFORMED_BY = "wasInformedBy", "wasInformedBy"  # activity → activity


class LineageEdge(models.Model):
    source = models.ForeignKey(LineageNode, on_delete=models.PROTECT, related_name="out_edges")
    target = models.ForeignKey(LineageNode, on_delete=models.PROTECT, related_name="in_edges")
    relation = models.CharField(max_length=24, choices=Relation.choices)
    attributes = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["source", "target", "relation"], name="unique_lineage_edge"),
        ]

    def __str__(self) -> str:
        return f"{self.source_id} {self.relation} {self.target_id}"
