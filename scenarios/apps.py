from django.apps import AppConfig


class ScenariosConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "scenarios"

    def ready(self) -> None:
        # This app's kinds of run, with the run kernel (claim, lease, retry, reaper: governance.services.run_state).
        from governance.services.run_state import register_run_kind, register_sweep
        from scenarios.models import GenerationRun, TrainingRun
        from scenarios.models.dataset import DatasetImport
        from scenarios.services.dataset_imports import upload_sweep

        register_run_kind(TrainingRun, object_type="training_run", task="scenarios.tasks.train_model",
                          url_name="scenarios:training-run")
        register_run_kind(GenerationRun, object_type="generation_run", task="scenarios.tasks.generate_scenarios",
                          url_name="scenarios:generation-run")
        register_run_kind(DatasetImport, object_type="dataset_import", task="scenarios.import_tasks.import_dataset",
                          url_name="scenarios:dataset_import")
        register_sweep("uploads", upload_sweep)
