"""Page routes for the develop pages (issue 17 §2); included by portal/urls.py ahead of the older routes."""

from django.urls import path

from portal.views import develop

urlpatterns = [
    # Listed before "inventory/<model_id>/": "new" is never a model id (those are CRU-0001, ...).
    path("inventory/new/", develop.model_register, name="develop_register"),
    path("inventory/<str:model_id>/train/", develop.train, name="develop_train"),
    path("versions/<int:pk>/submit/", develop.submit, name="develop_submit"),
]
