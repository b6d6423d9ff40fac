"""Data migration: a new policy version per model tier with graded bounds for the backtest LR tests.

Version 1 left Kupiec's POF and Christoffersen's independence and conditional-coverage statistics
with their 5 % critical values only, so a p-value of 0.049 failed a run outright while every other
metric has a WARN band. The new version keeps the 5 % critical value as the pass bound and adds the
1 % critical value as the WARN bound (chi-squared with 1, 1 and 2 degrees of freedom): evidence
against the model at 1-5 % is recorded as a warning for the validator's judgement, below 1 % it
fails — the graded reading of the Basel (1996) traffic light's yellow zone. Critical values are
significance levels, so they are the same for every tier.
"""

from django.db import migrations

# scipy.stats.chi2.ppf(0.95, df) and chi2.ppf(0.99, df), frozen here
BACKTEST_BOUNDS = {
    "kupiec_pof": {"threshold": 3.841459, "warn": 6.634897},
    "christoffersen_independence": {"threshold": 3.841459, "warn": 6.634897},
    "christoffersen_cc": {"threshold": 5.991465, "warn": 9.21034},
}
NOTE = ("backtest LR tests: pass at the 5 % critical value, WARN up to the 1 % critical value "
        "(validation/migrations/0003_backtest_warn_bounds.py)")


def create(apps, schema_editor):
    Policy = apps.get_model("validation", "ValidationPolicy")
    for tier in (1, 2, 3):
        latest = Policy.objects.filter(model_tier=tier).order_by("-version").first()
        if latest is None or all(latest.thresholds.get(k) == v for k, v in BACKTEST_BOUNDS.items()):
            continue
        Policy.objects.create(model_tier=tier, version=latest.version + 1,
                              thresholds=dict(latest.thresholds) | BACKTEST_BOUNDS,
                              noise_floor=latest.noise_floor, note=NOTE)


def remove(apps, schema_editor):
    Policy = apps.get_model("validation", "ValidationPolicy")
    Policy.objects.filter(note=NOTE, runs__isnull=True).delete()


class Migration(migrations.Migration):
    dependencies = [("validation", "0002_default_policies")]
    operations = [migrations.RunPython(create, remove)]
