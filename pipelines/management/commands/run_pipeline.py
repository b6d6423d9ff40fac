"""``python manage.py run_pipeline``: the demo's pipeline on any imported dataset (your own data).

    python manage.py import_dataset prices.csv --name my_book_factors
    python manage.py run_pipeline --dataset my_book_factors --engine garch_evt_copula --scenarios 5000 \\
        --horizon 20 --train-end 2019-12-31 --holdout-start 2020-01-01 [--challenger diffusion] [--json]
"""

from __future__ import annotations

import datetime as dt
import json
import os
from pathlib import Path

from django.core.management.base import CommandError

from pipelines import services as pipeline
from pipelines.management.commands.demo import PipelineCommand


def _date(text: str, option: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise CommandError(f"{option} {text!r}: use a date like 2014-12-31") from None


def _config(text: str | None, option: str) -> dict:
    if not text:
        return {}
    try:
        value = json.loads(text)
    except json.JSONDecodeError as error:
        raise CommandError(f"{option}: not JSON ({error.msg})") from None
    if not isinstance(value, dict):
        raise CommandError(f"{option}: a JSON object of engine settings, e.g. '{{\"epochs\": 10}}'")
    return value


class Command(PipelineCommand):
    help = "Run the end-to-end pipeline (train, generate, stress, validate, review, report, packet) on a dataset."

    def add_arguments(self, parser):
        parser.add_argument("--dataset", required=True, help="name of an imported dataset (its latest version)")
        parser.add_argument("--engine", required=True, help="engine of the version to document, e.g. diffusion")
        parser.add_argument("--config", help="the engine's configuration as JSON")
        parser.add_argument("--challenger", help="a second engine trained and compared as challenger")
        parser.add_argument("--challenger-config", help="the challenger's configuration as JSON")
        parser.add_argument("--scenarios", type=int, required=True, help="scenarios per set")
        parser.add_argument("--horizon", type=int, required=True, help="days per scenario")
        parser.add_argument("--train-end", required=True, help="last day of the training window (YYYY-MM-DD)")
        parser.add_argument("--holdout-start", required=True, help="first day of the holdout (YYYY-MM-DD)")
        parser.add_argument("--holdout-end", help="last day of the holdout (default: the data's end)")
        parser.add_argument("--model-name", default=None, help="name of the inventory record")
        parser.add_argument("--exposure-usd", default="750000000", help="materiality: exposure in USD")
        parser.add_argument("--materiality-purpose", default="regulatory_stress")
        parser.add_argument("--fed-dir", default=None, help="the Fed's supervisory tables (translation if found)")
        self.add_common_arguments(parser)

    def handle(self, *args, **o):
        from decimal import Decimal, InvalidOperation

        out = self.out_dir(o["out"])
        try:
            exposure = Decimal(o["exposure_usd"])
        except InvalidOperation:
            raise CommandError(f"--exposure-usd {o['exposure_usd']!r}: not a number") from None
        engines = [pipeline.EngineSpec("champion", o["engine"], _config(o["config"], "--config"), "1.0.0")]
        if o["challenger"]:
            engines.append(pipeline.EngineSpec("challenger", o["challenger"],
                                               _config(o["challenger_config"], "--challenger-config"), "1.1.0"))
        config = pipeline.PipelineSettings(
            engines=tuple(engines), builtin=None, dataset=o["dataset"], n_scenarios=o["scenarios"],
            horizon=o["horizon"], train_end=_date(o["train_end"], "--train-end"),
            holdout_start=_date(o["holdout_start"], "--holdout-start"),
            holdout_end=_date(o["holdout_end"], "--holdout-end") if o["holdout_end"] else None,
            crisis=None, fed_dir=Path(o["fed_dir"]) if o["fed_dir"] else None, use_fed=bool(o["fed_dir"]),
            fed_scenarios=max(1, min(1000, o["scenarios"])),
            model_name=o["model_name"] or f"{o['engine']} stress scenarios on {o['dataset']}",
            exposure_usd=exposure, materiality_purpose=o["materiality_purpose"],
            password=os.environ.get(pipeline.PASSWORD_ENV) or None, timeout_s=o["timeout"])
        summary = self.execute_pipeline(config, out=out, as_json=o["json"])
        self.emit(summary, as_json=o["json"], title=f"Pipeline on {o['dataset']}")
