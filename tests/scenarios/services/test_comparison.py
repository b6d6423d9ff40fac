"""The champion/challenger comparison table, checked against figures computed by hand from stress rows."""

import datetime as dt
import io
from decimal import Decimal

import numpy as np
import pytest

from governance.models import ModelVersion
from governance.services.inventory import model_create, version_create
from scenarios.models import Dataset, Portfolio, ScenarioSet, StressResult
from scenarios.services.comparison import BAND, comparison_table, condition_label
from scenarios.services.scenario_sets import scenario_set_import
from scenarios.services.stress import portfolio_create, stress_run
from validation.models import ValidationPolicy, ValidationRun

pytestmark = pytest.mark.django_db

SEVERE = {"severity": "severe", "vol_multiplier": None, "targets": [], "extra": {}}
UNCONDITIONED = {"severity": None, "vol_multiplier": None, "targets": [], "extra": {}}
FED = {"severity": None, "vol_multiplier": None, "targets": [],
       "extra": {"fed_source": {"file": "2025_severely_adverse_domestic.csv", "sha256": "ef" * 32, "edition": "2025"},
                 "fed_path": {"scenario_name": "Supervisory Severely Adverse", "quarters": [], "variables": {}}}}


def make_version(model, actor, label, *, status, role="", engine="diffusion"):
    version = version_create(actor=actor, model=model, version=label, engine=engine, checkpoint_sha256="ab" * 32)
    ModelVersion.objects.filter(pk=version.pk).update(status=status, role=role)
    version.refresh_from_db()
    return version


def make_portfolio(name):
    return Portfolio.objects.create(name=name, version=1, positions={"positions": []}, factors=["SP500"],
                                    sha256=(name.encode().hex() * 64)[:64])


def stressed(version, portfolio, condition, var_99, es_99, var_995, es_995):
    """A scenario set of ``version`` with ``condition`` and one stress result with these historical figures."""
    scenario_set = ScenarioSet.objects.create(
        model_version=version, name=f"{version.version} set", source="test", purpose="use", engine=version.engine,
        condition=condition, factors=["SP500"], n_scenarios=1000, horizon=20, sha256="0" * 64, size_bytes=1,
        storage_path="none")
    historical = [{"level": 0.99, "var": var_99, "es": es_99, "method": "historical", "n": 1000},
                  {"level": 0.995, "var": var_995, "es": es_995, "method": "historical", "n": 1000}]
    return StressResult.objects.create(scenario_set=scenario_set, portfolio=portfolio, levels=[0.99, 0.995],
                                       risk={"historical": historical}, worst=[], distribution={},
                                       pnl_sha256="0" * 64, pnl_path="none")


def validation_run(scenario_set, actor, *, status, outcome):
    dataset = Dataset.objects.create(
        name="d", version=ValidationRun.objects.count() + 1, source="test", factors=["SP500"],
        column_kinds={"SP500": "prices"}, risk_classes={"SP500": "equity"}, schema={}, n_rows=10,
        start_date=dt.date(2000, 1, 3), end_date=dt.date(2000, 1, 14), nan_policy="drop", sha256="1" * 64,
        size_bytes=1, storage_path="none", increments_sha256="2" * 64, increments_path="none")
    return ValidationRun.objects.create(
        scenario_set=scenario_set, model_version=scenario_set.model_version, dataset=dataset,
        policy=ValidationPolicy.objects.order_by("pk").first(), train_end=dt.date(2000, 1, 7),
        holdout_start=dt.date(2000, 1, 10), tiers=["marginals"], parts={}, status=status, outcome=outcome, seed=1,
        created_by=actor)


def stressed_model(actor, name="Comparison model"):
    """A model with a champion, a challenger, a benchmark and two versions that must not be compared.

    Portfolio "book" (figures var_99, es_99, var_995, es_995):
        unconditioned  champion 100 120 130 150 · challenger 90 140 125 160 · benchmark 40 50 60 70
        severe         champion 200 260 280 330 (a newer row than an older 999s) · challenger 210 250 270 320
        supervisory    benchmark 500 600 700 800
    A draft and a retired version without a role have rows of 10 000 that must not appear.
    Then a newer stress of the champion on portfolio "other" (7 8 9 10), the default portfolio.
    """
    model = model_create(actor=actor, name=name, purpose="stress", business_line="Markets", family="diffusion",
                         exposure_usd=Decimal("1000000"), materiality_purpose="regulatory_stress")
    champion = make_version(model, actor, "1.0.0", status="in_use", role="champion")
    challenger = make_version(model, actor, "1.1.0", status="approved", role="challenger", engine="timegan")
    benchmark = make_version(model, actor, "0.9.0", status="validated", role="benchmark", engine="copula")
    draft = make_version(model, actor, "0.1.0", status="draft")
    retired = make_version(model, actor, "0.5.0", status="retired")
    book, other = make_portfolio("book"), make_portfolio("other")
    stressed(champion, book, UNCONDITIONED, 100, 120, 130, 150)
    stressed(challenger, book, UNCONDITIONED, 90, 140, 125, 160)
    stressed(benchmark, book, UNCONDITIONED, 40, 50, 60, 70)
    stressed(champion, book, SEVERE, 999, 999, 999, 999)
    severe_champion = stressed(champion, book, SEVERE, 200, 260, 280, 330)
    severe_challenger = stressed(challenger, book, SEVERE, 210, 250, 270, 320)
    stressed(benchmark, book, FED, 500, 600, 700, 800)
    for version in (draft, retired):
        stressed(version, book, SEVERE, 10_000, 10_000, 10_000, 10_000)
    validation_run(severe_champion.scenario_set, actor, status="SUCCEEDED", outcome="WARN")
    validation_run(severe_challenger.scenario_set, actor, status="FAILED", outcome="")
    stressed(champion, other, SEVERE, 7, 8, 9, 10)
    return {"model": model, "champion": champion, "challenger": challenger, "benchmark": benchmark,
            "book": book, "other": other, "severe_champion": severe_champion}


@pytest.fixture
def table_data(developer):
    return stressed_model(developer)


def test_labels_of_conditions():
    assert condition_label(None) == condition_label(UNCONDITIONED) == "unconditioned"
    assert condition_label(SEVERE) == "severe"
    assert condition_label({"vol_multiplier": 2.0}) == "custom"
    assert condition_label({"targets": [{"factor": "SP500", "move": -0.3, "days": 20}]}) == "custom"
    assert condition_label(FED) == "supervisory 2025 severely_adverse"
    assert condition_label({"extra": {"fed_source": {"edition": "2026", "scenario": "Supervisory Baseline"}}}) \
        == "supervisory 2026 baseline"


def test_the_rows_are_the_latest_stress_per_version_and_condition_on_the_chosen_book(table_data):
    table = comparison_table(model=table_data["model"], portfolio=table_data["book"])
    book = table_data["book"]
    assert table["model"] == table_data["model"].model_id
    assert table["portfolio"] == {"id": book.pk, "name": "book", "sha256": book.sha256}
    assert table["levels"] == [0.99, 0.995] and table["band"] == BAND == 0.5
    assert [(r["condition"], r["version"], r["role"]) for r in table["rows"]] == [
        ("unconditioned", "1.0.0", "champion"), ("unconditioned", "1.1.0", "challenger"),
        ("unconditioned", "0.9.0", "benchmark"), ("severe", "1.0.0", "champion"), ("severe", "1.1.0", "challenger"),
        ("supervisory 2025 severely_adverse", "0.9.0", "benchmark")]
    severe = table["rows"][3]
    assert {k: severe[k] for k in ("var_99", "es_99", "var_995", "es_995")} == {
        "var_99": 200.0, "es_99": 260.0, "var_995": 280.0, "es_995": 330.0}
    assert severe["stress_result"] == table_data["severe_champion"].pk
    assert severe["scenario_set"] == table_data["severe_champion"].scenario_set_id
    assert (severe["engine"], severe["status"], severe["version_id"]) == ("diffusion", "in_use",
                                                                          table_data["champion"].pk)
    assert (severe["validated"], severe["validation_outcome"]) == (True, "WARN")
    challenger = table["rows"][4]
    assert (challenger["validated"], challenger["validation_outcome"]) == (False, None)
    assert set(severe) == {"version_id", "version", "engine", "role", "status", "condition", "scenario_set",
                           "stress_result", "var_99", "es_99", "var_995", "es_995", "validated",
                           "validation_outcome"}


def test_the_most_conservative_figure_and_its_source_per_condition(table_data):
    conservative = comparison_table(model=table_data["model"], portfolio=table_data["book"])["most_conservative"]
    assert conservative["unconditioned"] == {
        "var_99": 100.0, "var_99_from": "champion v1.0.0", "es_99": 140.0, "es_99_from": "challenger v1.1.0",
        "var_995": 130.0, "var_995_from": "champion v1.0.0", "es_995": 160.0, "es_995_from": "challenger v1.1.0",
        "from": "champion v1.0.0"}
    # The Fed translation's 500 does not stand in for "severe": a supervisory condition is its own.
    assert conservative["severe"] == {
        "var_99": 210.0, "var_99_from": "challenger v1.1.0", "es_99": 260.0, "es_99_from": "champion v1.0.0",
        "var_995": 280.0, "var_995_from": "champion v1.0.0", "es_995": 330.0, "es_995_from": "champion v1.0.0",
        "from": "challenger v1.1.0"}
    assert conservative["supervisory 2025 severely_adverse"]["var_99"] == 500.0


def test_a_version_below_half_the_others_median_is_flagged(table_data):
    flags = comparison_table(model=table_data["model"], portfolio=table_data["book"])["disagreement"]
    by_key = {(f["condition"], f["measure"], f["version"]): f for f in flags}
    # unconditioned var_99: 100, 90, 40 → the benchmark against median(100, 90) = 95.
    bench = by_key[("unconditioned", "var_99", "benchmark v0.9.0")]
    assert (bench["value"], bench["median"], bench["flagged"]) == (40.0, 95.0, True)
    assert bench["ratio"] == pytest.approx(40 / 95)
    champ = by_key[("unconditioned", "var_99", "champion v1.0.0")]
    assert (champ["median"], champ["ratio"], champ["flagged"]) == (65.0, pytest.approx(100 / 65), False)
    assert by_key[("unconditioned", "es_99", "benchmark v0.9.0")]["ratio"] == pytest.approx(50 / 130)
    assert by_key[("severe", "var_99", "champion v1.0.0")]["ratio"] == pytest.approx(200 / 210)
    flagged = sorted((f["condition"], f["measure"], f["version"]) for f in flags if f["flagged"])
    assert flagged == [("unconditioned", m, "benchmark v0.9.0") for m in ("es_99", "es_995", "var_99", "var_995")]
    # 3 versions × 4 measures unconditioned + 2 × 4 severe; the single supervisory version has no peers.
    assert len(flags) == 12 + 8
    assert not any(f["condition"].startswith("supervisory") for f in flags)


def test_the_default_portfolio_is_the_one_most_recently_stressed(table_data):
    table = comparison_table(model=table_data["model"])
    assert table["portfolio"]["id"] == table_data["other"].pk
    assert [(r["condition"], r["version"], r["var_99"]) for r in table["rows"]] == [("severe", "1.0.0", 7.0)]
    assert table["disagreement"] == []
    assert table["most_conservative"]["severe"]["from"] == "champion v1.0.0"


def test_a_model_with_no_stress_results_has_an_empty_table(developer):
    model = model_create(actor=developer, name="Empty", purpose="stress", business_line="Markets",
                         family="copula", exposure_usd=Decimal("1"), materiality_purpose="informational")
    make_version(model, developer, "1.0.0", status="in_use", role="champion")
    assert comparison_table(model=model) == {"model": model.model_id, "portfolio": None, "levels": [0.99, 0.995],
                                             "rows": [], "most_conservative": {}, "disagreement": [], "band": 0.5}


def test_the_table_reads_the_figures_stress_run_computed(developer):
    model = model_create(actor=developer, name="Real stress", purpose="stress", business_line="Markets",
                         family="copula", exposure_usd=Decimal("1"), materiality_purpose="informational")
    version = make_version(model, developer, "1.0.0", status="in_use", role="champion")
    paths = np.random.default_rng(11).normal(0.0, 0.01, size=(4000, 5, 1))
    buffer = io.BytesIO()
    np.save(buffer, paths)
    scenario_set = scenario_set_import(actor=developer, data=buffer.getvalue(), filename="p.npy", name="p",
                                       factors=["SP500"])
    ScenarioSet.objects.filter(pk=scenario_set.pk).update(model_version=version)
    scenario_set.refresh_from_db()
    portfolio = portfolio_create(actor=developer, name="lin", positions=[
        {"kind": "linear", "factor": "SP500", "exposure": 1_000_000.0}])
    stress_run(actor=developer, scenario_set=scenario_set, portfolio=portfolio, levels=[0.99, 0.995])
    (row,) = comparison_table(model=model)["rows"]
    # Oracle: a linear book's loss is −exposure × the summed daily move; VaR_q is the ⌈nq⌉-th smallest loss,
    # ES_q the mean of the worst n(1 − q) losses, 40 and 20 of 4,000 here (Acerbi & Tasche 2002).
    losses = np.sort(-1_000_000.0 * paths[:, :, 0].sum(axis=1))
    for q, tag, tail in ((0.99, "99", 40), (0.995, "995", 20)):
        assert row[f"var_{tag}"] == pytest.approx(losses[int(np.ceil(len(losses) * q)) - 1])
        assert row[f"es_{tag}"] == pytest.approx(losses[-tail:].mean())
    assert row["condition"] == "unconditioned" and row["role"] == "champion"
