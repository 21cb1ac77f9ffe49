"""Secrets pasted on the Setup page, stored encrypted (never shown again, never logged)."""

import base64
import hashlib

from cryptography.fernet import Fernet, InvalidToken
from django.conf import settings
from django.db import models
from django.utils import timezone


def _fernet():
    key = getattr(settings, "SWSTUDIO_ENCRYPTION_KEY", "") or settings.SECRET_KEY
    digest = hashlib.sha256(f"swstudio-credentials:{key}".encode()).digest()
    return Fernet(base64.urlsafe_b64encode(digest))


class Credential(models.Model):
    """One named secret (e.g. the SalesWings API token), encrypted at rest."""

    SALESWINGS_TOKEN = "saleswings_api_token"

    name = models.CharField(max_length=60, unique=True)
    ciphertext = models.BinaryField(editable=False)
    hint = models.CharField(
        max_length=20, blank=True, help_text="The last characters, to recognise it."
    )
    account_name = models.CharField(max_length=200, blank=True)
    endpoint = models.CharField(
        max_length=255,
        blank=True,
        help_text="The API endpoint the secret was connected to: it is sent nowhere else.",
    )
    connected_at = models.DateTimeField(null=True, blank=True)
    connected_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        verbose_name = "credential"

    def __str__(self):
        return f"{self.name} (…{self.hint})"

    def __repr__(self):
        return f"<Credential {self.name}>"

    @classmethod
    def store(cls, name, secret, *, user=None, account_name="", endpoint=""):
        cipher = _fernet().encrypt(secret.encode())
        obj, _ = cls.objects.update_or_create(
            name=name,
            defaults={
                "ciphertext": cipher,
                "hint": secret[-4:] if len(secret) >= 12 else "",
                "account_name": account_name,
                "endpoint": endpoint,
                "connected_at": timezone.now(),
                "connected_by": user if user is not None and user.pk else None,
            },
        )
        return obj

    def bound_elsewhere(self, endpoint):
        """Whether the secret was connected to another endpoint than `endpoint` (one stored
        before endpoints were recorded is bound to none)."""
        return bool(self.endpoint) and self.endpoint != endpoint

    @classmethod
    def forget(cls, name):
        """Delete the secret; True if there was one."""
        deleted, _ = cls.objects.filter(name=name).delete()
        return bool(deleted)

    @classmethod
    def reveal(cls, name, endpoint=None):
        """The secret, or None if none is stored, it cannot be decrypted (key changed) or,
        given `endpoint`, it was connected to another one."""
        obj = cls.objects.filter(name=name).first()
        if obj is None:
            return None
        if endpoint is not None and obj.bound_elsewhere(endpoint):
            return None
        try:
            return _fernet().decrypt(bytes(obj.ciphertext)).decode()
        except InvalidToken:
            return None
