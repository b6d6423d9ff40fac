"""The model documentation PDF: request (web), render (cpu queue), where it is stored.

``report_execute`` gathers every section from the records (reports.pdf.context), draws the charts
(reports.services.figures), explains the stress losses with SHAP (reports.pdf.explain), renders the
Django template with autoescaping through weasyprint behind the restricted fetcher (reports.pdf.render),
and only then stores the PDF and marks the row SUCCEEDED — a failure at any stage stores nothing and
marks the row FAILED with a message naming the stage and the problem.
"""

from __future__ import annotations

import hashlib
import logging
import socket
import time
from pathlib import Path
from typing import Any

from django.template.loader import render_to_string

from governance.access import require_any_role, visible_versions
from governance.artifacts import artifact_root, store_bytes
from governance.errors import InvalidInput, NotFound
from governance.models import LineageNode, ModelVersion, RunStatus
from governance.models.inventory import ModelFamily
from governance.models.review import EvidenceKind
from governance.roles import REQUESTER_ROLES
from governance.services import run_state
from governance.services.lineage import lineage_agent, lineage_entity, lineage_record_activity
from governance.services.review import evidence_attach
from reports.citations import require_validated, validated_set_ids
from reports.models import Report
from scenarios.models import Purpose, ScenarioSet, StressResult
from validation.models import ValidationRun

logger = logging.getLogger(__name__)

SECTIONS = (
    "1. Executive summary",
    "2. Model inventory record",
    "3. Data",
    "4. Methodology",
    "5. Scenarios",
    "6. Validation",
    "7. Stress results and explanations",
    "8. Champion, challenger and the most conservative figure",
    "9. Findings, limitations and approvals",
    "10. Lineage and audit trail",
)
OPTION_KEYS = {"shap_background", "shap_sample", "shap_permutations", "max_factor_panels", "max_waterfalls",
               "max_pages", "time_limit_seconds"}


# The inventory family each engine belongs to: a model is registered with one family, but a version records the
# engine its checkpoint was trained with, and the two can differ (a copula version of a model registered as a
# diffusion model). The document names what the version is (issue 17).
ENGINE_FAMILIES = {
    "historical_bootstrap": ModelFamily.HISTORICAL, "hypothetical": ModelFamily.HYPOTHETICAL,
    "factor_mc": ModelFamily.FACTOR_MC, "garch_evt_copula": ModelFamily.COPULA,
    "supervisory": ModelFamily.SUPERVISORY, "diffusion": ModelFamily.DIFFUSION, "timegan": ModelFamily.TIMEGAN,
    "wgan_gp": ModelFamily.WGAN_GP, "vae": ModelFamily.VAE, "lstm_transformer": ModelFamily.LSTM_TRANSFORMER,
}


def model_kind(version: ModelVersion) -> dict[str, Any]:
    """What the documentation calls the version: the family of its engine (the checkpoint's engine name), and the
    model's registered family when that one differs."""
    model = version.model
    family = ENGINE_FAMILIES.get(version.engine or "")
    if family is None or family == model.family:
        return {"label": model.get_family_display(), "registered": "", "differs": False}
    return {"label": ModelFamily(family).label, "registered": model.get_family_display(), "differs": True}


class StageError(Exception):
    def __init__(self, stage: str, error: BaseException) -> None:
        super().__init__(f"{stage}: {type(error).__name__}: {error}")
        self.stage = stage
        self.message = str(self)  # the run's error, as the kernel records it


def _check_options(options: dict | None) -> dict:
    options = dict(options or {})
    unknown = sorted(set(options) - OPTION_KEYS)
    if unknown:
        raise InvalidInput(f"unknown report options: {', '.join(unknown)}", details={"options": unknown})
    for key, value in options.items():
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise InvalidInput(f"report option {key} must be a positive integer", details={"options": [key]})
    try:
        _shap_settings(options)
    except ValueError as error:
        raise InvalidInput(str(error), details={"options": [str(error)]}) from error
    return options


def _shap_settings(options: dict, seed: int = 0):
    from reports.pdf.explain import ShapSettings

    defaults = ShapSettings()
    return ShapSettings(background=options.get("shap_background", defaults.background),
                        sample=options.get("shap_sample", defaults.sample),
                        permutations=options.get("shap_permutations", defaults.permutations), seed=seed)


# The purposes a document cites by default (issue 17): sets for use and the validator's own; a developer's
# ``development`` sets (drafts, never validated for use) and imported ``external`` ones only when named.
DEFAULT_PURPOSES = (Purpose.USE, Purpose.VALIDATION)


def default_scenario_sets(model_version: ModelVersion) -> list[ScenarioSet]:
    """What a report cites when no sets are named: the version's validated sets (a SUCCEEDED validation run,
    issue 15 §1) of purpose ``use`` or ``validation`` — never ``development``."""
    candidates = list(ScenarioSet.objects.filter(model_version=model_version, purpose__in=DEFAULT_PURPOSES)
                      .order_by("pk"))
    validated = validated_set_ids(candidates)
    return [s for s in candidates if s.pk in validated]


def report_start(*, actor, model_version: ModelVersion, scenario_sets=None, validation_runs=None,
                 stress_results=None, options: dict | None = None, seed: int = 0) -> Report:
    """Request a documentation PDF of ``model_version``; ``None`` means all of the version's."""
    require_any_role(actor, *REQUESTER_ROLES)  # the auditor is read-only (issue 17): it requests no report
    if not visible_versions(actor).filter(pk=model_version.pk).exists():
        raise NotFound(f"model version {model_version.pk} not found")
    options = _check_options(options)
    if scenario_sets is None:
        scenario_sets = default_scenario_sets(model_version)
    else:
        scenario_sets = list(scenario_sets)
    if stress_results is None:
        stress_results = list(StressResult.objects.filter(scenario_set__in=scenario_sets))
    else:
        stress_results = list(stress_results)
    # Every set the document cites, directly or through a stress figure, must have been validated; refused
    # (409, audited) before anything is written.
    cited = {s.pk: s for s in [*scenario_sets, *(r.scenario_set for r in stress_results)]}
    require_validated(actor=actor, scenario_sets=list(cited.values()), what="the report", object_type="report")
    if validation_runs is None:
        validation_runs = list(ValidationRun.objects.filter(scenario_set__in=scenario_sets,
                                                            status=RunStatus.SUCCEEDED))
    unfinished = [r.pk for r in validation_runs if r.status != RunStatus.SUCCEEDED]
    if unfinished:
        raise InvalidInput("only SUCCEEDED validation runs can be documented",
                           details={"validation_runs": unfinished})
    return run_state.run_start(
        Report, actor=actor, action="report.requested",
        audit_after={"model_version": model_version.pk, "scenario_sets": sorted(s.pk for s in scenario_sets),
                     "validation_runs": sorted(r.pk for r in validation_runs),
                     "stress_results": sorted(s.pk for s in stress_results), "options": options},
        related={"scenario_sets": scenario_sets, "validation_runs": validation_runs,
                 "stress_results": stress_results},
        model_version=model_version, options=options, seed=seed,
    ).run


def report_pdf_path(report: Report) -> Path:
    if not report.storage_path:
        raise NotFound(f"report {report.pk} has no stored PDF (status {report.status})")
    return artifact_root() / report.storage_path


def report_execute(report_id: int, *, worker: str | None = None) -> None:
    """The worker's side, run by the kernel: render every stage, then store the PDF — or end FAILED with a
    message naming the stage (``report.failed``), or CANCELLED between stages."""
    run_state.run_execute(Report, report_id, worker=worker or socket.gethostname(), body=_render,
                          queryset=Report.objects.select_related("model_version", "model_version__model"))


def _render(report: Report, lease: run_state.RunLease) -> None:
    try:
        built = build_document(report, lease)
    except (StageError, run_state.RunCancelled, run_state.RunTakenOver):
        raise
    except Exception as error:  # noqa: BLE001 - named as the render stage's failure
        raise StageError("render", error) from error
    _store(report, built, lease)


def _comparator(run) -> dict | None:
    """How the run obtained the paths it judged, when not the set as generated (the holdout replay)."""
    row = run.metrics.filter(name="holdout_comparator").first()
    return row.details if row is not None else None


def build_document(report: Report, progress=None) -> dict[str, Any]:
    """Every stage of the render; returns the PDF and what is recorded about it (nothing stored).
    ``progress(fraction, stage=...)`` is called after each stage (the run's lease: heartbeat, cancellation)."""
    from reports.pdf import context as report_context
    from reports.pdf.lineage import lineage_svg
    from reports.pdf.render import Limits, render_pdf
    from reports.services import figures as figs
    from scenarios.services.scenario_sets import scenario_set_array

    options = report.options or {}
    timings: dict[str, float] = {}
    version = report.model_version
    scenario_sets = list(report.scenario_sets.select_related("dataset", "model_version").order_by("pk"))
    validation_runs = list(report.validation_runs.select_related("scenario_set", "dataset", "policy").order_by("pk"))
    stress_results = list(report.stress_results.select_related("scenario_set", "portfolio").order_by("pk"))
    panels = options.get("max_factor_panels", figs.MAX_FACTOR_PANELS)
    waterfalls = options.get("max_waterfalls", 5)

    def stage(name: str, fraction: float, fn):
        start = time.perf_counter()
        try:
            result = fn()
        except Exception as error:  # noqa: BLE001 - re-raised with the stage's name
            raise StageError(name, error) from error
        timings[name] = round(time.perf_counter() - start, 4)
        if progress is not None:
            progress(fraction, stage=name)
        return result

    ctx = stage("context", 0.05, lambda: report_context.gather(
        version=version, scenario_sets=scenario_sets, validation_runs=validation_runs,
        stress_results=stress_results, generated_at=report.created_at, report_uid=report.lineage_uid))
    needed = {s.pk: s for s in [*scenario_sets, *(r.scenario_set for r in stress_results),
                                *(v.scenario_set for v in validation_runs)]}  # each set read once
    arrays = stage("load_scenarios", 0.1, lambda: {pk: scenario_set_array(s) for pk, s in needed.items()})
    figures: dict[str, list] = {}
    training = ctx["training"]
    figures["methodology"] = stage("charts_methodology", 0.15, lambda: figs.training_run_figures(training)
                                   if training else [])
    figures["scenarios"] = stage("charts_scenarios", 0.3, lambda: [
        (s, figs.scenario_set_figures(s, paths=arrays[s.pk], max_panels=panels)) for s in scenario_sets])
    figures["validation"] = stage("charts_validation", 0.45, lambda: [
        (r, figs.validation_run_figures(r, synthetic=arrays[r.scenario_set_id], max_panels=panels))
        for r in validation_runs])
    settings = _shap_settings(options, seed=report.seed)
    explanations = stage("shap", 0.65, lambda: [
        figs.explain_stress(s, paths=arrays[s.scenario_set_id], settings=settings, max_worst=waterfalls)
        for s in stress_results])
    for explanation in explanations:
        scale = max(1.0, abs(explanation.base_value), abs(explanation.mean_loss))
        if not explanation.additivity_residual <= 1e-6 * scale:  # SHAP's efficiency property, checked
            raise StageError("shap", ValueError(f"SHAP additivity residual {explanation.additivity_residual:g} "
                                                "is too large"))
    figures["stress"] = stage("charts_stress", 0.75, lambda: [
        (s, e, figs.stress_result_figures(s, explanation=e, max_waterfalls=waterfalls))
        for s, e in zip(stress_results, explanations, strict=True)])
    svg = stage("lineage_diagram", 0.8, lambda: lineage_svg(ctx["lineage_nodes"], ctx["lineage_edges"]))

    images: dict[str, tuple[bytes, str]] = {"lineage.svg": (svg, "image/svg+xml")}

    def with_urls(items) -> list[dict]:
        out = []
        for fig in items:
            key = f"{fig.name}-{len(images)}.png"
            images[key] = (fig.png, "image/png")
            out.append({"title": fig.title, "caption": fig.caption, "data": fig.data, "src": f"crucible-figure:{key}"})
        return out

    ctx.update({
        "sections": SECTIONS,
        "model_kind": model_kind(version),
        "methodology_figures": with_urls(figures["methodology"]),
        "scenario_blocks": [{"set": s, "figures": with_urls(f), "validation": v}
                            for (s, f), v in zip(figures["scenarios"], ctx["set_validations"], strict=True)],
        "validation_blocks": [{"run": r, "figures": with_urls(f), "comparator": _comparator(r),
                               "not_run": report_context.not_run_tiers(r)}
                              for r, f in figures["validation"]],
        "stress_blocks": [{"stress": s, "shap": e.summary(), "ranked": e.ranked(15),
                           "waterfalls": [{"index": i, "loss": loss, "rank": n + 1,
                                           "top": sorted(zip(e.factors, v, strict=True),
                                                         key=lambda fv: -abs(fv[1]))[:5]}
                                          for n, (i, loss, v) in enumerate(zip(e.worst_index, e.worst_loss,
                                                                               e.worst_values, strict=True))],
                           "figures": with_urls(f)} for s, e, f in figures["stress"]],
        "lineage_src": "crucible-figure:lineage.svg",
    })
    html = stage("html", 0.85, lambda: render_to_string("reports/pdf/report.html", ctx))
    limits = Limits(max_pages=options.get("max_pages", Limits.max_pages),
                    seconds=float(options.get("time_limit_seconds", Limits.seconds)))
    rendered = stage("pdf", 0.95, lambda: render_pdf(html, images=images, limits=limits))
    timings.update({f"pdf_{k}": round(v, 4) for k, v in rendered.seconds.items()})
    shap = {"stress_results": {str(s.pk): e.summary() for s, e in zip(stress_results, explanations, strict=True)}}
    if explanations:
        shap |= {k: explanations[0].summary()[k] for k in (
            "explainer", "background", "sample", "permutations", "max_evals_per_row")}
        shap["additivity_residual"] = max(e.additivity_residual for e in explanations)
        shap["base_value_error"] = max(e.base_value_error for e in explanations)
        errors = [e.permutation_error for e in explanations if e.permutation_error is not None]
        shap["permutation_error"] = max(errors) if errors else None
    timings["total"] = round(sum(v for k, v in timings.items() if not k.startswith("pdf_")), 4)
    return {"pdf": rendered.pdf, "pages": rendered.pages, "shap": shap, "timings": timings,
            "comparison": ctx["comparison"]["table"],
            "fetched": rendered.fetched, "refused": rendered.refused,
            "used": [s.lineage_uid for s in scenario_sets] + [f"validation_result:{r.pk}" for r in validation_runs]
            + [s.lineage_uid for s in stress_results] + [f"model_version:{version.pk}"]}


def _store(report: Report, built: dict[str, Any], lease: run_state.RunLease) -> None:
    worker = lease.worker
    digest = hashlib.sha256(built["pdf"]).hexdigest()
    target = artifact_root() / f"{digest[:2]}/{digest}.pdf"
    existed = target.exists()  # content-addressed: a file another report owns is never removed
    try:
        with lease.completing() as done:  # the row locked, this attempt's hold on it checked
            report = done.run
            path, sha = store_bytes(built["pdf"], suffix=".pdf")
            report.storage_path, report.sha256, report.size_bytes = path, sha, len(built["pdf"])
            report.pages, report.sections = built["pages"], list(SECTIONS)
            report.shap, report.timings = built["shap"], built["timings"]
            done.succeed(action="report.rendered",
                         after={"sha256": sha, "pages": report.pages, "size_bytes": report.size_bytes,
                                "additivity_residual": report.shap.get("additivity_residual"),
                                "refused_urls": [u for u, _ in built["refused"]][:20],
                                # the champion/challenger table as printed: the packet's
                                # comparison CSVs are this record, not a later recompute
                                "comparison": built.get("comparison")})
            entity = lineage_entity(uid=report.lineage_uid, kind="report",
                                    label=f"documentation {report.model_version}",
                                    sha256=sha, object_type="report", object_id=report.pk, actor=report.created_by)
            # the documentation is a fact about the version that governance can see (DESIGN §2: rows pushed down)
            evidence_attach(actor=report.created_by, version=report.model_version, kind=EvidenceKind.REPORT,
                            source=report.lineage_uid, sha256=sha,
                            summary={"pages": report.pages, "size_bytes": report.size_bytes,
                                     "additivity_residual": report.shap.get("additivity_residual")})
            used = [uid for uid in built["used"] if LineageNode.objects.filter(uid=uid).exists()]
            lineage_record_activity(
                activity_uid=f"report_render:{report.pk}", kind="report_render", label=f"render report {report.pk}",
                used=used, generated=[entity],
                agents=[report.created_by, lineage_agent(uid=f"worker:{worker[:80]}", kind="worker", label=worker)],
                actor=report.created_by)
    except run_state.RunTakenOver:
        raise  # nothing was stored by this attempt; the file (if any) is the new holder's
    except Exception as error:  # noqa: BLE001 - nothing half-stored: the transaction rolled back
        logger.exception("report %s could not be stored", report.pk)
        if not existed:
            target.unlink(missing_ok=True)
        raise StageError("store", error) from error
