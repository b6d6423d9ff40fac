from django.urls import path

from governance.apis import audit, inventory, lineage, me, workflow

app_name = "governance"

urlpatterns = [
    path("me/", me.MeApi.as_view(), name="me"),
    *inventory.urlpatterns,
    *workflow.urlpatterns,
    *audit.urlpatterns,
    *lineage.urlpatterns,
]
