"""The model page shows each version's role and the champion/challenger comparison table."""

import re

import pytest
from django.test import Client

from governance.models import ModelVersion
from tests.scenarios.services.test_comparison import stressed_model

pytestmark = pytest.mark.django_db


def model_page(user, model):
    client = Client()
    client.force_login(user)
    response = client.get(f"/inventory/{model.model_id}/")
    assert response.status_code == 200
    return response.content.decode()


def section(html, heading):
    start = html.index(heading)
    end = html.find("<h2", start + 1)
    return html[start:end if end != -1 else len(html)]


def test_the_page_shows_roles_figures_in_usd_the_most_conservative_source_and_flags(auditor, developer):
    data = stressed_model(developer)
    # Figures in the millions, so the thousands separators show: the champion's newest stress on "other".
    from tests.scenarios.services.test_comparison import SEVERE, stressed

    stressed(data["challenger"], data["other"], SEVERE, 2_345_678.4, 3_000_000, 3_100_000, 3_500_000)
    stressed(data["benchmark"], data["other"], SEVERE, 1_000_000, 1_200_000, 1_300_000, 1_400_000)
    html = model_page(auditor, data["model"])
    versions = section(html, "<h2>Versions</h2>")
    assert "Champion" in versions and "Challenger" in versions and "Benchmark" in versions
    table = section(html, "Champion / challenger comparison")
    assert "portfolio <strong>other</strong>" in table
    assert "2,345,678 USD" in table and "3,500,000 USD" in table
    assert "7 USD" in table  # the champion's own small figure, same book
    conservative = section(html, "Most conservative figure per condition")
    assert re.search(r"2,345,678 USD<br><small>from challenger v1\.1\.0</small>", conservative)
    # VaR 99 %: champion 7 against median(2,345,678, 1,000,000) ≈ 0 % → flagged, with the median shown.
    assert "flagged: 0% of the others&#x27; median 1,672,839 USD" in table
    assert "VaR 99.5%" in table and "ES 99%" in table


def test_a_model_with_nothing_stressed_says_so(auditor, developer):
    data = stressed_model(developer, name="Nothing stressed yet")
    ModelVersion.objects.filter(model=data["model"]).update(status="draft", role="")
    html = model_page(auditor, data["model"])
    assert "No stress result of an approved, in-use or role-holding version" in html
