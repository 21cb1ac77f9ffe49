"""CleanLeads, CleanContacts, CleanOtherRecords, CleanProspects."""

import pytest

from syncapp.models import (
    CleanCandidate,
    HeldRecord,
    Prospect,
    StudioOptions,
    SyncCursor,
    WorkflowOption,
)
from syncapp.models.statuses import CycleStatus, StepStatus
from tests.steps.expect import CLEARED, OPP_FIELDS, held

pytestmark = pytest.mark.django_db


def test_records_of_merged_deleted_and_unknown_prospects_are_cleaned(world):
    cycle = world.cycle()

    sf, ids = world.sf, world.ids
    for key in ("merged_lead", "gone_contact", "unknown_lead"):
        assert held(sf.get(ids[key])) == CLEARED, key
    assert cycle.step("CleanLeads")["modified"] == 2  # merged and unknown
    assert cycle.step("CleanContacts")["modified"] == 1
    # Their e-mail and names are theirs: only SalesWings fields were cleared.
    assert sf.get(ids["merged_lead"])["Email"] == "old-ada@example.com"
    # Once cleaned, obsolete prospects are deleted locally.
    assert not Prospect.objects.filter(backend_id__in=["p_merged", "p_gone"]).exists()
    assert cycle.step("CleanProspects")["modified"] == 2


def test_a_prospect_whose_email_changed_leaves_its_old_records_cleaned(world):
    world.cycle()
    world.sw.put_prospect(**(world.sw.prospect("p_cy") | {"email": "cy.new@example.com"}))
    new_lead = world.sf.add("Lead", Email="cy.new@example.com", LastName="C", Company="X")

    world.cycle()

    assert held(world.sf.get(world.ids["cy_lead"])) == CLEARED
    assert world.sf.get(new_lead)["SW_Prospect_Id__c"] == "p_cy"


def test_an_email_edited_in_salesforce_is_noticed_and_the_record_cleaned(world):
    world.cycle()
    world.sf.edit(world.ids["ada_contact"], Email="someone-else@example.com")
    mark = len(world.sf.writes)

    world.cycle()

    assert held(world.sf.get(world.ids["ada_contact"])) == CLEARED
    assert {rid for _, rid, _ in world.sf.writes[mark:]} >= {world.ids["ada_contact"]}


def edit_before_the_match_write(world, monkeypatch, rid, **fields):
    """A user edits `rid` after the Match step read it and before its write lands."""
    sf = world.sf
    real_update = sf.update

    def update(obj, records):
        if any(r["Id"] == rid for r in records) and fields:
            sf.edit(rid, **fields)
            fields.clear()
        return real_update(obj, records)

    monkeypatch.setattr(sf, "update", update)


def clean_scans(sf, mark):
    """The Clean steps' scans (the send-up's also orders by SystemModstamp, with names)."""
    return [
        s for s in sf.statements[mark:] if "ORDER BY SystemModstamp" in s and "FirstName" not in s
    ]


def test_with_the_send_up_on_the_clean_steps_do_not_scan_again_what_it_read(world):
    world.cycle()
    world.sf.edit(world.ids["ada_contact"], Email="someone-else@example.com")
    mark = len(world.sf.statements)

    cycle = world.cycle()

    # The send-up read the edited record at the start of the cycle and noted it; the Clean
    # step read just that record again by Id and cleaned it. Its own scan was not sent.
    assert held(world.sf.get(world.ids["ada_contact"])) == CLEARED
    assert cycle.step("CleanContacts")["modified"] == 1
    assert clean_scans(world.sf, mark) == []
    assert not CleanCandidate.objects.exists()


def test_an_email_edited_while_match_writes_is_cleaned_by_the_next_cycle(world, monkeypatch):
    # The Match step read Ada's contact with Ada's e-mail; the user changes it before the
    # write lands, so the record gets Ada's data under someone else's e-mail. The send-up of
    # the next cycle reads every record the sync wrote: it notices, and that cycle cleans it.
    rid = world.ids["ada_contact"]
    edit_before_the_match_write(world, monkeypatch, rid, Email="someone-else@example.com")
    world.cycle()
    assert world.sf.get(rid)["SW_Prospect_Id__c"] == "p_ada"  # not noticed yet

    world.cycle()

    assert held(world.sf.get(rid)) == CLEARED
    assert world.sf.get(rid)["Email"] == "someone-else@example.com"


def test_with_triggers_disabled_the_clean_scan_notices_it_in_the_same_cycle(world, monkeypatch):
    options = StudioOptions.load()
    options.disable_triggers = True
    options.save()
    rid = world.ids["ada_contact"]
    edit_before_the_match_write(world, monkeypatch, rid, Email="someone-else@example.com")
    mark = len(world.sf.statements)

    world.cycle()

    assert held(world.sf.get(rid)) == CLEARED
    assert clean_scans(world.sf, mark)


def test_a_send_up_that_failed_or_was_switched_off_leaves_the_scan_to_the_clean_step(
    world, monkeypatch
):
    world.cycle()
    # The send-up's Workflow Option off: the Disable Triggers option alone does not say it.
    WorkflowOption.objects.create(step="UpdateToSalesWings", enabled=False)
    world.sf.edit(world.ids["ada_contact"], Email="someone-else@example.com")
    mark = len(world.sf.statements)
    world.cycle()
    assert held(world.sf.get(world.ids["ada_contact"])) == CLEARED
    assert clean_scans(world.sf, mark)

    # The send-up on but failing (the backend refuses the changes): the Clean step scans.
    WorkflowOption.objects.filter(step="UpdateToSalesWings").update(enabled=True)
    monkeypatch.setattr(
        world.sw, "send_changes", lambda records: (_ for _ in ()).throw(RuntimeError("down"))
    )
    world.sf.edit(world.ids["bob_contact"], Email="bob-elsewhere@example.com")
    mark = len(world.sf.statements)
    cycle = world.cycle()
    assert cycle.step("UpdateToSalesWings")["status"] != "Completed"
    assert held(world.sf.get(world.ids["bob_contact"])) == CLEARED
    assert clean_scans(world.sf, mark)


def test_records_stamped_before_the_send_up_noted_candidates_are_still_scanned(world):
    # An installation upgraded to send-up noting: its send-up watermark had moved past
    # records it never checked for cleaning. The Clean scan covers them once, then relies on
    # the send-up.
    world.cycle()
    SyncCursor.put("sendup:Contact:noted", "2099-01-01T00:00:00.000+0000")
    mark = len(world.sf.statements)
    world.cycle()
    assert [s for s in clean_scans(world.sf, mark) if "FROM Contact" in s]

    SyncCursor.put("sendup:Contact:noted", "2000-01-01T00:00:00.000+0000")
    mark = len(world.sf.statements)
    world.cycle()
    assert clean_scans(world.sf, mark) == []


def test_a_record_that_cannot_be_cleaned_keeps_its_prospect_until_it_is(world):
    world.sf.rules.append(
        lambda obj, r: "locked by rule" if obj == "Lead" and r["LastName"] == "L" else None
    )
    cycle = world.cycle()

    assert cycle.step("CleanLeads")["status"] == StepStatus.PARTIALLY_COMPLETED
    merged = Prospect.objects.get(backend_id="p_merged")
    assert merged.lead_clean_pending
    assert world.sf.get(world.ids["merged_lead"])["SW_Prospect_Id__c"] == "p_merged"

    world.sf.rules.clear()
    cycle = world.cycle()

    assert cycle.status == CycleStatus.COMPLETED
    assert held(world.sf.get(world.ids["merged_lead"])) == CLEARED
    assert not Prospect.objects.filter(backend_id="p_merged").exists()


def test_other_records_lose_aggregates_when_account_aggregation_is_off(world):
    world.cycle()

    globex = world.sf.get(world.ids["globex"])
    assert globex["SW_Tags__c"] is None and globex["SW_Temperature__c"] is None
    opp = world.sf.get(world.ids["globex_opp"])
    assert {f: opp[f] for f in OPP_FIELDS} == dict.fromkeys(OPP_FIELDS)


def set_aggregation(on):
    options = StudioOptions.load()
    options.account_aggregation = options.opportunity_tags = options.opportunity_scores = on
    options.save()


def other_statements(world, mark):
    return [
        s for s in world.sf.statements[mark:] if " FROM Account" in s or "FROM Opportunity" in s
    ]


def test_other_records_never_filter_on_the_long_text_tags(world):
    # SW_Tags__c is a Long Text Area: a real org refuses it in WHERE (INVALID_FIELD); the
    # fake parses with the stand-in's parser, which refuses it too.
    world.cycle()

    for statement in other_statements(world, 0):
        where = statement.partition(" WHERE ")[2]
        assert "SW_Tags__c" not in where, statement


def test_legacy_data_is_swept_once_then_only_the_ledger_is_read(world):
    world.cycle()  # aggregation off: the one-time sweep clears Globex's stale aggregates
    assert held_fields(world, "globex") == {"SW_Tags__c": None, "SW_Temperature__c": None}
    assert SyncCursor.get("clean-other:Account:aggregates:swept", None) == "done"
    assert not HeldRecord.objects.exists()
    # Data put there afterwards by someone else is not the sync's: no further sweep reads it.
    world.sf.edit(world.ids["initech"], SW_Tags__c="Hand made")
    mark = len(world.sf.statements)

    cycle = world.cycle()

    assert other_statements(world, mark) == []
    assert cycle.step("CleanOtherRecords")["examined"] == 0
    assert world.sf.get(world.ids["initech"])["SW_Tags__c"] == "Hand made"


def held_fields(world, key):
    record = world.sf.get(world.ids[key])
    return {f: record[f] for f in ("SW_Tags__c", "SW_Temperature__c")}


def test_turning_aggregation_off_clears_exactly_the_records_the_sync_wrote(world):
    set_aggregation(True)
    world.cycle()
    acme = world.ids["acme"]
    assert world.sf.get(acme)["SW_Tags__c"]  # Ada's contact is at Acme
    noted = set(HeldRecord.objects.values_list("object", "part", "salesforce_id"))
    assert ("Account", "aggregates", acme) in noted
    assert ("Opportunity", "tags", world.ids["acme_opp"]) in noted
    assert ("Opportunity", "scores", world.ids["acme_opp"]) in noted
    assert all(rid != world.ids["initech"] for _, _, rid in noted)  # nothing written there

    set_aggregation(False)
    mark = len(world.sf.statements)
    cycle = world.cycle()

    assert held_fields(world, "acme") == {"SW_Tags__c": None, "SW_Temperature__c": None}
    opp = world.sf.get(world.ids["acme_opp"])
    assert {f: opp[f] for f in OPP_FIELDS} == dict.fromkeys(OPP_FIELDS)
    assert cycle.step("CleanOtherRecords")["examined"] == len(noted)
    assert not HeldRecord.objects.exists()  # forgotten once cleared
    # The first cycle ran with the options on: each part is swept now, once, and the next
    # cycle reads nothing.
    swept = other_statements(world, mark)
    assert len(swept) == 3, swept  # Account, Opportunity tags, Opportunity scores
    mark = len(world.sf.statements)
    world.cycle()
    assert other_statements(world, mark) == []


def test_a_held_record_that_fails_to_clear_is_kept_and_tried_again(world):
    set_aggregation(True)
    world.cycle()
    set_aggregation(False)
    acme = world.ids["acme"]
    world.sf.rules.append(lambda obj, record: "locked" if record["Id"] == acme else None)

    cycle = world.cycle()

    assert cycle.step("CleanOtherRecords")["status"] == StepStatus.PARTIALLY_COMPLETED
    assert list(HeldRecord.objects.values_list("salesforce_id", flat=True)) == [acme]
    world.sf.rules.clear()
    world.cycle()
    assert not HeldRecord.objects.exists()
    assert world.sf.get(acme)["SW_Tags__c"] is None


def test_with_aggregation_on_other_records_are_left_to_the_aggregate_steps(world):
    options = StudioOptions.load()
    options.account_aggregation = True
    options.opportunity_tags = True
    options.save()

    cycle = world.cycle()

    assert cycle.step("CleanOtherRecords")["examined"] == 0
