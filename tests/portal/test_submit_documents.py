"""The submission preparer (issue 17 §5): generate the documentation PDF and build the submission packet from a
version's page, each as a run (303 to the job page), then download; the auditor reads but requests nothing."""

from __future__ import annotations

import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from governance.models import AuditEvent
from reports.models import Packet, Report
from reports.services.packets import packet_execute, packet_path
from tests.reports.packet_support import make_report
from tests.reports.test_document_defaults import development_copy

pytestmark = pytest.mark.django_db


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def checked_values(html: str, name: str) -> list[str]:
    """The values a browser would post for the ticked checkboxes called ``name``."""
    boxes = re.findall(rf'<input type="checkbox" name="{name}"[^>]*>', html)
    return [re.search(r'value="(\d+)"', b).group(1) for b in boxes if " checked" in b]


def test_the_submission_page_ticks_only_validated_use_and_validation_sets(documented_version, developer, validator):
    dev = development_copy(documented_version.scenario_set, validator=validator)
    html = client_for(developer).get(f"/versions/{documented_version.version.pk}/submission/").content.decode()
    assert "Generate documentation" in html and "Build submission packet" in html
    assert f'value="{dev.pk}"' in html  # offered (it is validated) ...
    assert checked_values(html, "scenario_sets") == [str(documented_version.scenario_set.pk)]  # ... not ticked
    assert checked_values(html, "validation_runs") == [str(documented_version.validation_run.pk)]
    assert '<label for="id_scenario_sets_0">' in html


def test_a_developer_generates_documentation_and_is_sent_to_the_job_page(documented_version, developer, validator,
                                                                        django_capture_on_commit_callbacks):
    version = documented_version.version
    dev = development_copy(documented_version.scenario_set, validator=validator)
    client = client_for(developer)
    html = client.get(f"/versions/{version.pk}/submission/").content.decode()
    data = {"scenario_sets": checked_values(html, "scenario_sets"),
            "validation_runs": checked_values(html, "validation_runs")}
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = client.post(f"/versions/{version.pk}/submission/documentation/", data)
    assert response.status_code == 303
    report = Report.objects.get()
    assert response["Location"] == f"/jobs/report/{report.pk}/"
    assert len(callbacks) == 1  # the render is queued, not run in the request
    assert report.status == "PENDING" and report.created_by == developer
    assert list(report.scenario_sets.values_list("pk", flat=True)) == [documented_version.scenario_set.pk]
    assert not report.scenario_sets.filter(pk=dev.pk).exists()
    assert AuditEvent.objects.filter(action="report.requested", object_id=str(report.pk)).exists()
    # the page now lists it, with a link to its progress
    listed = client.get(f"/versions/{version.pk}/submission/").content.decode()
    assert f'href="/jobs/report/{report.pk}/"' in listed


@pytest.mark.parametrize(("data", "error"), [
    ({"scenario_sets": []}, "Tick at least one validated scenario set"),
    ({"scenario_sets": ["999999"]}, "Select a valid choice"),
    ({"scenario_sets": ["abc"]}, "is not a valid value"),
])
def test_bad_documentation_options_show_the_form_again_with_400_and_nothing_written(documented_version, developer,
                                                                                    data, error):
    before = AuditEvent.objects.count()
    response = client_for(developer).post(f"/versions/{documented_version.version.pk}/submission/documentation/",
                                          data)
    assert response.status_code == 400
    assert error in response.content.decode()
    assert Report.objects.count() == 0 and AuditEvent.objects.count() == before


def test_a_run_of_a_set_not_ticked_is_refused_next_to_the_field(documented_version, developer, validator):
    dev = development_copy(documented_version.scenario_set, validator=validator)
    dev_run = dev.validation_runs.get()
    response = client_for(developer).post(
        f"/versions/{documented_version.version.pk}/submission/documentation/",
        {"scenario_sets": [documented_version.scenario_set.pk], "validation_runs": [dev_run.pk]})
    assert response.status_code == 400
    assert f"run {dev_run.pk}" in response.content.decode()
    assert Report.objects.count() == 0


def test_a_developer_builds_a_packet_from_a_finished_report_and_downloads_it(documented_version, developer, auditor,
                                                                             django_capture_on_commit_callbacks):
    version = documented_version.version
    report = make_report(documented_version, actor=developer)
    client = client_for(developer)
    html = client.get(f"/versions/{version.pk}/submission/").content.decode()
    assert f'href="/documents/reports/{report.pk}.pdf"' in html
    assert f'<option value="{report.pk}"' in html
    with django_capture_on_commit_callbacks(execute=False):
        response = client.post(f"/versions/{version.pk}/submission/packet/", {"report": report.pk})
    assert response.status_code == 303
    packet = Packet.objects.get()
    assert response["Location"] == f"/jobs/packet/{packet.pk}/"
    packet_execute(packet.pk, worker="test-worker")  # what the worker does
    packet.refresh_from_db()
    assert packet.status == "SUCCEEDED", packet.error
    html = client.get(f"/versions/{version.pk}/submission/").content.decode()
    assert f'href="/documents/packets/{packet.pk}.zip"' in html
    download = client.get(f"/documents/packets/{packet.pk}.zip")
    assert download.status_code == 200
    data = b"".join(download.streaming_content)
    assert data == packet_path(packet).read_bytes()

    # the packet, uploaded to the verify page: every file OK, signature valid, the audit excerpt's chain OK
    checker = Client()
    checker.force_login(auditor)
    response = checker.post("/packets/verify/", {"packet": SimpleUploadedFile("p.zip", data)})
    assert response.status_code == 200
    result = response.context["result"]
    assert result.ok, result.verdict
    assert {r.status for r in result.rows} == {"OK"} and len(result.rows) == len(packet.files)
    assert result.signature == "valid" and result.excerpt_ok is True
    assert "chain OK" in response.content.decode()


def test_a_packet_needs_a_finished_report_of_this_version(documented_version, developer):
    report = make_report(documented_version, actor=developer)
    Report.objects.filter(pk=report.pk).update(status="RUNNING")
    response = client_for(developer).post(f"/versions/{documented_version.version.pk}/submission/packet/",
                                          {"report": report.pk})
    assert response.status_code == 400
    assert "Select a valid choice" in response.content.decode()
    assert Packet.objects.count() == 0


@pytest.mark.parametrize("role", ["validator", "approver", "admin"])
def test_the_other_requester_roles_may_generate_documentation(documented_version, users, role,
                                                              django_capture_on_commit_callbacks):
    version = documented_version.version
    with django_capture_on_commit_callbacks(execute=False):
        response = client_for(users[role]).post(f"/versions/{version.pk}/submission/documentation/",
                                                {"scenario_sets": [documented_version.scenario_set.pk]})
    assert response.status_code == 303
    assert Report.objects.get().created_by == users[role]


def test_the_auditor_reads_the_documents_but_gets_403_on_generate_and_build(documented_version, developer, auditor):
    version = documented_version.version
    report = make_report(documented_version, actor=developer)
    client = client_for(auditor)
    html = client.get(f"/versions/{version.pk}/submission/").content.decode()
    assert f'href="/documents/reports/{report.pk}.pdf"' in html  # downloads stay
    assert 'id="documentation-form"' not in html and 'id="packet-form"' not in html
    assert "read-only" in html
    before = (Report.objects.count(), Packet.objects.count(), AuditEvent.objects.count())
    response = client.post(f"/versions/{version.pk}/submission/documentation/",
                           {"scenario_sets": [documented_version.scenario_set.pk]})
    assert response.status_code == 403
    response = client.post(f"/versions/{version.pk}/submission/packet/", {"report": report.pk})
    assert response.status_code == 403
    assert (Report.objects.count(), Packet.objects.count(), AuditEvent.objects.count()) == before


def test_generate_and_build_answer_post_only(documented_version, developer):
    client = client_for(developer)
    for action in ("documentation", "packet"):
        assert client.get(f"/versions/{documented_version.version.pk}/submission/{action}/").status_code == 405


def test_a_developer_of_another_version_cannot_build_its_packet(documented_version, make_user, developer):
    from governance import roles

    other = make_user("dev2", roles.DEVELOPER)
    report = make_report(documented_version, actor=developer)
    response = client_for(other).post(f"/versions/{documented_version.version.pk}/submission/packet/",
                                      {"report": report.pk})
    assert response.status_code in (403, 404)
    assert Packet.objects.count() == 0


def test_the_partial_renders_on_its_own_as_the_version_page_includes_it(documented_version, developer, auditor, rf):
    """``{% include "portal/submit/_version_documents.html" %}`` in version.html: the partial finds its own data."""
    from django.template import RequestContext, Template

    template = Template('{% include "portal/submit/_version_documents.html" %}')
    report = make_report(documented_version, actor=developer)
    for user, forms in ((developer, True), (auditor, False)):
        request = rf.get(f"/versions/{documented_version.version.pk}/")
        request.user = user
        html = template.render(RequestContext(request, {"version": documented_version.version}))
        assert f'href="/documents/reports/{report.pk}.pdf"' in html
        assert ('id="documentation-form"' in html) is forms and ('id="packet-form"' in html) is forms
        assert ('csrfmiddlewaretoken' in html) is forms
