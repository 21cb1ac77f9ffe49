"""CleanLeads, CleanContacts, CleanOtherRecords, CleanProspects."""

import pytest

from syncapp.engine.statuses import CycleStatus, StepStatus
from syncapp.models import Prospect, StudioOptions
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


def test_with_aggregation_on_other_records_are_left_to_the_aggregate_steps(world):
    options = StudioOptions.load()
    options.account_aggregation = True
    options.opportunity_tags = True
    options.save()

    cycle = world.cycle()

    assert cycle.step("CleanOtherRecords")["examined"] == 0
