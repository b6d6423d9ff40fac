import numpy as np
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from scipy import stats

from governance.errors import InvalidInput
from governance.models import LineageEdge
from scenarios.engines import revaluation
from scenarios.services.scenario_sets import scenario_set_import
from scenarios.services.stress import portfolio_create, portfolio_create_from_csv, stress_run

pytestmark = pytest.mark.django_db

BOOK = [
    {"kind": "linear", "factor": "SP500", "exposure": 1_000_000.0, "name": "index"},
    {"kind": "linear", "factor": "NASDAQ", "exposure": 500_000.0, "name": "tech"},
    {"kind": "quadratic", "factor": "WTI", "exposure": 200_000.0, "convexity": -50_000.0, "name": "oil"},
    {"kind": "option", "underlying": "SP500", "option_type": "put", "quantity": 100.0, "strike": 2500.0,
     "expiry": 0.5, "spot": 2600.0, "vol": 0.2, "rate": 0.02, "name": "index put"},
    {"kind": "bond", "rate_factor": "UST10Y", "quantity": 1000.0, "coupon": 0.03, "maturity": 10.0,
     "yield0": 0.03, "name": "10y bond"},
]


@pytest.fixture
def gaussian_set(developer):
    rng = np.random.default_rng(0)
    paths = rng.normal(0, 0.01, size=(20000, 5, 4))
    import io

    buffer = io.BytesIO()
    np.save(buffer, paths)
    return scenario_set_import(actor=developer, data=buffer.getvalue(), filename="g.npy", name="gaussian",
                               factors=["SP500", "NASDAQ", "WTI", "UST10Y"]), paths


def test_stress_of_the_sample_book(developer, gaussian_set):
    scenario_set, paths = gaussian_set
    portfolio = portfolio_create(actor=developer, name="sample", positions=BOOK)
    assert portfolio.factors == ["NASDAQ", "SP500", "UST10Y", "WTI"] and portfolio.version == 1
    result = stress_run(actor=developer, scenario_set=scenario_set, portfolio=portfolio, levels=[0.99], k=5)
    book = revaluation.Portfolio.from_dict(portfolio.positions)
    expected = revaluation.revalue(paths, ["SP500", "NASDAQ", "WTI", "UST10Y"], book)
    losses = np.sort(expected.losses)
    var99 = losses[int(np.ceil(0.99 * len(losses))) - 1]
    assert result.risk["historical"][0]["var"] == pytest.approx(var99)
    assert result.risk["historical"][0]["es"] >= result.risk["historical"][0]["var"]
    assert len(result.worst) == 5 and result.worst[0]["loss"] == pytest.approx(losses[-1])
    assert LineageEdge.objects.filter(source__uid=f"stress:{result.pk}", relation="used").count() == 2


def test_a_linear_book_on_gaussian_scenarios_matches_the_closed_form(developer, gaussian_set):
    scenario_set, _ = gaussian_set
    portfolio = portfolio_create(actor=developer, name="lin", positions=[
        {"kind": "linear", "factor": "SP500", "exposure": 1.0}])
    result = stress_run(actor=developer, scenario_set=scenario_set, portfolio=portfolio, levels=[0.99])
    sigma = 0.01 * np.sqrt(5)  # five iid days
    assert result.risk["historical"][0]["var"] == pytest.approx(sigma * stats.norm.ppf(0.99), rel=0.05)


def test_bad_portfolios_and_mismatched_factors(developer, gaussian_set):
    scenario_set, _ = gaussian_set
    with pytest.raises(InvalidInput, match="positions\\[0\\]"):
        portfolio_create(actor=developer, name="bad", positions=[{"kind": "option", "underlying": "SP500"}])
    other = portfolio_create(actor=developer, name="gold", positions=[
        {"kind": "linear", "factor": "GOLD", "exposure": 1.0}])
    with pytest.raises(InvalidInput, match="GOLD"):
        stress_run(actor=developer, scenario_set=scenario_set, portfolio=other)
    with pytest.raises(InvalidInput, match="row 1"):
        portfolio_create_from_csv(actor=developer, name="csv", data=b"kind,factor,exposure\nlinear,SP500,abc\n")


def test_portfolio_csv_upload_and_stress_api(api, developer, auditor, gaussian_set):
    scenario_set, _ = gaussian_set
    csv = SimpleUploadedFile("book.csv", b"kind,factor,exposure\nlinear,SP500,1000\nlinear,WTI,-200\n")
    created = api(developer).post("/api/v1/portfolios/upload/", {"file": csv, "name": "csv-book"},
                                  format="multipart")
    assert created.status_code == 201, created.content
    response = api(developer).post("/api/v1/stress-results/", {"scenario_set": scenario_set.pk,
                                                               "portfolio": created.json()["id"]}, format="json")
    assert response.status_code == 201, response.content
    assert [m["level"] for m in response.json()["risk"]["historical"]] == [0.95, 0.99, 0.995]
    assert api(auditor).get(f"/api/v1/stress-results/{response.json()['id']}/").status_code == 200
    assert api(auditor).post("/api/v1/stress-results/", {"scenario_set": scenario_set.pk,
                                                         "portfolio": created.json()["id"]},
                             format="json").status_code == 403
    bad = api(developer).post("/api/v1/portfolios/", {"name": "x", "positions": [{"kind": "swap"}]}, format="json")
    assert bad.status_code == 400 and "kind" in bad.json()["error"]["message"]
