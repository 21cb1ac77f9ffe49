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
    def store(cls, name, secret, *, user=None, account_name=""):
        cipher = _fernet().encrypt(secret.encode())
        obj, _ = cls.objects.update_or_create(
            name=name,
            defaults={
                "ciphertext": cipher,
                "hint": secret[-4:] if len(secret) >= 12 else "",
                "account_name": account_name,
                "connected_at": timezone.now(),
                "connected_by": user if user is not None and user.pk else None,
            },
        )
        return obj

    @classmethod
    def reveal(cls, name):
        """The secret, or None if none is stored or it cannot be decrypted (key changed)."""
        obj = cls.objects.filter(name=name).first()
        if obj is None:
            return None
        try:
            return _fernet().decrypt(bytes(obj.ciphertext)).decode()
        except InvalidToken:
            return None
