"""Page routes for the explore pages (issue 17); included by portal/urls.py ahead of the older routes."""

urlpatterns: list = []
