"""MatchProspectsToLeads / MatchProspectsToContacts over whole cycles in a seeded world."""

import pytest

from syncapp.models import Prospect, StudioOptions, SyncStatus
from syncapp.models.statuses import CycleStatus, StepStatus
from tests.steps.expect import CLEARED, expected_people, held

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True, params=["in", "scan"])
def read_mode(request, settings):
    """Every test in both ways of reading the records (steps/matching.py): e-mail IN queries
    per batch, and one scan of the object matched page by page and settled at the end. Tests
    about per-batch writes keep IN mode themselves (`in_mode`)."""
    settings.SWSTUDIO_MATCH_READ = request.param
    return request.param


def written_ids(sf, since=0):
    return {rid for obj, rid, _ in sf.writes[since:] if obj != "delete"}


def test_one_cycle_leaves_every_matching_record_holding_exactly_its_prospects_data(world):
    sf = world.sf
    before = sf.snapshot()

    cycle = world.cycle()

    assert cycle.status == CycleStatus.COMPLETED, cycle.steps
    expected = expected_people(sf, world.sw)
    for obj in ("Lead", "Contact"):
        for rid, record in sf.db[obj].items():
            if rid in expected:
                assert held(record) == expected[rid], (obj, rid)
    ids = world.ids
    assert held(sf.get(ids["ada_lead"]))["SW_Tags__c"] == "Demo Request;Pricing Page"
    # Converted Leads are never written, even when their e-mail matches.
    assert sf.get(ids["bob_converted"]) == before["Lead"][ids["bob_converted"]]
    # Nothing else changed: every write touched a record that had to change.
    touched = written_ids(sf)
    must_change = {
        rid
        for obj in ("Lead", "Contact")
        for rid, rec in before[obj].items()
        if rid in expected and held(rec) != expected[rid]
    }
    assert {r for r in touched if r[:3] in ("00Q", "003")} == must_change
    for obj in ("Lead", "Contact", "User"):
        for rid, rec in before[obj].items():
            after = sf.get(rid)
            other = {k for k in rec if not k.startswith("SW_") and k != "SystemModstamp"}
            assert {k: after[k] for k in other} == {k: rec[k] for k in other}
    processed = dict(Prospect.objects.values_list("backend_id", "sync_status"))
    assert processed["p_ada"] == processed["p_bob"] == processed["p_cy"] == SyncStatus.PROCESSED
    ada = Prospect.objects.get(backend_id="p_ada")
    assert ada.matched_lead_ids == [ids["ada_lead"]]
    assert ada.matched_contact_ids == [ids["ada_contact"]]
    step = cycle.step("MatchProspectsToLeads")
    assert step["status"] == StepStatus.COMPLETED
    assert step["examined"] == 4  # ada, bob, cy, nomatch
    assert step["modified"] == 2  # ada's and cy's Leads


def test_a_second_cycle_with_no_backend_change_writes_nothing(world):
    world.cycle()
    writes, calls = len(world.sf.writes), world.sf.calls

    cycle = world.cycle()

    assert cycle.status == CycleStatus.COMPLETED
    assert len(world.sf.writes) == writes
    used = world.sf.calls - calls
    # Send-up (2 queries), two clean scans (2), Account/Opportunity leftovers (2): no matching.
    assert used <= 8, used
    assert cycle.step("MatchProspectsToLeads")["examined"] == 0


def test_a_backend_change_is_written_next_cycle_and_only_that(world):
    world.cycle()
    mark = len(world.sf.writes)
    world.sw.put_prospect(**(world.sw.prospect("p_cy") | {"temperature": "Hot"}))

    world.cycle()

    assert world.sf.get(world.ids["cy_lead"])["SW_Temperature__c"] == "Hot"
    assert written_ids(world.sf, mark) == {world.ids["cy_lead"]}


def test_validation_rule_rejections_stay_pending_with_the_message_until_lifted(world):
    sf = world.sf
    ada_lead = world.ids["ada_lead"]

    def rule(obj, record):
        if obj == "Lead" and record["SW_Temperature__c"] == "Hot":
            return "Hot leads need a phone number"

    sf.rules.append(rule)

    cycle = world.cycle()

    step = cycle.step("MatchProspectsToLeads")
    assert step["status"] == StepStatus.PARTIALLY_COMPLETED
    assert step["failed"] == 1
    assert any("Hot leads need a phone number" in e for e in step["errors"])
    assert cycle.status == CycleStatus.PARTIALLY_COMPLETED
    ada = Prospect.objects.get(backend_id="p_ada")
    assert ada.sync_status == SyncStatus.NOT_PROCESSED
    assert ada.lead_sync_attempts == 1 and ada.lead_pending
    assert not ada.contact_pending  # the Contact side succeeded and is not written again
    assert "FIELD_CUSTOM_VALIDATION_EXCEPTION" in ada.last_error
    assert held(sf.get(ada_lead)) == CLEARED
    # All others were written.
    assert sf.get(world.ids["cy_lead"])["SW_Prospect_Id__c"] == "p_cy"
    assert sf.get(world.ids["ada_contact"])["SW_Prospect_Id__c"] == "p_ada"

    sf.rules.clear()
    mark = len(sf.writes)
    cycle = world.cycle()

    assert cycle.status == CycleStatus.COMPLETED
    assert held(sf.get(ada_lead)) == expected_people(sf, world.sw)[ada_lead]
    assert written_ids(sf, mark) == {ada_lead}
    ada.refresh_from_db()
    assert ada.sync_status == SyncStatus.PROCESSED and ada.last_error == ""


def test_a_prospect_is_given_up_after_the_maximum_attempts(world):
    options = StudioOptions.load()
    options.max_sync_attempts = 2
    options.save()
    world.sf.rules.append(lambda obj, r: "no" if r["SW_Prospect_Id__c"] == "p_cy" else None)

    world.cycle()
    world.cycle()
    third = world.cycle()

    cy = Prospect.objects.get(backend_id="p_cy")
    assert cy.lead_sync_attempts == 2
    assert "given up after 2 attempts" in cy.last_error
    assert third.step("MatchProspectsToLeads")["examined"] == 0


def in_mode(monkeypatch):
    """Batches of one prospect test per-batch writes: keep the IN queries (scan mode would
    read the small org once and carry the batches' writes into full calls of 200)."""
    from syncapp.engine.steps import matching

    monkeypatch.setattr(matching.MatchProspects, "choose_scan", lambda self, *a, **k: False)


def test_daily_limit_used_up_mid_step_stops_it_and_keeps_the_data_pending(
    world, settings, monkeypatch
):
    in_mode(monkeypatch)
    world.sw.tag_list = world.sw.tag_list  # unchanged
    # Batches of one prospect, and enough calls for the steps before Match and one batch.
    from syncapp.models import WorkflowOption

    WorkflowOption.objects.create(step="MatchProspectsToLeads", batch_size=1)
    world.sf.limit_left = 4  # send-up (2), first Match batch: query + update

    cycle = world.cycle()

    step = cycle.step("MatchProspectsToLeads")
    assert step["status"] == StepStatus.PARTIALLY_COMPLETED
    assert any("REQUEST_LIMIT_EXCEEDED" in e for e in step["errors"])
    assert cycle.status == CycleStatus.PARTIALLY_COMPLETED
    pending = Prospect.objects.filter(sync_status=SyncStatus.NOT_PROCESSED)
    assert pending.filter(lead_pending=True).exists()

    world.sf.limit_left = None  # the limit resets
    cycle = world.cycle()

    assert cycle.status == CycleStatus.COMPLETED, cycle.steps
    expected = expected_people(world.sf, world.sw)
    for rid, values in expected.items():
        assert held(world.sf.get(rid)) == values, rid


def test_transient_failures_fail_a_batch_and_the_next_cycle_converges(world, monkeypatch):
    from syncapp.models import WorkflowOption

    in_mode(monkeypatch)
    WorkflowOption.objects.create(step="MatchProspectsToContacts", batch_size=1)
    calls = []
    real_update = world.sf.update

    def flaky_update(obj, records):
        calls.append(obj)
        if obj == "Contact" and len(calls) % 2:
            world.sf.transient = 1
        return real_update(obj, records)

    world.sf.update = flaky_update

    first = world.cycle()
    assert first.step("MatchProspectsToContacts")["batches_failed"] >= 1
    assert first.status == CycleStatus.PARTIALLY_COMPLETED

    world.sf.update = real_update
    second = world.cycle()

    assert second.status == CycleStatus.COMPLETED
    for rid, values in expected_people(world.sf, world.sw).items():
        assert held(world.sf.get(rid)) == values, rid
    assert not Prospect.objects.filter(
        lifecycle="Active", sync_status=SyncStatus.NOT_PROCESSED
    ).exclude(email_key="")


def test_full_synchronization_rewrites_drifted_records_and_clears_the_request(world):
    world.cycle()
    ada_lead = world.ids["ada_lead"]
    world.sf.edit(ada_lead, SW_Tags__c="Edited by hand", SW_Engagement_Score__c=1)

    world.cycle()  # incremental: the prospect did not change, the drift stays
    assert world.sf.get(ada_lead)["SW_Tags__c"] == "Edited by hand"

    options = StudioOptions.load()
    options.full_sync_requested = True
    options.save()
    cycle = world.cycle()

    assert cycle.full_sync
    assert world.sf.get(ada_lead)["SW_Tags__c"] == "Demo Request;Pricing Page"
    assert world.sf.get(ada_lead)["SW_Engagement_Score__c"] == 42
    assert cycle.step("MatchProspectsToLeads")["examined"] == 4
    assert not StudioOptions.load().full_sync_requested


def test_activities_become_sw_activity_records_linked_to_lead_and_contact(world):
    options = StudioOptions.load()
    options.activity_sync = True
    options.save()
    world.sw.put_activity(
        id="act_1",
        prospectId="p_ada",
        type="page_visit",
        occurredAt="2026-11-26T09:00:00+00:00",
        url="https://example.com/pricing",
        title="Pricing",
    )

    cycle = world.cycle()

    assert cycle.status == CycleStatus.COMPLETED, cycle.steps
    (activity,) = world.sf.db["SW_Activity__c"].values()
    assert activity["SW_Activity_Id__c"] == "act_1"
    assert activity["Lead__c"] == world.ids["ada_lead"]
    assert activity["Contact__c"] == world.ids["ada_contact"]
    assert activity["Type__c"] == "page_visit"
    mark = len(world.sf.writes)
    world.cycle()
    assert len(world.sf.writes) == mark  # written once


def test_many_activities_are_upserted_in_parts_each_once(world, settings):
    settings.SALESFORCE_WRITE_CONCURRENCY = 3
    options = StudioOptions.load()
    options.activity_sync = True
    options.save()
    for i in range(450):  # the Contacts side's 450: three collection calls, three parts
        world.sw.put_activity(
            id=f"act_{i}",
            prospectId="p_ada" if i % 2 else "p_bob",
            type="page_visit",
            occurredAt="2026-11-26T09:00:00Z",
        )

    cycle = world.cycle()

    assert cycle.status == CycleStatus.COMPLETED, cycle.steps
    records = list(world.sf.db["SW_Activity__c"].values())
    assert sorted(r["SW_Activity_Id__c"] for r in records) == sorted(f"act_{i}" for i in range(450))
    for record in records:
        owner = "ada" if int(record["SW_Activity_Id__c"][4:]) % 2 else "bob"
        assert record["SW_Prospect_Id__c"] == f"p_{owner}"
        assert record["Contact__c"] == world.ids[f"{owner}_contact"]
        assert record.get("Lead__c") == (world.ids["ada_lead"] if owner == "ada" else None)
    mark = len(world.sf.writes)
    world.cycle()
    assert len(world.sf.writes) == mark  # written once


def test_an_older_prospects_activities_link_to_the_records_a_newer_one_took_over(world):
    # A newer prospect has Ada's e-mail: it owns her Lead and Contact now. The older one's
    # activities still go to those records (found through the newer one's matches).
    options = StudioOptions.load()
    options.activity_sync = True
    options.save()
    world.sw.put_prospect(id="p_ada2", email="ADA@example.com", temperature="Warm")
    world.sw.put_activity(
        id="act_old", prospectId="p_ada", type="page_visit", occurredAt="2026-11-26T09:00:00Z"
    )

    cycle = world.cycle()

    assert cycle.status == CycleStatus.COMPLETED, cycle.steps
    (activity,) = world.sf.db["SW_Activity__c"].values()
    assert activity["SW_Prospect_Id__c"] == "p_ada"
    assert activity["Lead__c"] == world.ids["ada_lead"]
    assert activity["Contact__c"] == world.ids["ada_contact"]
    assert world.sf.get(world.ids["ada_lead"])["SW_Prospect_Id__c"] == "p_ada2"
