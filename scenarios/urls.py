from scenarios.apis import datasets

app_name = "scenarios"

urlpatterns = [
    *datasets.urlpatterns,
]
