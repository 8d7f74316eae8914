from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from webapp.accounts import views as account_views
from webapp.core import health
from webapp.dashboard.metrics import metrics

urlpatterns = [
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    path("metrics", metrics, name="metrics"),
    path("admin/streams/", include("webapp.dashboard.urls")),
    path("admin/login/", account_views.admin_login),  # before the admin's own
    path("admin/", admin.site.urls),
    path("api/", include("webapp.claps.api.urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("accounts/", include("webapp.accounts.urls")),
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="schema"), name="api-docs"),
    path("", include("webapp.pages.urls")),
]
