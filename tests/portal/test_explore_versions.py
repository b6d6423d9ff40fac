"""Explore pages on real runs (issue 17 §6/§7): the version timeline from the audit trail, the artefact
browser's hashes, the run comparison's deltas and charts, lineage search and the default walk."""

from __future__ import annotations

import re
import time

import pytest
from django.test import Client

from governance.models import AuditEvent, LineageEdge, LineageNode
from validation.models import MetricRow

pytestmark = pytest.mark.django_db


def _client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def two_runs(under_validation, validator, django_capture_on_commit_callbacks):
    """The fixture's validation run and a second one, on fewer tiers, of the same set."""
    from validation.services.runs import validation_part_execute, validation_run_start

    with django_capture_on_commit_callbacks(execute=False):
        run = validation_run_start(actor=validator, scenario_set=under_validation.scenario_set,
                                   tiers=["multivariate", "temporal"])
    for part in ("statistical", "neural"):
        validation_part_execute(run.pk, part, worker=f"{part}-worker")
    run.refresh_from_db()
    assert run.status == "SUCCEEDED", run.error
    under_validation.run2 = run
    return under_validation


def test_the_model_page_shows_the_version_timeline_in_audit_order(under_validation, validator):
    version = under_validation.version
    html = _client(validator).get(f"/inventory/{version.model.model_id}/").content.decode()
    timeline = html[html.index('<ol class="timeline">'):html.index("</ol>", html.index('<ol class="timeline">'))]
    shown = re.findall(r"<strong>([a-z_]+)</strong>", timeline)
    events = AuditEvent.objects.filter(object_type="model_version", object_id=str(version.pk)).order_by("seq")
    expected = [e.after["status"] for e in events
                if isinstance(e.after, dict) and "status" in e.after
                and (e.action == "version.created" or (e.before or {}).get("status") != e.after["status"])]
    assert shown == expected
    assert shown[0] == "draft" and shown[-1] == "in_validation" and len(shown) >= 3
    # Each entry names who did it.
    assert "by dev" in timeline or "by " in timeline


def test_the_artefact_browser_shows_the_stored_hashes_with_their_lineage(under_validation, validator):
    version, run = under_validation.version, under_validation.run
    dataset = under_validation.training_run.dataset
    html = _client(validator).get(f"/versions/{version.pk}/").content.decode()
    section = html[html.index('id="artefacts"'):html.index("</table>", html.index('id="artefacts"'))]
    for sha, uid in ((dataset.sha256, f"dataset:{dataset.pk}"),
                     (version.checkpoint_sha256, f"checkpoint:{version.checkpoint_sha256}"),
                     (under_validation.scenario_set.sha256, f"scenario_set:{under_validation.scenario_set.pk}"),
                     (run.results_sha256, f"validation_result:{run.pk}"),
                     (under_validation.stress.pnl_sha256, f"stress_result:{under_validation.stress.pk}")):
        assert sha and f'<code class="sha">{sha}</code>' in section, uid
        node = LineageNode.objects.get(uid=uid)
        assert node.sha256 in ("", sha), uid  # the lineage node records the same bytes
        assert f'href="/lineage/{uid}/"' in section, uid


def test_comparing_two_runs_shows_the_stored_metric_differences_and_svg_charts(two_runs, validator, monkeypatch):
    first, second = two_runs.run, two_runs.run2
    client = _client(validator)
    started = time.perf_counter()
    response = client.get(f"/compare/runs/?ids={first.pk}&ids={second.pk}")
    elapsed = time.perf_counter() - started
    assert response.status_code == 200
    html = response.content.decode()
    base = {(m.tier, m.name, m.factor): m.value for m in MetricRow.objects.filter(run=first)}
    other = {(m.tier, m.name, m.factor): m.value for m in MetricRow.objects.filter(run=second)}
    expected = sorted(other[k] - base[k] for k in base.keys() & other.keys()
                      if base[k] is not None and other[k] is not None)
    shown = sorted(float(v) for v in re.findall(r'data-delta="([^"]+)"', html))
    assert expected and shown == pytest.approx(expected, rel=1e-9, abs=1e-12)
    # Overlaid charts as inline SVG: two fans (bands and medians) and the stress loss distribution.
    assert html.count("<polyline") >= 3 and "<polygon" in html
    fan = html[html.index('id="fan-chart"'):html.index("</figure>", html.index('id="fan-chart"'))]
    assert fan.count("<polyline") == 2 and fan.count("<polygon") == 4 and "<img" not in fan
    assert elapsed < 5
    # The model page offers the runs to pick.
    model_page = client.get(f"/inventory/{two_runs.version.model.model_id}/").content.decode()
    assert f'name="ids" value="{first.pk}"' in model_page and f'name="ids" value="{second.pk}"' in model_page
    # Only differences: the rows whose outcomes differ.
    only = client.get(f"/compare/runs/?ids={first.pk}&ids={second.pk}&differences=1").content.decode()
    assert only.count("<tr class=\"differs\">") == len(re.findall(r'<tr class="differs">', html))
    # A set too large to read in a request is not read: the stored fan charts are shown instead.
    from portal.views import compare

    monkeypatch.setattr(compare, "FAN_MAX_VALUES", 10)
    large = client.get(f"/compare/runs/?ids={first.pk}&ids={second.pk}").content.decode()
    assert "too large to read in a page" in large and "<polygon" not in large
    # Once the sets' figure sets have run, their stored quantiles are overlaid whatever the sets' size.
    from reports.services.figure_sets import figure_set_ensure, figure_set_execute

    for run in (first, second):
        figure_set_execute(figure_set_ensure(subject_kind="scenario-set", subject=run.scenario_set).id)
    stored = client.get(f"/compare/runs/?ids={first.pk}&ids={second.pk}").content.decode()
    fan = stored[stored.index('id="fan-chart"'):stored.index("</figure>", stored.index('id="fan-chart"'))]
    assert fan.count("<polygon") == 4 and "<img" not in fan
    # A factor that is not in the sets is refused.
    assert client.get(f"/compare/runs/?ids={first.pk}&ids={second.pk}&factor=nope").status_code == 400


def test_lineage_search_finds_a_node_by_a_sha256_prefix(under_validation, validator):
    scenario_set = under_validation.scenario_set
    client = _client(validator)
    prefix = scenario_set.sha256[:10]
    start = client.get(f"/lineage/?q={prefix}").content.decode()
    assert f"?uid=scenario_set:{scenario_set.pk}" in start
    page = client.get(f"/lineage/model_version:{under_validation.version.pk}/?direction=both&depth=4&find={prefix}")
    html = page.content.decode()
    matches = html[html.index('id="matches-title"'):html.index("</section>", html.index('id="matches-title"'))]
    assert "1 node match" in matches and f"scenario_set:{scenario_set.pk}" in matches
    # The drawn node carries the match class, the table row too.
    assert re.search(r'<g id="n_\d+" class="node[^"]*\bmatch\b', html)
    assert re.search(rf'<tr id="row-\d+" data-uid="scenario_set:{scenario_set.pk}"[^>]*class="[^"]*match', html)
    # The picker groups entities by kind.
    picker = client.get("/lineage/").content.decode()
    assert '<optgroup label="scenario_set' in picker and f'value="scenario_set:{scenario_set.pk}"' in picker
    # Collapsing a kind draws one node for all of it.
    collapsed = client.get(f"/lineage/model_version:{under_validation.version.pk}/?direction=both&depth=6"
                           "&agents=1&collapse=user&collapse=worker").content.decode()
    assert "× worker (collapsed)" in collapsed


def _hops_up(start: LineageNode, target: LineageNode) -> int | None:
    frontier, seen, hops = {start.pk}, {start.pk}, 0
    while frontier:
        if target.pk in frontier:
            return hops
        nxt = set(LineageEdge.objects.filter(source_id__in=frontier).values_list("target_id", flat=True)) - seen
        seen |= nxt
        frontier, hops = nxt, hops + 1
    return None


def test_the_default_walk_from_a_packet_reaches_its_dataset(packeted, auditor):
    from portal.views.audit import default_walk

    packet_node = LineageNode.objects.get(uid=f"packet:{packeted.packet.pk}")
    dataset = packeted.training_run.dataset
    hops = _hops_up(packet_node, LineageNode.objects.get(uid=f"dataset:{dataset.pk}"))
    direction, depth = default_walk("packet")
    assert hops is not None and direction == "up" and hops <= depth, (hops, depth)
    client = _client(auditor)
    # Picked from the start page with no options, the walk shows the dataset.
    picked = client.get(f"/lineage/?uid=packet:{packeted.packet.pk}")
    assert picked.status_code == 302
    html = client.get(picked["Location"]).content.decode()
    assert f'data-uid="dataset:{dataset.pk}"' in html
    assert f'data-uid="dataset:{dataset.pk}"' in client.get(f"/lineage/packet:{packeted.packet.pk}/").content.decode()
    # The version page lists the PDF and the packet with their hashes and downloads.
    version_page = client.get(f"/versions/{packeted.version.pk}/").content.decode()
    assert packeted.packet.sha256 in version_page and packeted.report.sha256 in version_page
    assert f"/documents/packets/{packeted.packet.pk}.zip" in version_page
    assert f"/documents/reports/{packeted.report.pk}.pdf" in version_page
