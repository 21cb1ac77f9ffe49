"""Shared run-time state of the sandbox: its settings row and its counters.

Both live in the database so every serving process sees the same faults and adds to the same
counters. A request reads the settings row once and writes its counters in one statement.
"""

import collections

from django.conf import settings as django_settings
from django.db import connection, transaction

from .models import Counter, SandboxSettings


class _RowReader:
    """One model's row by primary key with a plain SELECT, its values converted as the ORM
    converts them. Every API call reads the settings row: the ORM's query compilation was
    most of that read's cost."""

    def __init__(self, model):
        self.model = model
        self.fields = model._meta.concrete_fields
        self.names = [f.attname for f in self.fields]
        self.sql = {}  # vendor -> (SQL, converters per column)

    def get(self, pk):
        plan = self.sql.get(connection.vendor)
        if plan is None:
            q = connection.ops.quote_name
            cols = ", ".join(q(f.column) for f in self.fields)
            meta = self.model._meta
            sql = f"SELECT {cols} FROM {q(meta.db_table)} WHERE {q(meta.pk.column)} = %s"
            converters = []
            for f in self.fields:
                col = f.get_col(self.model._meta.db_table)
                found = connection.ops.get_db_converters(col) + col.get_db_converters(connection)
                converters.append([(conv, col) for conv in found])
            plan = self.sql[connection.vendor] = (sql, converters)
        sql, converters = plan
        with connection.cursor() as cur:
            cur.execute(sql, [pk])
            row = cur.fetchone()
        if row is None:
            return None
        values = []
        for value, convs in zip(row, converters, strict=True):
            for conv, col in convs:
                value = conv(value, col, connection)
            values.append(value)
        return self.model.from_db(connection.alias, self.names, values)


_settings_reader = _RowReader(SandboxSettings)


def load_settings():
    row = _settings_reader.get(1)
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
    table = connection.ops.quote_name(Counter._meta.db_table)
    with connection.cursor() as cur:
        cur.execute(f"SELECT value FROM {table} WHERE name = %s", [name])
        row = cur.fetchone()
    return row[0] if row else 0


def all_counters():
    return dict(Counter.objects.order_by("name").values_list("name", "value"))


def reset_counters():
    with transaction.atomic():
        Counter.objects.all().delete()
