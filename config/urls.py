from csp.constants import SELF, UNSAFE_INLINE
from csp.decorators import csp_update
from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerSplitView

from config.health import healthz
from config.views import api_not_found
from governance.apis.auth import AuthTokenApi
from portal.lockout import GuardedAdminAuthenticationForm, GuardedApiAuthenticationForm

# Every door that checks a password goes through governance.services.login_guard (issue 16 §3):
# the admin's sign-in form, the browsable API's sign-in form and the token endpoint below.
admin.site.login_form = GuardedAdminAuthenticationForm

# The API docs pages are the only ones that need inline styles (Swagger UI's and Redoc's own
# <style> blocks and the styles their scripts inject) and a blob: worker (Redoc); their script is
# served as a file (the split view), so no page needs an inline script (issue 16 §9).
_docs_csp = csp_update({"style-src": [UNSAFE_INLINE], "worker-src": [SELF, "blob:"], "img-src": ["data:"]})

api_auth = ([
    path("login/", auth_views.LoginView.as_view(template_name="rest_framework/login.html",
                                                authentication_form=GuardedApiAuthenticationForm), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
], "rest_framework")

api_v1 = [
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", _docs_csp(SpectacularSwaggerSplitView.as_view(url_name="schema")), name="docs"),
    path("redoc/", _docs_csp(SpectacularRedocView.as_view(url_name="schema")), name="redoc"),
    path("auth/token/", AuthTokenApi.as_view(), name="token"),
    path("", include("governance.urls")),
    path("", include("scenarios.urls")),
    path("", include("validation.urls")),
    path("", include("reports.urls")),
    # Anything else under /api/v1/ answers in the API's error shape, not an HTML page.
    re_path(r"^.*$", api_not_found),
]

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("api/v1/", include(api_v1)),
    path("admin/", admin.site.urls),
    path("api-auth/", include(api_auth)),
    path("", include("portal.urls")),
]
