"""The options' upper bounds (refused in the forms: tests/admin/test_options.py): values saved
before them are brought within by the migration that set them."""

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from syncapp.models import StudioOptions, WorkflowOption

BEFORE = ("syncapp", "0011_unique_and_indexes_without_pattern_ops")
AFTER = ("syncapp", "0012_option_bounds_and_default_batch_size")


@pytest.mark.django_db(transaction=True)
def test_values_saved_before_the_bounds_are_brought_within_them():
    executor = MigrationExecutor(connection)
    executor.migrate([BEFORE])
    old = executor.loader.project_state([BEFORE]).apps
    # The largest a PostgreSQL integer column holds is 2,147,483,647 (SQLite took 10^10).
    old.get_model("syncapp", "StudioOptions").objects.update_or_create(
        pk=1, defaults={"sync_gap_minutes": 2_000_000_000, "max_sync_attempts": 3}
    )
    old.get_model("syncapp", "WorkflowOption").objects.create(step="GetProspects", batch_size=10**9)
    executor = MigrationExecutor(connection)
    executor.migrate([AFTER])
    try:
        options = StudioOptions.load()
        assert (options.sync_gap_minutes, options.max_sync_attempts) == (10080, 3)
        assert WorkflowOption.objects.get().batch_size == 50000
    finally:
        # The later migrations again: the tests after this one need today's schema.
        executor = MigrationExecutor(connection)
        executor.migrate(executor.loader.graph.leaf_nodes())
