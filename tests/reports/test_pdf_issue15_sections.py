"""What the documentation PDF shows of issue 15, read back with pdftotext from a real render: NOT_RUN for a tier
that tested nothing (named next to the run's outcome), the conformance / plausibility / coherence block of a
conditioned set, the coherence rules and family-wise control applied, and the champion/challenger section."""

from __future__ import annotations

import pytest

from reports.pdf import context as report_context
from reports.services.documents import SECTIONS
from tests.reports.test_pdf_render import pdf_text, render, squeeze

pytestmark = pytest.mark.django_db

SMALL = {"shap_background": 20, "shap_sample": 20, "max_waterfalls": 1, "max_factor_panels": 1}


def test_the_pdf_shows_not_run_the_severe_sets_validation_and_the_comparison(
        documented_with_severe, approver, django_capture_on_commit_callbacks):
    doc = documented_with_severe
    report = render(approver, doc.version, django_capture_on_commit_callbacks, options=SMALL)
    assert report.status == "SUCCEEDED", report.error
    assert {s.pk for s in report.scenario_sets.all()} == {doc.scenario_set.pk, doc.severe.pk}
    from reports.services.documents import report_pdf_path

    text = pdf_text(report_pdf_path(report))
    flat = squeeze(text)
    # (a) a tier that tested nothing reads NOT_RUN, and is named next to the run's outcome with why
    assert "NOT_RUN" in flat
    assert "adversarial not run: the model could not be sampled over a grid of conditions" in flat
    assert "tiers that tested nothing: adversarial in run" in flat
    assert "1 not run" in flat  # the counts include NOT_RUN
    # (b) the severe set's block: conformance (FAIL, its message), plausibility, coherence, adversarial
    assert f"Validation of {doc.severe.name} (scenario set {doc.severe.pk})" in flat
    block = flat[flat.index(f"Validation of {doc.severe.name}"):]
    assert "severe asked for 2.0× vol, set has 3.4×" in block
    for tier in ("conformance", "plausibility", "coherence", "adversarial"):
        assert tier in block
    assert "8 of 2000 paths (0.4%) lie outside the plausibility region" in block
    if hasattr(doc.severe, "out_of_training_range"):
        assert "OUT OF TRAINING RANGE" in block and "asked beyond the trained vol range" in block
        assert "plausibility filter removed 20 of 320 paths (6.2 %)" in block
    # (c) the coherence rules applied and the family-wise control line
    assert "Economic-coherence rules applied" in flat and "SP500 one-day move within ±0.25" in flat
    assert "Family-wise control across factors:" in flat
    # (d) the comparison section, its own section in the list, with USD figures and the most conservative one
    title = "8. Champion, challenger and the most conservative figure"
    assert title in SECTIONS and report.sections == list(SECTIONS)
    section = flat[flat.index(title):flat.index("9. Findings, limitations and approvals")]
    severe_var = next(m["var"] for m in doc.severe_stress.risk["historical"] if m["level"] == 0.99)
    base_var = next(m["var"] for m in doc.stress.risk["historical"] if m["level"] == 0.99)
    assert f"{severe_var:,.0f} USD" in section and f"{base_var:,.0f} USD" in section
    assert "Most conservative figure per condition" in section and "severe" in section
    assert f"from v{doc.version.version}" in section
    assert "version_disagreement" in section and "VaR 99% at 90% of the other versions' median" in section


def test_not_run_tiers_are_named_with_their_reason_and_rank_below_pass(documented_with_severe):
    run = documented_with_severe.severe_run
    assert report_context.not_run_tiers(run) == [{
        "tier": "adversarial", "reason": "the model could not be sampled over a grid of conditions",
        "text": "adversarial not run: the model could not be sampled over a grid of conditions"}]
    assert report_context.worst_outcome(["NOT_RUN", "PASS"]) == "PASS"
    assert report_context.worst_outcome(["NOT_RUN", "INFO"]) == "NOT_RUN"
    block = report_context.set_validation(documented_with_severe.severe, [run])
    assert block["outcome"] == "FAIL" and [t["name"] for t in block["tiers"]] == [
        "conformance", "plausibility", "coherence", "adversarial"]
    assert block["tiers"][0]["rows"][0]["message"] == "severe asked for 2.0× vol, set has 3.4×"


def test_the_filter_line_and_the_familywise_line_read_as_sentences():
    line = report_context.filter_line({"rules": ["x"], "drawn": 1000, "removed": 30, "share": 0.03,
                                       "reasons": {"VIX below zero": 20, "SP500 one-day move": 10}, "max_share": 0.05})
    assert line == ("plausibility filter removed 30 of 1000 paths (3.0 %), policy maximum 5.0 %: "
                    "SP500 one-day move 10; VIX below zero 20")
    assert report_context.filter_line({}) == ""
    assert report_context.familywise_line({"familywise": {"method": "holm", "description": "Holm across factors",
                                                          "alpha": 0.05}}) == "holm; Holm across factors; alpha 0.05"
    assert report_context.familywise_line({}) == ""
