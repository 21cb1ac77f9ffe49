"""Shared run-time state of the sandbox: its settings row and its counters.

Both live in the database so every serving process sees the same faults and adds to the same
counters. A request reads the settings row once and writes its counters in one statement.
"""

import collections

from django.conf import settings as django_settings
from django.db import connection, transaction

from .models import Counter, SandboxSettings


def load_settings():
    row = SandboxSettings.objects.filter(pk=1).first()
    if row is None:
        row, _ = SandboxSettings.objects.get_or_create(
            pk=1,
            defaults={
                "saleswings_token": django_settings.SANDBOX_SALESWINGS_TOKEN,
                "sf_username": django_settings.SANDBOX_SF_USERNAME,
                "sf_password": django_settings.SANDBOX_SF_PASSWORD,
                "sf_client_id": django_settings.SANDBOX_SF_CLIENT_ID,
                "sf_client_secret": django_settings.SANDBOX_SF_CLIENT_SECRET,
            },
        )
    return row


class Counts(collections.Counter):
    """Counter increments collected during a request, written at its end."""

    def flush(self):
        items = [(k, v) for k, v in self.items() if v]
        if not items:
            return
        bump(dict(items))
        self.clear()


def bump(increments):
    table = connection.ops.quote_name(Counter._meta.db_table)
    sql = (
        f"INSERT INTO {table} (name, value) VALUES (%s, %s) "
        f"ON CONFLICT (name) DO UPDATE SET value = {table}.value + excluded.value"
    )
    # One transaction: one commit for all of a request's counters.
    with transaction.atomic(), connection.cursor() as cur:
        cur.executemany(sql, sorted(increments.items()))


def counter(name):
    return Counter.objects.filter(name=name).values_list("value", flat=True).first() or 0


def all_counters():
    return dict(Counter.objects.order_by("name").values_list("name", "value"))


def reset_counters():
    with transaction.atomic():
        Counter.objects.all().delete()
