import io

import numpy as np
import pandas as pd
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from governance.models import ModelVersion
from scenarios.models import ScenarioSet, TrainingRun
from scenarios.services.runs import generation_run_execute, training_run_execute

pytestmark = pytest.mark.django_db


def start_training(api, developer, scenario_model, real_dataset, **overrides):
    body = {"model": scenario_model.model_id, "version_label": "1.0.0", "dataset": real_dataset.pk,
            "engine": "factor_mc", "config": {"estimator": "ewma"}, "train_end": "2014-12-31",
            "holdout_start": "2015-01-01", "seed": 5} | overrides
    return api(developer).post("/api/v1/training-runs/", body, format="json")


def test_training_and_generation_over_the_api(api, developer, auditor, scenario_model, real_dataset,
                                              django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = start_training(api, developer, scenario_model, real_dataset)
    assert response.status_code == 202, response.content
    assert response.json()["status"] == "PENDING" and len(callbacks) == 1  # enqueued after commit
    run_id = response.json()["id"]
    training_run_execute(run_id, worker="w")
    detail = api(auditor).get(f"/api/v1/training-runs/{run_id}/").json()
    assert detail["status"] == "SUCCEEDED" and detail["progress"] == 1.0 and detail["model_version"]

    version_id = detail["model_version"]
    body = {"model_version": version_id, "n_scenarios": 200, "horizon": 10, "purpose": "use"}
    refused = api(developer).post("/api/v1/generation-runs/", body, format="json")
    assert refused.status_code == 409 and refused.json()["error"]["code"] == "version_not_usable"
    with django_capture_on_commit_callbacks(execute=False):
        started = api(developer).post("/api/v1/generation-runs/", body | {"purpose": "development",
                                      "condition": {"targets": [{"factor": "SP500", "move": -0.2, "days": 10}]}},
                                      format="json")
    assert started.status_code == 202, started.content
    generation_run_execute(started.json()["id"], worker="w")
    run = api(developer).get(f"/api/v1/generation-runs/{started.json()['id']}/").json()
    assert run["status"] == "SUCCEEDED" and run["scenario_set"]
    sid = run["scenario_set"]
    meta = api(developer).get(f"/api/v1/scenario-sets/{sid}/").json()
    assert meta["n_scenarios"] == 200 and meta["factors"] == ["SP500", "NASDAQ", "WTI"]
    parquet = api(developer).get(f"/api/v1/scenario-sets/{sid}/download/")
    assert parquet.status_code == 200 and parquet["X-Scenario-Set-SHA256"] == meta["sha256"]
    frame = pd.read_parquet(io.BytesIO(b"".join(parquet.streaming_content) if parquet.streaming else parquet.content))
    assert list(frame.columns) == ["scenario", "step", "SP500", "NASDAQ", "WTI"] and len(frame) == 2000
    # The explicit target moved the median cumulative S&P 500 move to -20% over the 10 days.
    cumulative = frame.groupby("scenario")["SP500"].sum()
    assert abs(cumulative.median() + 0.2) < 1e-9
    csv = api(developer).get(f"/api/v1/scenario-sets/{sid}/download/", {"file_format": "csv"})
    assert csv.content.decode().splitlines()[0] == "scenario,step,SP500,NASDAQ,WTI"
    assert api(developer).get(f"/api/v1/scenario-sets/{sid}/download/", {"file_format": "xlsx"}).status_code == 400


def test_run_api_errors(api, developer, validator, scenario_model, real_dataset):
    overlap = start_training(api, developer, scenario_model, real_dataset, holdout_start="2014-01-01")
    assert overlap.status_code == 400 and "strictly after" in overlap.json()["error"]["message"]
    unknown = start_training(api, developer, scenario_model, real_dataset, engine="alchemy")
    assert unknown.status_code == 400 and "engine" in unknown.json()["error"]["details"]
    nan_seed = start_training(api, developer, scenario_model, real_dataset, seed="NaN")
    assert nan_seed.status_code == 400
    assert start_training(api, validator, scenario_model, real_dataset).status_code == 403
    assert api(developer).get("/api/v1/training-runs/9999/").status_code == 404
    assert not TrainingRun.objects.exists()


def test_cancel_over_the_api(api, developer, scenario_model, real_dataset, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False):
        run_id = start_training(api, developer, scenario_model, real_dataset).json()["id"]
    cancelled = api(developer).post(f"/api/v1/training-runs/{run_id}/cancel/")
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "CANCELLED"
    assert api(developer).post(f"/api/v1/training-runs/{run_id}/cancel/").status_code == 409
    training_run_execute(run_id, worker="w")
    assert not ModelVersion.objects.exists()


def long_frame(n=4, horizon=3, factors=("SP500", "NASDAQ", "WTI")):
    rng = np.random.default_rng(1)
    rows = [{"scenario": s, "step": t, **{f: rng.normal() * 0.01 for f in factors}}
            for s in range(n) for t in range(1, horizon + 1)]
    return pd.DataFrame(rows)


def test_import_external_scenarios(api, developer, validator, real_dataset):
    csv = SimpleUploadedFile("vendor.csv", long_frame().to_csv(index=False).encode())
    response = api(validator).post("/api/v1/scenario-sets/import/", {"file": csv, "name": "vendor Q3",
                                                                     "dataset": real_dataset.pk}, format="multipart")
    assert response.status_code == 201, response.content
    assert response.json()["purpose"] == "external" and response.json()["horizon"] == 3
    buffer = io.BytesIO()
    np.save(buffer, np.zeros((2, 5, 3)))
    npy = SimpleUploadedFile("vendor.npy", buffer.getvalue())
    response = api(developer).post("/api/v1/scenario-sets/import/", {"file": npy, "name": "npy",
                                                                     "factors": '["SP500", "NASDAQ", "WTI"]'},
                                   format="multipart")
    assert response.status_code == 201 and response.json()["n_scenarios"] == 2
    # Wrong factors for the dataset, a missing step, a non-finite value: each named, nothing stored.
    before = ScenarioSet.objects.count()
    wrong = long_frame(factors=("SP500", "GOLD", "WTI"))
    bad = api(validator).post("/api/v1/scenario-sets/import/", {
        "file": SimpleUploadedFile("x.csv", wrong.to_csv(index=False).encode()), "name": "x",
        "dataset": real_dataset.pk}, format="multipart")
    assert bad.status_code == 400 and "GOLD" in bad.json()["error"]["message"]
    gap = long_frame().drop(index=4)
    bad = api(validator).post("/api/v1/scenario-sets/import/", {
        "file": SimpleUploadedFile("x.csv", gap.to_csv(index=False).encode()), "name": "x"}, format="multipart")
    assert bad.status_code == 400 and "every step" in bad.json()["error"]["message"]
    inf = long_frame()
    inf.loc[2, "WTI"] = np.inf
    bad = api(validator).post("/api/v1/scenario-sets/import/", {
        "file": SimpleUploadedFile("x.csv", inf.to_csv(index=False).encode()), "name": "x"}, format="multipart")
    assert bad.status_code == 400 and "row 4, factor 'WTI'" in bad.json()["error"]["message"]
    assert ScenarioSet.objects.count() == before
