"""validate_scenarios on files, without the web app: exit 0 PASS/WARN, 1 FAIL, 2 bad input."""

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from arch.data import nasdaq, sp500

from scenarios.scenario_files import to_long

ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture(scope="module")
def history(tmp_path_factory):
    prices = pd.concat({"SP500": sp500.load()["Adj Close"], "NASDAQ": nasdaq.load()["Adj Close"]}, axis=1).dropna()
    path = tmp_path_factory.mktemp("h") / "history.csv"
    prices.rename_axis("date").reset_index().to_csv(path, index=False)
    returns = np.log(prices).diff().dropna()
    return path, returns


def run(*args):
    return subprocess.run([sys.executable, "manage.py", "validate_scenarios", *map(str, args)], cwd=ROOT,
                          capture_output=True, text=True, timeout=600,
                          env={"PATH": "/usr/bin:/bin", "CRUCIBLE_VAR_DIR": str(ROOT / "var"), "HOME": "/tmp"})


def write(paths, tmp_path, name="scenarios.parquet"):
    path = tmp_path / name
    to_long(paths, ["SP500", "NASDAQ"]).to_parquet(path)
    return path


def test_block_bootstrap_of_the_real_data_is_not_a_fail_on_stylized_facts(history, tmp_path):
    path, returns = history
    train = returns[returns.index < "2015-01-01"].to_numpy()
    rng = np.random.default_rng(0)
    starts = rng.integers(0, len(train) - 60, size=1500)
    paths = train[starts[:, None] + np.arange(60)[None, :]]
    result = run("--history", path, "--scenarios", write(paths, tmp_path), "--holdout-start", "2015-01-01",
                 "--tiers", "stylized_facts,univariate", "--json")
    assert result.returncode in (0, 1), result.stderr
    report = json.loads(result.stdout)
    assert report["tier_outcomes"]["stylized_facts"] in {"PASS", "WARN"}
    assert report["scenarios"]["shape"] == [1500, 60, 2]
    assert all("outcome" in m and "value" in m for m in report["metrics"])


def test_iid_gaussian_scenarios_fail_with_exit_1(history, tmp_path):
    path, returns = history
    train = returns[returns.index < "2015-01-01"].to_numpy()
    rng = np.random.default_rng(1)
    paths = rng.multivariate_normal(train.mean(0), np.cov(train.T), size=(1500, 60))
    result = run("--history", path, "--scenarios", write(paths, tmp_path), "--holdout-start", "2015-01-01",
                 "--tiers", "stylized_facts", "--json")
    assert result.returncode == 1, result.stderr
    assert json.loads(result.stdout)["outcome"] == "FAIL"


def test_bad_input_exits_2_with_a_message(history, tmp_path):
    path, _ = history
    wrong = tmp_path / "wrong.parquet"
    to_long(np.zeros((3, 5, 2)), ["SP500", "GOLD"]).to_parquet(wrong)
    result = run("--history", path, "--scenarios", wrong, "--json")
    assert result.returncode == 2 and "GOLD" in result.stderr
    result = run("--history", tmp_path / "missing.csv", "--scenarios", wrong)
    assert result.returncode == 2 and "no such file" in result.stderr
    nan = write(np.full((3, 5, 2), np.nan), tmp_path, "nan.parquet")
    result = run("--history", path, "--scenarios", nan)
    assert result.returncode == 2 and "not finite" in result.stderr
    result = run("--history", path, "--scenarios", wrong, "--tiers", "vibes")
    assert result.returncode == 2
