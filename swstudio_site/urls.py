from django.conf import settings
from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView

from syncapp.ops.views import metrics_view

urlpatterns = [
    path("", RedirectView.as_view(pattern_name="admin:index", permanent=False)),
    path("admin/", admin.site.urls),
    path("Sync/v1/", include("syncapp.api.urls")),
    # Prometheus scrapes here (guarded); /healthz and /readyz: syncapp.ops.health.
    path("metrics", metrics_view, name="metrics"),
]

if settings.SANDBOX_ENABLED:
    urlpatterns += [path("", include("sandbox.urls"))]
