"""/Sync/v1/ (included by swstudio_site.urls)."""

from django.urls import path, re_path
from drf_spectacular.views import SpectacularAPIView

from . import views

app_name = "sync-api"

urlpatterns = [
    path("", views.Index.as_view(), name="index"),
    path("GetSyncStatus", views.GetSyncStatus.as_view(), name="GetSyncStatus"),
    path("RestartSync", views.RestartSync.as_view(), name="RestartSync"),
    path("TurnSyncOn", views.TurnSyncOn.as_view(), name="TurnSyncOn"),
    path("TurnSyncOff", views.TurnSyncOff.as_view(), name="TurnSyncOff"),
    path("schema", SpectacularAPIView.as_view(), name="schema"),
    # Swagger UI from the vendored sidecar assets. (drf-spectacular's Redoc page is left out:
    # its template loads web fonts from a CDN.)
    path("docs", views.DocsView.as_view(url_name="sync-api:schema"), name="docs"),
    # Last: everything else under /Sync/v1/ is a JSON 404.
    re_path(r"^.*$", views.NotFound.as_view(), name="not-found"),
]
