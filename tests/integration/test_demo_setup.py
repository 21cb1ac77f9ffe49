"""The demo as `scripts/start` prepares it (`manage.py bootstrap`, on the embedded default with
the sandbox on): its first cycle against the sandbox, over HTTP with the real clients, writes
scores as well as tags."""

import pytest
from django.conf import settings as django_settings
from django.core.management import call_command

from syncapp.engine import control
from syncapp.engine.cycle import start_cycle
from syncapp.models import FieldMapping, SWApexJob
from syncapp.models.statuses import CycleStatus, Trigger
from syncapp.salesforce import auth, get_client
from tests import sandboxcontrol as sandbox_control

pytestmark = [pytest.mark.real_clients, pytest.mark.integration]


def test_the_demo_set_up_maps_the_sandbox_scores_and_the_first_cycle_writes_them(
    live_server, settings, transactional_db, job_queue, capsys, admin_user
):
    settings.SANDBOX_ENABLED = True
    settings.SANDBOX_BASE_URL = live_server.url
    settings.SWSTUDIO_WORKFLOW = django_settings.SWSTUDIO_DEFAULT_WORKFLOW
    auth.token_cache.clear()

    call_command("bootstrap")
    assert "its scores are mapped" in capsys.readouterr().out
    assert FieldMapping.objects.count() == 8
    call_command("bootstrap")  # again: nothing doubles
    assert FieldMapping.objects.count() == 8

    r = sandbox_control.put(
        f"{live_server.url}/sandbox/control/faults", json={"auto_churn": False}, timeout=10
    )
    assert r.status_code == 200, r.text
    control.turn_on(admin_user)
    started = start_cycle(Trigger.WATCHER)
    job_queue.run_all()
    cycle = SWApexJob.objects.get(pk=started.pk)

    assert cycle.status == CycleStatus.COMPLETED, cycle.steps
    sf = get_client()
    for obj in ("Lead", "Contact"):
        # SW_Tags__c is a Long Text Area: SOQL cannot filter on it, so the test filters here.
        tagged = [r for r in sf.query(f"SELECT Id, SW_Tags__c FROM {obj}") if r["SW_Tags__c"]]
        scored = list(sf.query(f"SELECT Id FROM {obj} WHERE SW_Engagement_Score__c != null"))
        assert tagged and len(scored) >= len(tagged) // 2, (obj, len(tagged), len(scored))
    auth.token_cache.clear()
