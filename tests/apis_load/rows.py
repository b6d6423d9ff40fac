"""Rows for every list endpoint under /api/v1/, made cheaply (issue 16 §7).

Each maker adds ``n`` rows of one kind, each with its own related objects (its own creator, version,
developers, upstream models...), so that a list that reads a relation per row costs a query per row.
Governance rows go through the services (they write the audit trail); the run and result tables are
written directly: their contents do not matter to the read path, only their relations do.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import itertools
from dataclasses import dataclass, field
from decimal import Decimal

from django.contrib.auth.models import Group, User

from governance import roles
from governance.models import Evidence, Finding, InventoryModel, ModelVersion
from governance.services.audit import audit_record
from governance.services.checkpoints import audit_checkpoint_create
from governance.services.inventory import model_create, version_create
from governance.services.lineage import lineage_entity
from reports.models import Packet, Report
from scenarios.models import Dataset, GenerationRun, Portfolio, ScenarioSet, StressResult, TrainingRun
from validation.models import ValidationPolicy, ValidationRun

_counter = itertools.count(1)


def _n() -> int:
    return next(_counter)


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def _user(*role_names: str) -> User:
    user = User.objects.create_user(username=f"user{_n()}", password="x")  # noqa: S106
    for name in role_names:
        user.groups.add(Group.objects.get(name=name))
    return user


@dataclass
class World:
    """The shared parents: one of everything, plus the users who read."""

    developer: User
    auditor: User
    admin: User
    model: InventoryModel
    version: ModelVersion
    dataset: Dataset
    scenario_set: ScenarioSet
    portfolio: Portfolio
    report: Report
    made: dict = field(default_factory=dict)


def new_model(developer: User, *, upstream=()) -> InventoryModel:
    return model_create(actor=developer, name=f"Model {_n()}", purpose="stress scenarios", business_line="Markets",
                        family="copula", exposure_usd=Decimal("100000000"), materiality_purpose="regulatory_stress",
                        developers=[developer, _user(roles.DEVELOPER)], upstream=list(upstream))


def new_version(developer: User, model: InventoryModel) -> ModelVersion:
    version = version_create(actor=developer, model=model, version=f"1.{_n()}.0",
                             developers=[developer, _user(roles.DEVELOPER)])
    # Every user relation of the version set, each to another user.
    ModelVersion.objects.filter(pk=version.pk).update(
        submitted_by=_user(roles.DEVELOPER), validator=_user(roles.VALIDATOR), approver=_user(roles.APPROVER))
    return ModelVersion.objects.get(pk=version.pk)


def new_dataset(user: User) -> Dataset:
    i = _n()
    return Dataset.objects.create(
        name=f"dataset-{i}", version=1, source="test", frequency="daily", factors=["A", "B"],
        column_kinds={"A": "returns", "B": "returns"}, risk_classes={"A": "equity", "B": "rates"},
        schema={"date": "date", "A": "float64", "B": "float64"}, n_rows=10, start_date=dt.date(2020, 1, 1),
        end_date=dt.date(2020, 1, 14), nan_policy="drop", sha256=_sha(f"dataset {i}"), size_bytes=100,
        storage_path=f"datasets/{i}.parquet", increments_sha256=_sha(f"increments {i}"),
        increments_path=f"datasets/{i}-inc.parquet", created_by=user)


def new_scenario_set(user: User, version: ModelVersion, dataset: Dataset, run: GenerationRun | None = None):
    i = _n()
    return ScenarioSet.objects.create(
        generation_run=run, model_version=version, dataset=dataset, name=f"set {i}", source=f"test:{i}",
        purpose="validation", engine="factor_mc", factors=["A", "B"], n_scenarios=10, horizon=5,
        sha256=_sha(f"set {i}"), size_bytes=100, storage_path=f"sets/{i}.parquet", created_by=user)


def new_portfolio(user: User) -> Portfolio:
    i = _n()
    return Portfolio.objects.create(name=f"portfolio {i}", version=1, positions=[], factors=["A"],
                                    sha256=_sha(f"portfolio {i}"), created_by=user)


def new_report(user: User, version: ModelVersion) -> Report:
    return Report.objects.create(model_version=version, seed=0, created_by=user)


def make_world(developer: User) -> World:
    model = new_model(developer)
    version = new_version(developer, model)
    dataset = new_dataset(developer)
    return World(developer=developer, auditor=_user(roles.AUDITOR), admin=_user(roles.ADMIN), model=model,
                 version=version, dataset=dataset, scenario_set=new_scenario_set(developer, version, dataset),
                 portfolio=new_portfolio(developer), report=new_report(developer, version))


# --- one maker per list endpoint: add n rows that this endpoint lists -------------------------------------------


def add_models(world: World, n: int) -> None:
    previous = world.model
    for _ in range(n):
        dev = _user(roles.DEVELOPER)
        previous = new_model(dev, upstream=[previous])


def add_versions(world: World, n: int) -> None:
    for _ in range(n):
        new_version(world.developer, world.model)


def add_findings(world: World, n: int) -> None:
    for i in range(n):
        version = world.version if i % 2 else new_version(world.developer, world.model)
        Finding.objects.create(version=version, title=f"finding {_n()}", description="d", severity="high",
                               raised_by=_user(roles.VALIDATOR), owner=_user(roles.DEVELOPER),
                               due_date=dt.date(2030, 1, 1))


def add_version_findings(world: World, n: int) -> None:
    for _ in range(n):
        Finding.objects.create(version=world.version, title=f"finding {_n()}", description="d", severity="high",
                               raised_by=_user(roles.VALIDATOR), owner=_user(roles.DEVELOPER),
                               due_date=dt.date(2030, 1, 1))


def add_version_evidence(world: World, n: int) -> None:
    for _ in range(n):
        Evidence.objects.create(version=world.version, kind="validation_run", source=f"validation-run:{_n()}",
                                created_by=_user(roles.VALIDATOR))


def add_evidence(world: World, n: int) -> None:
    for i in range(n):
        version = world.version if i % 2 else new_version(world.developer, world.model)
        Evidence.objects.create(version=version, kind="validation_run", source=f"validation-run:{_n()}",
                                created_by=_user(roles.VALIDATOR))


def add_audit_events(world: World, n: int) -> None:
    for _ in range(n):
        audit_record(actor=_user(roles.DEVELOPER), action="test.event", object_type="test", object_id=_n(),
                     after={"n": 1})


def add_checkpoints(world: World, n: int) -> None:
    for _ in range(n):
        audit_checkpoint_create(actor=world.auditor, reason=f"test {_n()}")


def add_lineage_nodes(world: World, n: int) -> None:
    for _ in range(n):
        i = _n()
        lineage_entity(uid=f"test:{i}", kind="test", label=f"node {i}", sha256=_sha(f"node {i}"),
                       object_type="test", object_id=i)


def add_datasets(world: World, n: int) -> None:
    for _ in range(n):
        new_dataset(_user(roles.DEVELOPER))


def _new_training_run(world: World, user: User, *, model=None, dataset=None, version=None) -> TrainingRun:
    return TrainingRun.objects.create(
        model=model or new_model(world.developer), version_label="1.0.0", dataset=dataset or new_dataset(user),
        engine="factor_mc", train_end=dt.date(2020, 1, 10), holdout_start=dt.date(2020, 1, 11), seed=0,
        created_by=user, model_version=version)


def add_training_runs(world: World, n: int) -> None:
    for _ in range(n):
        model = new_model(world.developer)
        _new_training_run(world, _user(roles.DEVELOPER), model=model, version=new_version(world.developer, model))


def add_generation_runs(world: World, n: int) -> None:
    for i in range(n):
        user = _user(roles.DEVELOPER)
        version = new_version(world.developer, world.model)
        run = GenerationRun.objects.create(model_version=version, n_scenarios=10, horizon=5, seed=0, created_by=user)
        if i % 2:
            new_scenario_set(user, version, world.dataset, run=run)


def add_scenario_sets(world: World, n: int) -> None:
    for _ in range(n):
        user = _user(roles.DEVELOPER)
        new_scenario_set(user, new_version(world.developer, world.model), new_dataset(user))


def add_portfolios(world: World, n: int) -> None:
    for _ in range(n):
        new_portfolio(_user(roles.DEVELOPER))


def add_stress_results(world: World, n: int) -> None:
    for _ in range(n):
        user = _user(roles.DEVELOPER)
        scenario_set = new_scenario_set(user, new_version(world.developer, world.model), world.dataset)
        StressResult.objects.create(scenario_set=scenario_set, portfolio=new_portfolio(user), levels=[0.99],
                                    risk={}, worst=[], distribution={}, pnl_sha256=_sha(f"pnl {_n()}"),
                                    pnl_path="pnl.parquet", created_by=user)


def add_validation_runs(world: World, n: int) -> None:
    policies = list(ValidationPolicy.objects.all())
    for i in range(n):
        user = _user(roles.VALIDATOR)
        version = new_version(world.developer, world.model)
        scenario_set = new_scenario_set(user, version, new_dataset(user))
        ValidationRun.objects.create(
            scenario_set=scenario_set, model_version=version, dataset=scenario_set.dataset,
            policy=policies[i % len(policies)], train_end=dt.date(2020, 1, 10), holdout_start=dt.date(2020, 1, 11),
            tiers=["distribution"], parts={"statistical": "PENDING"}, tier_outcomes={"distribution": "PASS"},
            seed=0, created_by=user)


def add_policies(world: World, n: int) -> None:
    for _ in range(n):
        tier = 1 + _n() % 3
        latest = ValidationPolicy.objects.filter(model_tier=tier).order_by("-version").first()
        ValidationPolicy.objects.create(model_tier=tier, version=(latest.version if latest else 0) + 1,
                                        thresholds={}, created_by=_user(roles.ADMIN))


def _report_with_inputs(world: World, user: User, version: ModelVersion) -> Report:
    report = new_report(user, version)
    scenario_set = new_scenario_set(user, version, world.dataset)
    report.scenario_sets.add(scenario_set, world.scenario_set)
    add_stress = StressResult.objects.create(scenario_set=scenario_set, portfolio=world.portfolio, levels=[0.99],
                                             risk={}, worst=[], distribution={}, pnl_sha256=_sha(f"pnl {_n()}"),
                                             pnl_path="pnl.parquet", created_by=user)
    report.stress_results.add(add_stress)
    run = ValidationRun.objects.create(
        scenario_set=scenario_set, model_version=version, dataset=world.dataset,
        policy=ValidationPolicy.objects.first(), train_end=dt.date(2020, 1, 10), holdout_start=dt.date(2020, 1, 11),
        tiers=["distribution"], parts={}, seed=0, created_by=user)
    report.validation_runs.add(run)
    return report


def add_reports(world: World, n: int) -> None:
    for _ in range(n):
        _report_with_inputs(world, _user(roles.DEVELOPER), new_version(world.developer, world.model))


def add_packets(world: World, n: int) -> None:
    for _ in range(n):
        user = _user(roles.DEVELOPER)
        version = new_version(world.developer, world.model)
        report = _report_with_inputs(world, user, version)
        Packet.objects.create(report=report, model_version=version, seed=0, created_by=user,
                              files=[{"name": "a", "sha256": _sha("a"), "size": 1}], lineage_ids=["dataset:1"])


def add_dataset_imports(world: World, n: int) -> None:
    from scenarios.models.dataset import DatasetImport

    for i in range(n):
        user = _user(roles.DEVELOPER)
        DatasetImport.objects.create(name=f"upload {_n()}", filename="a.csv", file_format="csv", size_bytes=10,
                                     upload_sha256=_sha(f"upload {i}"), seed=0, created_by=user,
                                     dataset=new_dataset(user) if i % 2 else None)


def add_tier_changes(world: World, n: int) -> None:
    from governance.models.inventory import TierChangeRequest

    for i in range(n):
        TierChangeRequest.objects.create(
            model=world.model, changes={"exposure_usd": {"before": "1", "after": "2"}}, tier_before=2, tier_after=1,
            rule_version="test", reason="test", status="rejected" if i % 2 else "approved",
            proposed_by=_user(roles.DEVELOPER), decided_by=_user(roles.VALIDATOR))
