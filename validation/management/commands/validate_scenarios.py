"""Validate any scenario set (e.g. a vendor's) against a history file, without the web app.

    python manage.py validate_scenarios --history H.csv --scenarios S.parquet \\
        [--kind prices|returns|levels|rates] [--date-column date] [--holdout-start DATE] [--tier 1|2|3] --json

Exit status: 0 PASS or WARN, 1 FAIL, 2 bad input.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pandas as pd
from django.core.management.base import BaseCommand

from scenarios import datasets as checks
from scenarios import scenario_files
from validation import suite
from validation.outcomes import finite_json, judge, summarise
from validation.policy_defaults import SETTINGS, thresholds_for


class BadInput(Exception):
    pass


class Command(BaseCommand):
    help = "Run the validation suite on a scenario file against a history file; exit 0 PASS/WARN, 1 FAIL, 2 bad input."

    def add_arguments(self, parser):
        parser.add_argument("--history", required=True, help="CSV/Parquet: a date column and one column per factor")
        parser.add_argument("--scenarios", required=True, help="scenario file (long format Parquet/CSV, or .npy)")
        parser.add_argument("--factors", help="comma-separated factor names, for a .npy scenario file")
        parser.add_argument("--kind", default="prices", choices=checks.COLUMN_KINDS,
                            help="how history columns become increments")
        parser.add_argument("--date-column", default="date")
        parser.add_argument("--holdout-start", help="first day of the holdout (default: the last 20%% of history)")
        parser.add_argument("--tier", type=int, default=2, choices=(1, 2, 3), help="policy of this model tier")
        parser.add_argument("--tiers", help="comma-separated suite tiers to run (default: all)")
        parser.add_argument("--seed", type=int, default=0)
        parser.add_argument("--json", action="store_true")

    def handle(self, *args, **o):
        try:
            report = self.validate(o)
        except (BadInput, ValueError, OSError) as error:
            self.stderr.write(f"validate_scenarios: {error}")
            sys.exit(2)
        if o["json"]:
            self.stdout.write(json.dumps(report, indent=2, allow_nan=False))
        else:
            self.stdout.write(f"overall: {report['outcome']}")
            for tier, outcome in report["tier_outcomes"].items():
                self.stdout.write(f"  {tier:16s} {outcome}")
        sys.exit(1 if report["outcome"] == "FAIL" else 0)

    def validate(self, o) -> dict:
        history_path, scenario_path = Path(o["history"]), Path(o["scenarios"])
        for path in (history_path, scenario_path):
            if not path.is_file():
                raise BadInput(f"{path}: no such file")
        if history_path.suffix.lower() == ".parquet":
            raw = pd.read_parquet(history_path, **scenario_files.SINGLE_THREADED)
        else:
            raw = pd.read_csv(history_path, dtype=str, keep_default_na=False, na_values=["", "NA", "NaN", "."])
        checked = checks.check_table(raw, date_column=o["date_column"], nan_policy="drop")
        factors = [str(c) for c in checked.frame.columns]
        checks.check_kinds(factors, {f: o["kind"] for f in factors}, checked.frame)
        increments = checks.increments(checked.frame, {f: o["kind"] for f in factors})
        if o["holdout_start"]:
            holdout_start = pd.Timestamp(o["holdout_start"])
        else:
            holdout_start = increments.index[int(len(increments) * 0.8)]
        train_end = increments.index[increments.index < holdout_start].max()
        if pd.isna(train_end):
            raise BadInput(f"no history before the holdout start {holdout_start.date()}")
        train_mask, holdout_mask = checks.split_windows(increments.index, train_start=None, train_end=train_end,
                                                        holdout_start=holdout_start, holdout_end=None)
        try:
            synthetic, names = scenario_files.read_scenario_file(
                scenario_path.read_bytes(), filename=scenario_path.name,
                factors=o["factors"].split(",") if o["factors"] else None, expected_factors=factors)
        except scenario_files.ScenarioFileError as error:
            raise BadInput(str(error)) from error
        tiers = suite.check_tiers(o["tiers"].split(",") if o["tiers"] else None)
        inputs = suite.Inputs(synthetic=synthetic, train=increments[train_mask].to_numpy(),
                              holdout=increments[holdout_mask].to_numpy(), factors=names,
                              kinds=["equity" if o["kind"] == "prices" else "other"] * len(names),
                              history=increments, train_end=train_end.date())
        rng = np.random.default_rng(o["seed"])
        results = suite.statistical(inputs, tiers, rng=rng) + suite.neural(inputs, tiers, seed=o["seed"])
        judged = judge(results, thresholds_for(o["tier"]), settings=SETTINGS)
        tier_outcomes, outcome = summarise(judged)
        return {
            "outcome": outcome, "tier_outcomes": tier_outcomes, "policy_tier": o["tier"],
            "history": {"file": str(history_path), "rows": len(increments), "train_end": str(train_end.date()),
                        "holdout_start": str(holdout_start.date())},
            "scenarios": {"file": str(scenario_path), "shape": list(synthetic.shape), "factors": names},
            "metrics": [_row(item) for item in judged],
        }


def _row(item) -> dict:
    return finite_json({**item.result.to_dict(), "outcome": item.outcome, "threshold": item.threshold,
                        "warn": item.warn})
