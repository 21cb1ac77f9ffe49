"""Cycles over HTTP against the org stand-in's stricter rules (Salesforce's): long text areas,
field-level security, queue-owned Leads, a bare org."""

import pytest

from sandbox import runtime
from sandbox.models import SfLead, SwProspect, SwReceived
from sandbox.schema import saleswings_metadata
from syncapp.engine import org_check
from syncapp.models import HeldRecord, OrgCheck, StudioOptions
from syncapp.models.statuses import CycleStatus, StepStatus
from syncapp.salesforce import get_client
from tests.integration.test_sync_sandbox import live  # noqa: F401 (the fixture)
from tests.steps.expect import ACCOUNT_FIELDS, OPP_FIELDS

pytestmark = [pytest.mark.real_clients, pytest.mark.integration]


def org_settings(**changes):
    cfg = runtime.load_settings()
    for name, value in changes.items():
        setattr(cfg, name, value)
    cfg.full_clean()
    cfg.save()


def errors_of(cycle, step):
    return " ".join(cycle.step(step)["errors"])


def test_turning_aggregation_off_clears_what_the_sync_wrote_without_filtering_long_text(live):  # noqa: F811
    cycle = live()
    assert cycle.status == CycleStatus.COMPLETED, cycle.steps
    sf = get_client()
    fields = ", ".join(dict.fromkeys(["Id", *ACCOUNT_FIELDS]))
    accounts = list(sf.query(f"SELECT {fields} FROM Account"))
    assert any(a["SW_Tags__c"] for a in accounts), "the aggregation wrote nothing"
    assert HeldRecord.objects.filter(object="Account").exists()
    options = StudioOptions.load()
    options.account_aggregation = False
    options.save()

    cycle = live()

    # The org refuses a WHERE on SW_Tags__c (INVALID_FIELD): the step would have failed.
    assert cycle.step("CleanOtherRecords")["status"] == StepStatus.COMPLETED, cycle.steps
    assert cycle.status == CycleStatus.COMPLETED
    for account in sf.query(f"SELECT {fields} FROM Account"):
        assert all(account[f] is None for f in ACCOUNT_FIELDS), account
    opp_fields = ", ".join(dict.fromkeys(["Id", *OPP_FIELDS]))
    for opp in sf.query(f"SELECT {opp_fields} FROM Opportunity"):
        assert all(opp[f] is None for f in OPP_FIELDS), opp
    assert not HeldRecord.objects.exists()


def test_a_field_made_read_only_by_field_level_security_is_reported(live):  # noqa: F811
    org_settings(field_security={"Lead.SW_Temperature__c": "read"})

    cycle = live()

    step = cycle.step("MatchProspectsToLeads")
    assert step["status"] == StepStatus.PARTIALLY_COMPLETED, step
    assert step["failed"] > 0
    assert "INVALID_FIELD_FOR_INSERT_UPDATE" in errors_of(cycle, "MatchProspectsToLeads")
    assert "SW_Temperature__c" in errors_of(cycle, "MatchProspectsToLeads")
    # The Contacts side is not affected.
    assert cycle.step("MatchProspectsToContacts")["status"] == StepStatus.COMPLETED

    org_settings(field_security={})
    cycle = live()
    assert cycle.step("MatchProspectsToLeads")["status"] == StepStatus.COMPLETED, cycle.steps


def test_a_queue_owned_lead_is_sent_up_without_an_owner_email(live):  # noqa: F811
    live()
    live()  # the send-up's baseline
    sf = get_client()
    queue = next(iter(sf.query("SELECT Id FROM Group WHERE Type = 'Queue'")))["Id"]
    lead = next(
        iter(
            sf.query("SELECT Id FROM Lead WHERE SW_Prospect_Id__c != null AND IsConverted = false")
        )
    )
    (result,) = sf.update("Lead", [{"Id": lead["Id"], "OwnerId": queue, "FirstName": "Q"}])
    assert result.success, result.message
    assert SfLead.objects.get(owner_id=queue, first_name="Q")

    cycle = live()

    assert cycle.step("UpdateToSalesWings")["status"] == StepStatus.COMPLETED, cycle.steps
    sent = [
        c
        for r in SwReceived.objects.filter(kind="change")
        for c in (r.body.get("records", [r.body]) if isinstance(r.body, dict) else r.body)
    ]
    [change] = [c for c in sent if c["salesforceId"] == lead["Id"]]
    assert change["firstName"] == "Q"
    assert change["ownerEmail"] is None  # a queue has no e-mail of a User


def test_a_cycle_against_a_bare_org_fails_clearly(live):  # noqa: F811
    org_settings(missing_metadata=saleswings_metadata())
    assert SwProspect.objects.exists()

    cycle = live()

    # Until an org check refuses to start (a preflight), each step that reads the org fails
    # with the org's own words, not silently.
    assert cycle.status != CycleStatus.COMPLETED
    for name in ("UpdateToSalesWings", "MatchProspectsToLeads", "MatchProspectsToContacts"):
        step = cycle.step(name)
        assert step["status"] == StepStatus.FAILED, step
        assert "HTTP 400 INVALID_FIELD" in errors_of(cycle, name)
    assert "No such column 'SW_Favorite__c'" in errors_of(cycle, "UpdateToSalesWings")


def test_a_bare_org_is_checked_refused_and_synced_once_the_fields_are_deployed(live, settings):  # noqa: F811
    """The whole path of an org without the package's metadata: the org check lists every
    missing field, the preflight refuses the cycle naming them, and once the fields are
    deployed (in the stand-in: no longer missing) the next cycle runs."""
    settings.SWSTUDIO_PREFLIGHT = ["syncapp.engine.preflight.org_ready"]
    org_settings(missing_metadata=saleswings_metadata())

    row = org_check.run(OrgCheck.Source.COMMAND)
    assert row.status == OrgCheck.Status.GAPS
    missing = {(f["object"], f["field"]) for f in row.blocking}
    required = {
        (r.obj, r.field)
        for r in org_check.current_requirements()
        if r.custom and r.obj in ("Lead", "Contact", "Account", "Opportunity")
    }
    assert required and required <= missing

    cycle = live()
    assert cycle.status == CycleStatus.FAILED
    assert "Lead.SW_Tags__c" in cycle.note and "Contact.SW_Prospect_Id__c" in cycle.note
    assert all(step["status"] != StepStatus.COMPLETED for step in cycle.steps)

    org_settings(missing_metadata=[])
    cycle = live()
    assert cycle.status == CycleStatus.COMPLETED, cycle.note
