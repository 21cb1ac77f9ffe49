from django.conf import settings
from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView

urlpatterns = [
    path("", RedirectView.as_view(pattern_name="admin:index", permanent=False)),
    path("admin/", admin.site.urls),
    path("Sync/v1/", include("syncapp.api.urls")),
]

if settings.SANDBOX_ENABLED:
    urlpatterns += [path("", include("sandbox.urls"))]
