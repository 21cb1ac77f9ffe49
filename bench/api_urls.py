"""Bench-only URLconf: the product's URLs plus trivial DRF endpoints to compare against."""

from django.urls import include, path
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from syncapp.api.permissions import IsSWStudioViewer


class Trivial(APIView):
    """Same authentication and role check as GetSyncStatus; no work."""

    permission_classes = [IsSWStudioViewer]

    def get(self, request):
        return Response({"ok": True})


class TrivialAnonymous(APIView):
    """No authentication, no permission: DRF's floor."""

    authentication_classes = []
    permission_classes = [AllowAny]

    def get(self, request):
        return Response({"ok": True})


urlpatterns = [
    path("bench/trivial", Trivial.as_view()),
    path("bench/trivial-anonymous", TrivialAnonymous.as_view()),
    path("", include("swstudio_site.urls")),
]
