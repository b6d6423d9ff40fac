"""The validation run page and the chart images: summary first, WARN/FAIL by default, stored charts only."""

from __future__ import annotations

import re
import time

import pytest
from django.test import Client

from governance import roles
from governance.models import RunStatus
from reports.models import FigureSet

pytestmark = pytest.mark.django_db

DRAWING_FUNCTIONS = ("validation_run_figures", "scenario_set_figures", "stress_result_figures",
                     "training_run_figures", "explain_stress")


def _client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def no_drawing(monkeypatch):
    """Every drawing function raises and records that it was called: a page must never draw."""
    from reports.services import figures

    calls = []
    for name in DRAWING_FUNCTIONS:
        def refuse(*args, _name=name, **kwargs):
            calls.append(_name)
            raise AssertionError(f"{_name} was called inside a request")

        monkeypatch.setattr(figures, name, refuse)
    return calls


def _drawn(kind: str, subject, actor, capture):
    from reports.services.figure_sets import figure_set_ensure, figure_set_execute

    with capture(execute=False):
        started = figure_set_ensure(subject_kind=kind, subject=subject, actor=actor)
    figure_set_execute(started.id, worker="test-worker")
    figure_set = FigureSet.objects.get(pk=started.id)
    assert figure_set.status == RunStatus.SUCCEEDED, figure_set.error
    return figure_set


def test_the_run_page_and_an_unknown_chart_answer_within_a_second_without_drawing(
        under_validation, validator, no_drawing):
    client = _client(validator)
    run = under_validation.run
    # The process's first rendering (imports, URL resolver, template compilation) is not what is measured here:
    # a cold process is `python -m bench pages`'s. What is measured: the page does no drawing, whatever the run.
    assert client.get(f"/validation/runs/{run.pk}/").status_code == 200

    start = time.perf_counter()
    response = client.get(f"/validation/runs/{run.pk}/")
    page_seconds = time.perf_counter() - start
    assert response.status_code == 200
    assert page_seconds < 1.0, page_seconds
    assert "Charts not drawn yet." in response.content.decode()

    for name in ("no-such-chart", "qq_1"):
        start = time.perf_counter()
        missing = client.get(f"/figures/validation-run/{run.pk}/{name}.png")
        assert missing.status_code == 404
        assert time.perf_counter() - start < 1.0
    assert client.get(f"/figures/not-a-kind/{run.pk}/qq_1.png").status_code == 404
    assert no_drawing == []
    assert not FigureSet.objects.exists()  # a page never starts drawing on its own


def test_stored_charts_are_served_with_their_sha256_as_etag_and_cached_for_long(
        under_validation, validator, django_capture_on_commit_callbacks):
    run = under_validation.run
    figure_set = _drawn("validation-run", run, validator, django_capture_on_commit_callbacks)
    client = _client(validator)
    page = client.get(f"/validation/runs/{run.pk}/").content.decode()
    srcs = re.findall(r'<img src="(/figures/validation-run/[^"]+)"', page)
    assert len(srcs) == len(figure_set.figures) > 0
    for figure in figure_set.figures:
        response = client.get(f"/figures/validation-run/{run.pk}/{figure['name']}.png")
        assert response.status_code == 200 and response["Content-Type"] == "image/png"
        assert response.content.startswith(b"\x89PNG\r\n\x1a\n")
        assert response["ETag"] == f'"{figure["sha256"]}"'
        assert "max-age=31536000" in response["Cache-Control"]
        again = client.get(f"/figures/validation-run/{run.pk}/{figure['name']}.png",
                           HTTP_IF_NONE_MATCH=response["ETag"])
        assert again.status_code == 304 and again.content == b""
    assert client.get(f"/figures/validation-run/{run.pk}/no-such-chart.png").status_code == 404


def test_the_summary_comes_first_and_only_warn_and_fail_metrics_show_until_asked(under_validation, validator):
    run = under_validation.run
    metrics = list(run.metrics.all())
    # One known FAIL and one known WARN, the rest PASS: what the filter keeps is then known.
    run.metrics.update(outcome="PASS")
    failing, warning = metrics[0], metrics[-1]
    run.metrics.filter(pk=failing.pk).update(outcome="FAIL")
    run.metrics.filter(pk=warning.pk).update(outcome="WARN")
    client = _client(validator)

    page = client.get(f"/validation/runs/{run.pk}/").content.decode()
    assert page.index("Summary: outcome per test tier") < page.index("Metrics at WARN or FAIL")
    assert "Tier " not in re.sub(r"<[^>]+>", " ", page).replace("Test tier", "")  # no bare "Tier": test or risk
    for tier in run.tier_outcomes:
        assert f'<th scope="row">{tier}</th>' in page
    rows = re.findall(r'<th scope="row" title="[^"]*">([^<]+)</th>', page)
    assert sorted(rows) == sorted([failing.name, warning.name])
    assert f'href="?all=1#metrics">Show all {len(metrics)} metrics</a>' in page
    assert "Showing 2 of" in page

    everything = client.get(f"/validation/runs/{run.pk}/?all=1").content.decode()
    rows = re.findall(r'<th scope="row" title="[^"]*">([^<]+)</th>', everything)
    assert len(rows) == len(metrics)
    assert f"All {len(metrics)} metrics" in everything and "Show only WARN and FAIL (2)" in everything


def test_each_metric_shows_its_threshold_noise_floor_and_meaning(under_validation, validator):
    from validation.metric_notes import note_for

    run = under_validation.run
    with_floor = run.metrics.exclude(floor=None).exclude(threshold=None).first()
    assert with_floor is not None
    run.metrics.filter(pk=with_floor.pk).update(outcome="FAIL")
    page = _client(validator).get(f"/validation/runs/{run.pk}/").content.decode()
    row = re.search(rf'<th scope="row" title="[^"]*">{with_floor.name}</th>(.*?)</tr>', page, re.S).group(1)
    assert note_for(with_floor.name) and note_for(with_floor.name).replace("'", "&#x27;") in row
    assert f"{with_floor.threshold:.4g}" in row
    assert f"{with_floor.floor['low']:.3g} – {with_floor.floor['high']:.3g}" in row


def test_every_metric_the_suite_judges_has_a_one_line_meaning(under_validation):
    from validation.metric_notes import NOTES, note_for
    from validation.policy_defaults import BASE

    assert set(BASE) <= set(NOTES)
    for name in set(under_validation.run.metrics.values_list("name", flat=True)):
        assert note_for(name), name
    assert all("\n" not in line and len(line) < 200 for line in NOTES.values())


def test_var_and_es_show_thousands_separators_and_the_currency(under_validation, validator):
    page = _client(validator).get(f"/validation/runs/{under_validation.run.pk}/").content.decode()
    var = under_validation.stress.risk["historical"][0]["var"]
    assert f"{var:,.0f} USD" in page
    assert abs(var) >= 1000 and "," in f"{var:,.0f}"
    assert "VaR (USD)" in page and "ES (USD)" in page


def test_charts_not_drawn_yet_can_be_drawn_with_a_button_that_starts_a_run(
        under_validation, validator, django_capture_on_commit_callbacks):
    run = under_validation.run
    client = _client(validator)
    page = client.get(f"/validation/runs/{run.pk}/").content.decode()
    assert f'action="/figures/validation-run/{run.pk}/draw/"' in page and "Draw charts" in page

    with django_capture_on_commit_callbacks(execute=False) as enqueued:
        response = client.post(f"/figures/validation-run/{run.pk}/draw/")
        again = client.post(f"/figures/validation-run/{run.pk}/draw/")
    figure_set = FigureSet.objects.get(subject_kind="validation-run", subject_id=run.pk)
    assert response.status_code == 303 and response["Location"] == f"/jobs/figure_set/{figure_set.pk}/"
    assert again.status_code == 303 and again["Location"] == response["Location"]
    assert figure_set.status == RunStatus.PENDING and figure_set.created_by == validator
    assert len(enqueued) == 1  # started once
    page = client.get(f"/validation/runs/{run.pk}/").content.decode()
    assert f'href="/jobs/figure_set/{figure_set.pk}/">Follow the drawing</a>' in page
    assert client.get(f"/figures/validation-run/{run.pk}/draw/").status_code == 405


def test_a_failed_drawing_shows_its_error_and_offers_to_draw_again(
        under_validation, validator, django_capture_on_commit_callbacks, monkeypatch):
    from reports.services import figure_sets, figures

    def broken(*args, **kwargs):
        raise RuntimeError("matplotlib exploded")

    monkeypatch.setattr(figures, "stress_result_figures", broken)
    stress = under_validation.stress
    with django_capture_on_commit_callbacks(execute=False):
        started = figure_sets.figure_set_ensure(subject_kind="stress", subject=stress, actor=validator)
    figure_sets.figure_set_execute(started.id, worker="w")
    response = _client(validator).get(f"/validation/runs/{under_validation.run.pk}/")
    page = response.content.decode()
    assert response.status_code == 200
    assert "Drawing the charts failed: RuntimeError: matplotlib exploded" in page
    assert "Draw the charts again" in page


def test_a_user_without_a_role_may_neither_see_charts_nor_start_them(under_validation, make_user):
    nobody = make_user("nobody")
    client = _client(nobody)
    run = under_validation.run
    assert client.post(f"/figures/validation-run/{run.pk}/draw/").status_code == 403
    assert client.get(f"/validation/runs/{run.pk}/").status_code == 403
    assert not FigureSet.objects.exists()


def test_a_developer_of_another_model_can_neither_start_nor_fetch_its_charts(
        under_validation, make_user, validator, django_capture_on_commit_callbacks):
    from validation.selectors.runs import validation_run_list

    run = under_validation.run
    figure_set = _drawn("validation-run", run, validator, django_capture_on_commit_callbacks)
    outsider = make_user("dev-elsewhere", roles.DEVELOPER)
    assert not validation_run_list(user=outsider).filter(pk=run.pk).exists()
    client = _client(outsider)
    name = figure_set.figures[0]["name"]
    assert client.get(f"/figures/validation-run/{run.pk}/{name}.png").status_code == 404
    assert client.post(f"/figures/validation-run/{run.pk}/draw/").status_code == 404
    assert client.post(f"/figures/training-run/{under_validation.training_run.pk}/draw/").status_code == 404
    assert FigureSet.objects.count() == 1


def test_an_auditor_sees_the_stored_charts_but_not_the_decision_form(
        under_validation, auditor, validator, django_capture_on_commit_callbacks):
    run = under_validation.run
    figure_set = _drawn("validation-run", run, validator, django_capture_on_commit_callbacks)
    client = _client(auditor)
    page = client.get(f"/validation/runs/{run.pk}/").content.decode()
    assert 'id="decision-form"' not in page
    name = figure_set.figures[0]["name"]
    assert client.get(f"/figures/validation-run/{run.pk}/{name}.png").status_code == 200
