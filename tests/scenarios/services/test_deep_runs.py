"""Deep engines through the training and generation runs: progress, loss curves, cancel, severity."""

import numpy as np
import pytest

from governance.artifacts import read_bytes
from governance.models import RunStatus
from scenarios.models import TrainingRun
from scenarios.scenario_files import read_canonical
from scenarios.services.runs import training_run_execute, training_run_start

pytestmark = pytest.mark.django_db

TINY = {
    "diffusion": {"channels": 16, "blocks": 1, "dilations": [1], "time_dim": 16, "timesteps": 50, "epochs": 2,
                  "ddim_steps": 10},
    "timegan": {"hidden": 8, "layers": 1, "embedding_iterations": 20, "supervised_iterations": 20,
                "joint_iterations": 10, "eval_every": 5},
    "wgan_gp": {"channels": 8, "dilations": [1, 2], "critic_channels": 8, "critic_layers": 2, "iterations": 20,
                "eval_every": 10},
    "vae": {"hidden": 16, "latent_dim": 4, "epochs": 3},
    "lstm_transformer": {"hidden": 16, "heads": 2, "transformer_layers": 1, "feedforward": 32, "epochs": 2},
}


@pytest.mark.parametrize("engine", sorted(TINY))
def test_deep_engine_trains_and_generates_through_the_runs(engine, train, generate, developer):
    run = train(engine, TINY[engine])
    assert run.status == RunStatus.SUCCEEDED, run.error
    assert run.loss_curve, "the loss curve is recorded on the run for the reports"
    assert run.environment["device"] == "cpu"
    scenario_set = generate(developer, run.model_version, n_scenarios=300, horizon=25, purpose="development",
                            seed=1, condition={"severity": "severe"})
    paths, factors = read_canonical(read_bytes(scenario_set.storage_path))
    assert paths.shape == (300, 25, 3) and np.isfinite(paths).all()


def test_cancelling_a_deep_training_run(developer, scenario_model, real_dataset, django_capture_on_commit_callbacks):
    import datetime as dt

    with django_capture_on_commit_callbacks(execute=False):
        run = training_run_start(actor=developer, model=scenario_model, version_label="9.0.0", dataset=real_dataset,
                                 engine="vae", config=TINY["vae"], train_end=dt.date(2014, 12, 31),
                                 holdout_start=dt.date(2015, 1, 1))
    TrainingRun.objects.filter(pk=run.pk).update(cancel_requested=True)
    training_run_execute(run.pk, worker="w")
    run.refresh_from_db()
    assert run.status == RunStatus.CANCELLED and run.model_version is None
