from django.urls import path

from governance import apis

app_name = "governance"

urlpatterns = [
    path("me/", apis.MeApi.as_view(), name="me"),
]
