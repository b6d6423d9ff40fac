from scenarios.apis import comparison, datasets, runs, scenario_sets, stress

app_name = "scenarios"

urlpatterns = [
    *datasets.urlpatterns,
    *runs.urlpatterns,
    *scenario_sets.urlpatterns,
    *stress.urlpatterns,
    *comparison.urlpatterns,
]
