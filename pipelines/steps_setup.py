"""Steps up to the generated scenarios: users, data, inventory, training, submission, generation."""

from __future__ import annotations

import secrets
import time
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group

from governance.roles import DEVELOPER, VALIDATOR
from pipelines.context import Context, await_run
from pipelines.settings import (
    CONDITIONS,
    DEMO_USERS,
    FED_EDITION,
    EngineSpec,
    PipelineSettings,
    check_windows,
    fed_available,
    fed_directory,
)
from scenarios.models import Dataset


def step_dataset(context: Context) -> str:
    from scenarios.services.datasets import dataset_import_builtin

    config = context.config
    if config.dataset:
        context.dataset = Dataset.objects.filter(name=config.dataset).order_by("-version").first()
        verb = "using"
    else:
        # Re-runs reuse an identical earlier import (same bytes, same fingerprint) instead of a new version.
        from scenarios.builtin_data import load_builtin

        name = load_builtin(config.builtin).name
        latest = Dataset.objects.filter(name=name, source=f"builtin:{config.builtin}").order_by("-version").first()
        fresh = (dataset_import_builtin(actor=context.users[DEVELOPER], builtin=config.builtin)
                 if latest is None else None)
        context.dataset = fresh or latest
        verb = "imported" if fresh else "reusing"
    data = context.dataset
    check_windows(data, config)
    context.summary["dataset"] = {"id": data.pk, "name": data.name, "version": data.version, "sha256": data.sha256,
                                  "factors": list(data.factors), "rows": data.n_rows,
                                  "start": str(data.start_date), "end": str(data.end_date)}
    return f"{verb} {data} — {data.n_rows:,} days {data.start_date} → {data.end_date}, sha256 {data.sha256[:12]}…"


def step_users(context: Context) -> str:
    password = context.config.password
    generated = False
    secret_file = Path(settings.VAR_DIR) / "demo-password"
    if not password:
        if secret_file.is_file():
            password = secret_file.read_text().strip()
        else:
            password, generated = secrets.token_urlsafe(12), True
    User = get_user_model()
    created = []
    for role, username in DEMO_USERS.items():
        user = User.objects.filter(username=username).first()
        if user is None:
            user = User.objects.create_user(username=username, password=password)
            created.append(username)
        elif not user.check_password(password):
            user.set_password(password)
            user.save(update_fields=["password"])
        user.groups.add(Group.objects.get(name=role))
        context.users[role] = user
    if generated:
        secret_file.write_text(password + "\n")
        secret_file.chmod(0o600)
    context.password, context.password_generated = password, generated
    context.summary["users"] = {role: user.get_username() for role, user in context.users.items()}
    context.summary["password"] = {"source": "environment" if context.config.password else
                                   ("generated" if generated else str(secret_file)),
                                   "value": password if generated else None,
                                   "file": None if context.config.password else str(secret_file)}
    return f"{len(created)} created, {len(DEMO_USERS) - len(created)} already there"


def step_inventory(context: Context) -> str:
    from governance.services.inventory import model_create

    config = context.config
    developer = context.users[DEVELOPER]
    factors = ", ".join(context.dataset.factors)
    context.model = model_create(
        actor=developer, name=config.model_name,
        purpose=f"{config.horizon}-day market stress scenarios of {factors} for regulatory stress testing "
                f"(CCAR-style severely adverse analysis) and internal risk appetite",
        use_restrictions="Not for pricing or for horizons beyond 20 trading days; not for factors outside "
                         f"{factors}; scenarios are inputs to stress tests, not forecasts.",
        business_line="Markets risk", family=_family(config.engines[0].engine),
        vendor="in-house (Crucible)", inputs=f"daily increments of {factors} ({context.dataset})",
        outputs=f"{config.n_scenarios:,} scenario paths × {config.horizon} days per request",
        assumptions="Increments are GJR-GARCH filtered with EVT tails; dependence learned from the training window.",
        limitations="Trained on data to the training cut-off only; no interest-rate factor in the bundled data.",
        regulatory_uses=["CCAR", "internal_stress"],
        exposure_usd=config.exposure_usd, materiality_purpose=config.materiality_purpose,
    )
    model = context.model
    context.summary["model"] = {"id": model.pk, "model_id": model.model_id, "name": model.name, "tier": model.tier,
                                "exposure_usd": str(model.exposure_usd),
                                "materiality_purpose": model.materiality_purpose,
                                "tier_rule_version": model.tier_rule_version}
    return f"{model.model_id} '{model.name}', tier {model.tier} ({model.tier_rule_version})"


def _family(engine: str) -> str:
    from governance.models.inventory import ModelFamily

    return engine if engine in ModelFamily.values else ("copula" if "copula" in engine else "other")


def _train(context: Context, spec: EngineSpec, *, train_end, holdout_start, holdout_end, lo, hi):
    from scenarios.services.runs import training_run_start

    # Announced before starting: in-process (eager) the whole run happens inside the start call.
    context.tick(lo, f"training {spec.role} v{spec.version} ({spec.engine})")
    run = training_run_start(actor=context.users[DEVELOPER], model=context.model, version_label=spec.version,
                             dataset=context.dataset, engine=spec.engine, config=spec.config,
                             train_end=train_end, holdout_start=holdout_start, holdout_end=holdout_end,
                             seed=context.config.seed)
    run = await_run(context, run, what=f"training run {run.pk} ({spec.engine})", queue="gpu", lo=lo, hi=hi)
    context.training_runs[spec.role] = run
    context.versions[spec.role] = run.model_version
    return run


def step_training(context: Context) -> str:
    config = context.config
    jobs = [(spec, config.train_end, config.holdout_start, config.holdout_end) for spec in config.engines]
    if config.crisis is not None:
        windows = config.crisis_windows
        jobs.append((config.crisis, windows["train_end"], *windows["holdout"]))
    if fed_available(config):
        jobs.append((EngineSpec("supervisory", "supervisory", {}, f"1.0.0-fed.{FED_EDITION}"), config.train_end,
                     config.holdout_start, config.holdout_end))
    timings = {}
    for i, (spec, train_end, holdout_start, holdout_end) in enumerate(jobs):
        started = time.perf_counter()
        _train(context, spec, train_end=train_end, holdout_start=holdout_start, holdout_end=holdout_end,
               lo=i / len(jobs), hi=(i + 1) / len(jobs))
        timings[spec.role] = round(time.perf_counter() - started, 2)
    context.summary["versions"] = {
        role: {"id": v.pk, "version": v.version, "engine": v.engine, "checkpoint_sha256": v.checkpoint_sha256,
               "training_run": context.training_runs[role].pk, "train_end": str(v.train_end),
               "holdout": [str(v.holdout_start), str(v.holdout_end) if v.holdout_end else None],
               "training_s": timings[role]}
        for role, v in context.versions.items()}
    return ", ".join(f"{role} v{v.version} ({v.engine}, {timings[role]:.0f} s)" for role, v in context.versions.items())


def validated_roles(context: Context) -> list[str]:
    return [spec.role for spec in (*context.config.engines, *([context.config.crisis] if context.config.crisis
                                                              else []))]


def step_submission(context: Context) -> str:
    from governance.services.workflow import version_transition

    developer, validator = context.users[DEVELOPER], context.users[VALIDATOR]
    for role in validated_roles(context):
        version = version_transition(actor=developer, version=context.versions[role], action="submit",
                                     password=context.password, reason=f"{role} version for independent validation")
        context.versions[role] = version_transition(actor=validator, version=version, action="start_validation")
    return f"{len(validated_roles(context))} versions signed by {developer} and taken into validation by {validator}"


def _generate(context: Context, version, *, actor, n, horizon, condition, purpose, what, lo, hi):
    from scenarios.models import ScenarioSet
    from scenarios.services.runs import generation_run_start

    context.tick(lo, f"generating {what}")
    run = generation_run_start(actor=actor, model_version=version, n_scenarios=n, horizon=horizon,
                               condition=condition, seed=context.config.seed + 1, purpose=purpose)
    run = await_run(context, run, what=f"generation run {run.pk} ({what})", queue="gpu", lo=lo, hi=hi)
    return ScenarioSet.objects.get(generation_run=run)


def supervisory_condition(config: PipelineSettings, scenario: str) -> dict:
    """The condition of a Fed translation's generation, its quarterly path resolved here from the pipeline's
    own Fed directory (``fed_directory``) and passed explicitly, as ``parse_condition`` records a
    ``{"supervisory": ...}`` request (path and source file with its SHA-256)."""
    from scenarios.services.fed import supervisory_path

    path, source = supervisory_path(FED_EDITION, scenario, directory=fed_directory(config))
    return {"extra": {"fed_path": path, "fed_source": source}}


def step_generation(context: Context) -> str:
    config = context.config
    validator, developer = context.users[VALIDATOR], context.users[DEVELOPER]
    # The validator draws the scenarios that are judged (independent generation); the crisis version
    # only the unconditioned set it is validated on.
    jobs = [(role, name, cond) for role in (s.role for s in config.engines) for name, cond in CONDITIONS.items()]
    if config.crisis is not None:
        jobs.append((config.crisis.role, "unconditioned", None))
    fed = "supervisory" in context.versions
    total = len(jobs) + fed
    for i, (role, name, condition) in enumerate(jobs):
        context.sets[(role, name)] = _generate(
            context, context.versions[role], actor=validator, n=config.n_scenarios, horizon=config.horizon,
            condition=condition, purpose="validation", what=f"{role} {name}", lo=i / total, hi=(i + 1) / total)
    if fed:
        # The Fed's 2025 severely adverse path translated into daily paths; a draft version, so the
        # developer generates it for development (the translation is an input to the analysis here,
        # not a validated model in use).
        context.sets[("supervisory", "severely_adverse")] = _generate(
            context, context.versions["supervisory"], actor=developer, n=config.fed_scenarios, horizon=63,
            condition=supervisory_condition(config, "severely_adverse"), purpose="development",
            what=f"Fed {FED_EDITION} severely adverse", lo=len(jobs) / total, hi=1.0)
    context.summary["scenario_sets"] = {
        f"{role}/{name}": {"id": s.pk, "sha256": s.sha256, "n": s.n_scenarios, "horizon": s.horizon}
        for (role, name), s in context.sets.items()}
    return (f"{len(context.sets)} sets ({config.n_scenarios:,} × {config.horizon} days each"
            + (f"; Fed severely adverse {config.fed_scenarios:,} × 63 days" if fed else "; no Fed tables found")
            + ")")
