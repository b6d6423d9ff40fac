"""Data migration: a new policy version per model tier with a graded bound for the ES backtest Z2.

Version 2 judged Acerbi & Székely's Z2 against its 5 % critical value only (-0.70), so a Z2 of -0.75 failed
a run outright. The paper gives Z2 the Basel traffic light's zones: the 5 % critical value -0.70 and the
0.01 % one -1.8 (Acerbi & Székely 2014, "Backtesting Expected Shortfall", Risk, Dec. 2014: the two
thresholds they tabulate for Z2, nearly the same across the Student-t tails they tried). Below -0.70 is now WARN (a finding for the validator), below -1.8 FAIL.
The Basel traffic light itself needs no policy entry: its yellow zone's upper count depends on the
holdout's length, so the metric carries it (``details["warn_bound"]``, read by ``validation.outcomes``).
Significance levels, so the same for every tier.
"""

from django.db import migrations

ES_BOUNDS = {"es_backtest_z2": {"threshold": -0.7, "warn": -1.8}}
NOTE = ("ES backtest Z2: pass above -0.70 (5 %), WARN down to -1.8 (0.01 %), Acerbi & Szekely 2014 "
        "(validation/migrations/0004_es_backtest_warn_bound.py)")


def create(apps, schema_editor):
    Policy = apps.get_model("validation", "ValidationPolicy")
    for tier in (1, 2, 3):
        latest = Policy.objects.filter(model_tier=tier).order_by("-version").first()
        if latest is None or all(latest.thresholds.get(k) == v for k, v in ES_BOUNDS.items()):
            continue
        Policy.objects.create(model_tier=tier, version=latest.version + 1,
                              thresholds=dict(latest.thresholds) | ES_BOUNDS,
                              noise_floor=latest.noise_floor, note=NOTE)


def remove(apps, schema_editor):
    Policy = apps.get_model("validation", "ValidationPolicy")
    Policy.objects.filter(note=NOTE, runs__isnull=True).delete()


class Migration(migrations.Migration):
    dependencies = [("validation", "0003_backtest_warn_bounds")]
    operations = [migrations.RunPython(create, remove)]
