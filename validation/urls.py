from validation.apis import runs

app_name = "validation"

urlpatterns = [*runs.urlpatterns]
