"""A realistic lineage chain, written the way the services that create things will write it.

dataset → training → checkpoint → model_version → generation → scenario_set → validation
→ validation_result → rendering → report → packet, with the developer, the validator and two
workers as agents. Edges point from the later node to what it came from (PROV's direction).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from governance.canonical import sha256_hex
from governance.models import LineageNode
from governance.services.lineage import (
    lineage_agent,
    lineage_agent_for_user,
    lineage_entity,
    lineage_link,
    lineage_record_activity,
)


def digest(name: str) -> str:
    return sha256_hex(f"bytes of {name}")


@dataclass
class Chain:
    dev: object
    val: object
    nodes: dict[str, LineageNode] = field(default_factory=dict)

    def uid(self, name: str) -> str:
        return self.nodes[name].uid

    def uids(self, *names: str) -> set[str]:
        return {self.uid(name) for name in names}


ALL_NAMES = (
    "dataset", "training", "checkpoint", "model_version", "generation", "scenario_set", "validation",
    "validation_result", "rendering", "report", "packet", "dev", "val", "gpu_worker", "cpu_worker",
)


@pytest.fixture(autouse=True)
def fast_password_hasher(settings):
    # The users' passwords are never checked here; PBKDF2 would dominate each test's set-up.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def lone_packet(db) -> LineageNode:
    """One node, for tests about access and parameters that need no graph."""
    return lineage_entity(uid="packet:1", kind="packet", label="submission packet", sha256=digest("packet"))


@pytest.fixture
def chain(developer, validator) -> Chain:
    c = Chain(dev=developer, val=validator)
    n = c.nodes
    n["dev"] = lineage_agent_for_user(developer)
    n["val"] = lineage_agent_for_user(validator)
    n["gpu_worker"] = lineage_agent(uid="worker:celery@gpu-1", kind="worker", label="celery@gpu-1",
                                    attributes={"queue": "gpu"})
    n["cpu_worker"] = lineage_agent(uid="worker:celery@cpu-1", kind="worker", label="celery@cpu-1",
                                    attributes={"queue": "cpu"})
    n["dataset"] = lineage_entity(
        uid="dataset:1", kind="dataset", label="S&P 500 / WTI daily 1999-2018", sha256=digest("dataset"),
        object_type="scenarios.dataset", object_id=1, attributes={"rows": 5030, "source": "arch.data"},
        actor=developer,
    )
    n["checkpoint"] = lineage_entity(uid="checkpoint:1", kind="checkpoint", label="diffusion weights",
                                     sha256=digest("checkpoint"), actor=None)
    n["training"] = lineage_record_activity(
        activity_uid="training:1", kind="training", label="train diffusion on 1999-2014",
        used=[n["dataset"]], generated=[n["checkpoint"]], agents=[developer, "worker:celery@gpu-1"],
        attributes={"seed": 7, "device": "cpu", "train_window": ["1999-01-04", "2014-12-31"]},
    )
    n["model_version"] = lineage_entity(uid="model_version:1", kind="model_version", label="equity-stress 1.0.0",
                                        object_type="governance.modelversion", object_id="1", actor=developer)
    lineage_link(source=n["model_version"], target=n["checkpoint"], relation="wasDerivedFrom", actor=developer)
    lineage_link(source=n["model_version"], target=n["dev"], relation="wasAttributedTo", actor=developer)

    n["scenario_set"] = lineage_entity(uid="scenario_set:1", kind="scenario_set", label="1000 x 20d severe",
                                       sha256=digest("scenario_set"), attributes={"n": 1000, "horizon": 20})
    n["generation"] = lineage_record_activity(
        activity_uid="generation:1", kind="generation", label="generate severely adverse",
        used=["model_version:1"], generated=["scenario_set:1"], agents=[n["dev"], n["gpu_worker"]],
        attributes={"severity": 0.99, "seed": 11},
    )
    n["validation_result"] = lineage_entity(uid="validation_result:1", kind="validation_result",
                                            label="tiered validation: PASS", sha256=digest("validation_result"))
    # Validation compares the scenarios against the (held-out part of the) dataset.
    n["validation"] = lineage_record_activity(
        activity_uid="validation:1", kind="validation", label="multi-tier validation",
        used=["scenario_set:1", "dataset:1"], generated=["validation_result:1"], agents=[validator, n["cpu_worker"]],
    )
    n["report"] = lineage_entity(uid="report:1", kind="report", label="model documentation PDF",
                                 sha256=digest("report"))
    n["rendering"] = lineage_record_activity(
        activity_uid="rendering:1", kind="rendering", label="render documentation",
        used=["validation_result:1"], generated=["report:1"], agents=["worker:celery@cpu-1"],
        informed_by=["validation:1"],
    )
    n["packet"] = lineage_entity(uid="packet:1", kind="packet", label="submission packet", sha256=digest("packet"))
    lineage_link(source="packet:1", target="report:1", relation="wasDerivedFrom")
    for name in ALL_NAMES:  # the activities come back from lineage_record_activity; refresh for uniformity
        n[name] = LineageNode.objects.get(pk=n[name].pk)
    return c
