from scenarios.apis import datasets, runs, scenario_sets, stress

app_name = "scenarios"

urlpatterns = [
    *datasets.urlpatterns,
    *runs.urlpatterns,
    *scenario_sets.urlpatterns,
    *stress.urlpatterns,
]
