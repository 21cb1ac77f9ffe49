"""The product's two roles as DRF permissions.

Anonymous requests fail these checks too; DRF then answers 401 (not 403) because the first
authentication class, TokenAuthentication, names a `WWW-Authenticate` scheme.
"""

from rest_framework.permissions import BasePermission

from syncapp import roles


class IsSWStudioAdministrator(BasePermission):
    """SW Studio Administrator: every endpoint."""

    message = "This needs the SW Studio Administrator role."

    def has_permission(self, request, view):
        return roles.is_administrator(request.user)


class IsSWStudioViewer(BasePermission):
    """SW Studio User (or Administrator): read-only endpoints."""

    message = "This needs the SW Studio User or SW Studio Administrator role."

    def has_permission(self, request, view):
        return roles.is_viewer(request.user)
