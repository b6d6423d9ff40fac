"""Fixtures for governance tests: a registered model, versions, and a workflow driver."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from governance.models.review import EvidenceKind, Outcome
from governance.services.inventory import model_create, version_create
from governance.services.review import evidence_attach
from governance.services.workflow import version_transition
from tests.conftest import PASSWORD
from tests.governance.provenance import trained_checkpoint

CHECKPOINT = "ab" * 32
DATASET = "cd" * 32


@pytest.fixture
def model_record(developer):
    return model_create(
        actor=developer,
        name="Equity stress diffusion",
        purpose="Generate 20-day equity/oil stress scenarios for CCAR",
        business_line="Markets",
        family="diffusion",
        exposure_usd=Decimal("2500000000"),
        materiality_purpose="regulatory_stress",
        regulatory_uses=["CCAR", "DFAST"],
        limitations="Trained on 1999-2014 only",
    )


@pytest.fixture
def make_version(model_record, developer):
    def make(version: str = "1.0.0", **fields):
        # A checkpoint a training run of this model produced (issue 16 §5: nothing else can be submitted).
        checkpoint = {} if "checkpoint_sha256" in fields else trained_checkpoint(actor=developer, model=model_record)
        defaults = dict(
            engine="diffusion", config={"steps": 50}, dataset_fingerprints=[DATASET], **checkpoint,
            train_start=dt.date(1999, 1, 4), train_end=dt.date(2014, 12, 31),
            holdout_start=dt.date(2015, 1, 2), holdout_end=dt.date(2018, 12, 31),
            environment={"torch": "2.13.0", "device": "cpu", "seed": 7},
        )
        defaults.update(fields)
        return version_create(actor=developer, model=model_record, version=version, **defaults)

    return make


@pytest.fixture
def version(make_version):
    return make_version()


@pytest.fixture
def passing_evidence():
    def attach(version, outcome=Outcome.PASS, source=None):
        return evidence_attach(actor=None, version=version, kind=EvidenceKind.VALIDATION_RUN,
                               source=source or f"validation-run:{version.pk}", outcome=outcome,
                               summary={"overall": outcome})

    return attach


@pytest.fixture
def drive(developer, validator, approver, passing_evidence):
    """Moves a version forward along the happy path up to ``target`` status."""

    path = [
        ("submit", developer), ("start_validation", validator), ("validate", validator),
        ("approve", approver), ("put_in_use", approver),
    ]
    reached = {"submitted": 1, "in_validation": 2, "validated": 3, "approved": 4, "in_use": 5}

    def go(version, target: str):
        for action, actor in path[: reached[target]]:
            if action == "validate":
                passing_evidence(version)
            version = version_transition(actor=actor, version=version, action=action, password=PASSWORD,
                                         reason="")
        return version

    return go
