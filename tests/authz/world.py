"""A small governed world, seeded once per test module, for the authorization matrix and the API fuzz.

Every kind of object the API has a detail endpoint for exists here, made by the real services (the same
flow as ``tests.fixtures_reports.documented_version``): a dataset, a model with an approved version (trained,
generated, validated, stressed, with a finding, signatures, evidence, a report and a signed packet), a draft
version, an audit checkpoint and lineage. Every principal the platform knows has an API token.

The seed lives in a transaction opened for the module and rolled back at its end; each test runs in a
savepoint inside it (pytest-django's ``db``), so a test's writes never reach the next test.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from types import SimpleNamespace

import pytest
from django.contrib.auth.models import Group, User
from django.db import transaction
from django.test import TestCase, override_settings
from rest_framework.authtoken.models import Token

from governance import roles, signing

PASSWORD = "correct horse battery staple"

# Who calls the API: no credentials, a user without a platform role, each role, and a developer who does not
# develop the seeded model (object-level visibility).
ANONYMOUS = "anonymous"
NO_ROLE = "no_role"
DEVELOPER = "developer"
OTHER_DEVELOPER = "other_developer"
VALIDATOR = "validator"
APPROVER = "approver"
AUDITOR = "auditor"
ADMIN = "admin"
PRINCIPALS = (ANONYMOUS, NO_ROLE, DEVELOPER, OTHER_DEVELOPER, VALIDATOR, APPROVER, AUDITOR, ADMIN)
_GROUPS = {
    NO_ROLE: (), DEVELOPER: (roles.DEVELOPER,), OTHER_DEVELOPER: (roles.DEVELOPER,),
    VALIDATOR: (roles.VALIDATOR,), APPROVER: (roles.APPROVER,), AUDITOR: (roles.AUDITOR,), ADMIN: (roles.ADMIN,),
}

SAMPLE_BOOK = [
    {"kind": "linear", "factor": "SP500", "exposure": 1_000_000.0, "name": "index"},
    {"kind": "linear", "factor": "NASDAQ", "exposure": 500_000.0, "name": "tech"},
]


def _capture():
    # The enqueue hooks (transaction.on_commit) are collected and dropped: the seed runs the work itself.
    return TestCase.captureOnCommitCallbacks(execute=False)


def build_world() -> SimpleNamespace:
    """Create the objects; call inside a transaction that is rolled back afterwards."""
    from governance.services.checkpoints import audit_checkpoint_create
    from governance.services.inventory import model_create, version_create
    from governance.services.review import finding_raise
    from governance.services.workflow import version_transition
    from reports.services.packets import packet_execute, packet_start
    from scenarios.models import ScenarioSet
    from scenarios.services.datasets import dataset_import_builtin
    from scenarios.services.runs import (
        generation_run_execute,
        generation_run_start,
        training_run_execute,
        training_run_start,
    )
    from scenarios.services.stress import portfolio_create, stress_run
    from tests.conftest import restore_migration_data
    from tests.reports.packet_support import make_report_for
    from validation.services.runs import validation_part_execute, validation_run_start

    restore_migration_data()
    users: dict[str, User] = {}
    tokens: dict[str, str] = {}
    for principal, groups in _GROUPS.items():
        user = User.objects.create_user(username=f"authz_{principal}", password=PASSWORD)
        for name in groups:
            user.groups.add(Group.objects.get(name=name))
        users[principal] = user
        tokens[principal] = Token.objects.create(user=user).key
    dev, val, app, aud = users[DEVELOPER], users[VALIDATOR], users[APPROVER], users[AUDITOR]

    dataset = dataset_import_builtin(actor=dev, builtin="sp500_nasdaq_wti")
    model = model_create(actor=dev, name="Authz equity/oil stress", purpose="20-day stress scenarios",
                         business_line="Markets", family="copula", exposure_usd=Decimal("500000000"),
                         materiality_purpose="regulatory_stress")
    with _capture():
        training = training_run_start(actor=dev, model=model, version_label="1.0.0", dataset=dataset,
                                      engine="garch_evt_copula", config={"family": "student_t"}, seed=7,
                                      train_end=dt.date(2014, 12, 31), holdout_start=dt.date(2015, 1, 1))
    training_run_execute(training.pk, worker="authz-worker")
    training.refresh_from_db()
    assert training.status == "SUCCEEDED", training.error
    version = version_transition(actor=dev, version=training.model_version, action="submit", password=PASSWORD)
    version = version_transition(actor=val, version=version, action="start_validation")
    with _capture():
        generation = generation_run_start(actor=val, model_version=version, n_scenarios=500, horizon=20,
                                          purpose="validation", seed=1)
    generation_run_execute(generation.pk, worker="authz-worker")
    generation.refresh_from_db()
    assert generation.status == "SUCCEEDED", generation.error
    scenario_set = ScenarioSet.objects.get(generation_run=generation)
    with _capture():
        validation = validation_run_start(actor=val, scenario_set=scenario_set,
                                          tiers=["multivariate", "temporal", "memorisation", "coherence"])
    for part in ("statistical", "neural"):
        validation_part_execute(validation.pk, part, worker=f"authz-{part}")
    validation.refresh_from_db()
    assert validation.status == "SUCCEEDED", validation.error
    portfolio = portfolio_create(actor=dev, name="authz book", positions=SAMPLE_BOOK)
    stress = stress_run(actor=val, scenario_set=scenario_set, portfolio=portfolio, levels=[0.99], k=3)
    finding = finding_raise(actor=val, version=version, title="Oil tail under-dispersed",
                            description="monitor quarterly", severity="low", owner=dev,
                            due_date=dt.date(2027, 6, 30))
    version = version_transition(actor=val, version=version, action="validate", password=PASSWORD,
                                 reason="validated on the holdout")
    version = version_transition(actor=app, version=version, action="approve", password=PASSWORD,
                                 reason="approved for use")
    report = make_report_for(version, actor=dev, scenario_sets=[scenario_set], validation_runs=[validation],
                             stress_results=[stress])
    with _capture():
        packet = packet_start(actor=dev, report=report)  # the auditor requests nothing (issue 17)
    packet_execute(packet.pk, worker="authz-worker")
    packet.refresh_from_db()
    assert packet.status == "SUCCEEDED", packet.error
    draft = version_create(actor=dev, model=model, version="2.0.0", notes="a draft only its developers see")
    checkpoint = audit_checkpoint_create(actor=aud, reason="authz seed")

    from governance.models import AuditEvent, Evidence

    dataset_import = _dataset_import(dev)
    tier_change = _tier_change(dev, model)

    evidence = Evidence.objects.filter(version=version).order_by("pk").first()
    return SimpleNamespace(
        users=users, tokens=tokens, dataset=dataset, dataset_import=dataset_import, model=model,
        tier_change=tier_change, version=version, draft=draft,
        training_run=training, generation_run=generation, scenario_set=scenario_set, validation_run=validation,
        portfolio=portfolio, stress=stress, finding=finding, evidence=evidence, report=report, packet=packet,
        checkpoint=checkpoint, audit_seq=AuditEvent.objects.order_by("seq").values_list("seq", flat=True).first(),
        lineage_uid=version.lineage_uid if hasattr(version, "lineage_uid") else f"model_version:{version.pk}",
    )


def _dataset_import(actor):
    """An upload being imported, as the API leaves it before a worker takes it (no bytes needed to read it)."""
    try:
        from scenarios.models.dataset import DatasetImport
    except ImportError:  # the tree before uploads were parsed by a worker
        return None
    return DatasetImport.objects.create(name="authz upload", filename="prices.csv", file_format="csv",
                                        size_bytes=10, upload_sha256="0" * 64, seed=0, created_by=actor)


def _tier_change(actor, model):
    """A pending proposal to change the model's tier inputs (a workflow step, issue 16 §5)."""
    try:
        from governance.services.tier_changes import tier_change_propose
    except ImportError:  # the tree before tier changes needed a decision
        return None
    return tier_change_propose(actor=actor, model=model, reason="exposure grew",
                               exposure_usd=Decimal("2000000000"))


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker, artifact_dir):
    """The seeded world (module scope); the test itself must also use ``db`` for its own savepoint."""
    with pytest.MonkeyPatch.context() as patch, django_db_blocker.unblock():
        from tests.conftest import TEST_SEED_HEX

        patch.setenv(signing.KEY_ENV, TEST_SEED_HEX)
        patch.delenv(signing.KEY_FILE_ENV, raising=False)
        patch.delenv(signing.TRUSTED_KEYS_ENV, raising=False)
        with override_settings(ARTIFACT_ROOT=artifact_dir,
                               PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"]):
            atomic = transaction.atomic()
            atomic.__enter__()
            try:
                yield build_world()
            finally:
                transaction.set_rollback(True)
                atomic.__exit__(None, None, None)
