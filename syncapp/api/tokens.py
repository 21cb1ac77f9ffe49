"""API tokens (DRF's authtoken): what the `issuetoken` command does."""

from django.db import transaction
from rest_framework.authtoken.models import Token


def issue_token(user, rotate=False):
    """The user's token, created if missing; with `rotate`, a new one replaces the old.

    Returns (token, created).
    """
    with transaction.atomic():
        if rotate:
            Token.objects.filter(user=user).delete()
        return Token.objects.get_or_create(user=user)
