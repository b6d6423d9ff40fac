"""The portal shows what a verdict tested (issue 15): NOT_RUN as a grey badge with the tiers not run named,
conformance / plausibility / adversarial rows like the others, and on the version page which sets are
validated, out of training range, or filtered."""

from __future__ import annotations

import pathlib
import re

import pytest
from django.test import Client

from portal.templatetags.portal import outcome_class, outcome_label

pytestmark = pytest.mark.django_db

CSS = pathlib.Path(__file__).resolve().parents[2] / "portal" / "static" / "portal" / "portal.css"


def test_not_run_has_its_own_grey_class_never_the_pass_colour():
    assert outcome_class("NOT_RUN") == "outcome outcome-not-run"
    assert outcome_class("PASS") == "outcome outcome-pass" and outcome_class("") == "outcome outcome-na"
    assert outcome_label("NOT_RUN") == "NOT RUN"
    rule = re.search(r"\.outcome-not-run\s*\{([^}]*)\}", CSS.read_text())
    assert rule, "portal.css has no rule for NOT_RUN"
    assert "var(--pass" not in rule[1] and "#dcdfe4" in rule[1]


def _get(user, url) -> str:
    client = Client()
    client.force_login(user)
    response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    return response.content.decode()


def test_the_validation_run_page_names_the_tiers_not_run_and_shows_the_new_tiers(documented_with_severe, auditor):
    run = documented_with_severe.severe_run
    page = _get(auditor, f"/validation/runs/{run.pk}/?all=1")  # every metric row, not only WARN/FAIL
    assert 'class="outcome outcome-not-run">NOT RUN</span>' in page
    assert "adversarial not run: the model could not be sampled over a grid of conditions" in page
    for tier in ("conformance", "plausibility", "coherence", "adversarial"):
        assert f"Test tier {tier}" in page
    assert "severe asked for 2.0× vol, set has 3.4×" in page
    assert "no scenario has SP500 down by more than 0.1" in page  # a rule that had nothing to test says why
    if hasattr(documented_with_severe.severe, "out_of_training_range"):
        assert "out of training range" in page


def test_the_version_page_says_which_sets_are_validated_out_of_range_or_filtered(
        documented_with_severe, generate, validator, auditor):
    doc = documented_with_severe
    unvalidated = generate(validator, doc.version, n_scenarios=30, horizon=5, purpose="validation", seed=11)
    page = _get(auditor, f"/versions/{doc.version.pk}/")
    assert f"validated by run {doc.validation_run.pk}" in page and f"validated by run {doc.severe_run.pk}" in page
    row = page[page.index(f"({unvalidated.pk})"):]
    assert "not validated</span> — cannot be cited" in row[:2000]
    assert "adversarial not run" in page  # next to the run's outcome in the validation runs table
    if hasattr(doc.severe, "out_of_training_range"):
        assert '<span class="out-of-range">out of training range</span>' in page
        assert "asked beyond the trained vol range" in page
        assert "plausibility filter removed 20 of 320 paths (6.2 %)" in page


def test_the_runs_page_shows_a_validation_runs_outcome_and_its_tiers_not_run(documented_with_severe, auditor):
    page = _get(auditor, "/runs/?partial=1")
    assert 'class="outcome outcome-fail">FAIL</span>' in page and "not run: adversarial" in page
