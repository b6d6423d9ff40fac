from scenarios.apis import datasets, runs, scenario_sets

app_name = "scenarios"

urlpatterns = [
    *datasets.urlpatterns,
    *runs.urlpatterns,
    *scenario_sets.urlpatterns,
]
