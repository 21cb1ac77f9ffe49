"""The org check (syncapp/engine/org_check.py), its preflight and `manage.py checkorg`, against
an org at the network seam whose describes a test changes (tests/org/describedorg.py)."""

import io

import pytest
from django.core.management import call_command

from syncapp.engine import clients, control, org_check, preflight
from syncapp.engine.cycle import start_cycle
from syncapp.models import OrgCheck, StudioOptions, SWApexJob
from syncapp.models.statuses import CycleStatus, Trigger
from tests.factories import FieldMappingFactory, ScoreDefinitionFactory
from tests.org.describedorg import USERNAME, DescribedOrg, unreachable

pytestmark = pytest.mark.django_db

SCORES = (("engagement", "SW_Engagement_Score__c"), ("fit", "SW_Fit_Score__c"))


@pytest.fixture
def org(monkeypatch):
    fake = DescribedOrg()
    monkeypatch.setattr(clients, "salesforce", lambda: fake)
    monkeypatch.setattr(clients, "salesforce_check", lambda timeout=None: fake)
    return fake


@pytest.fixture
def mapped(db):
    """The sandbox's score mappings: both scores on every object."""
    for score, field in SCORES:
        definition = ScoreDefinitionFactory(backend_id=score, name=score.title())
        for obj in ("Lead", "Contact", "Account", "Opportunity"):
            FieldMappingFactory(score=definition, object=obj, field=field)


def _options(**values):
    options = StudioOptions.load()
    for name, value in values.items():
        setattr(options, name, value)
    options.save()


def _gaps(row):
    return {(f["object"], f["field"]): f for f in row.blocking}


def _warnings(row):
    return {(f["object"], f["field"]): f for f in row.warnings}


def _checkorg(*args):
    out = io.StringIO()
    try:
        call_command("checkorg", *args, stdout=out)
    except SystemExit as exc:
        return exc.code, out.getvalue()
    return 0, out.getvalue()


# --- what the check finds ---------------------------------------------------------------------


def test_an_org_with_every_field_passes(org, mapped):
    _options(activity_sync=True)
    row = org_check.run(OrgCheck.Source.COMMAND)
    assert row.status == OrgCheck.Status.PASSED
    assert row.findings == []
    assert row.facts["api_version"] == "59.0"
    assert row.facts["versions"] == {"oldest": "57.0", "newest": "62.0"}
    assert row.facts["daily_api"] == {"max": 100000, "remaining": 99000}
    assert row.facts["user"]["username"] == USERNAME
    assert row.finished_at is not None and row.fingerprint


def test_a_bare_org_lists_every_missing_field_with_the_deploy_fix(org, mapped):
    _options(activity_sync=True)
    org.bare()
    row = org_check.run(OrgCheck.Source.COMMAND)
    assert row.status == OrgCheck.Status.GAPS
    expected = {
        (r.obj, r.field or "")
        for r in org_check.current_requirements()
        if r.custom and (r.field is None or r.obj != "SW_Activity__c")
    }
    # The activity object is reported once, not once per field of it.
    assert set(_gaps(row)) == expected
    assert ("SW_Activity__c", "") in expected and ("Lead", "SW_Tags__c") in expected
    tags = _gaps(row)[("Lead", "SW_Tags__c")]
    assert org_check.finding_line(tags) == (
        "Lead.SW_Tags__c: missing, or not readable by the integration user. Fix: deploy org/ "
        "(`cd org && sf project deploy start --source-dir force-app --target-org <org>`), then "
        "assign the permission set SW_Studio_Integration to integration@acme.example (`sf org "
        "assign permset --name SW_Studio_Integration --on-behalf-of integration@acme.example "
        "--target-org <org>`)."
    )


def test_a_read_only_field_is_a_gap_whose_fix_is_the_permission_set(org, mapped):
    org.change("Contact", "SW_Favorite__c", updateable=False)
    row = org_check.run(OrgCheck.Source.COMMAND)
    assert list(_gaps(row)) == [("Contact", "SW_Favorite__c")]
    line = org_check.finding_line(row.blocking[0])
    assert line.startswith("Contact.SW_Favorite__c: not editable by the integration user. Fix: ")
    assert "assign the permission set SW_Studio_Integration to integration@acme.example" in line


def test_a_field_hidden_by_field_level_security_is_missing_for_the_check(org, mapped):
    org.drop("Lead", "Email")  # a standard field the user cannot read is not described
    row = org_check.run(OrgCheck.Source.COMMAND)
    assert list(_gaps(row)) == [("Lead", "Email")]
    assert "give integration@acme.example read access to it" in row.blocking[0]["fix"]


def test_a_field_of_another_type_is_a_gap(org, mapped):
    org.change("Lead", "SW_Last_Visit__c", type="string")
    row = org_check.run(OrgCheck.Source.COMMAND)
    assert _gaps(row)[("Lead", "SW_Last_Visit__c")]["problem"] == (
        "a string field; the sync needs datetime"
    )


def test_a_field_mapping_target_is_checked(org, mapped):
    definition = ScoreDefinitionFactory(backend_id="intent", name="Intent")
    FieldMappingFactory(score=definition, object="Lead", field="Intent_Score__c")
    FieldMappingFactory(score=definition, object="Contact", field="Intent_Text__c")
    org.add("Contact", "Intent_Text__c", "string")
    gaps = _gaps(org_check.run(OrgCheck.Source.COMMAND))
    assert set(gaps) == {("Lead", "Intent_Score__c"), ("Contact", "Intent_Text__c")}
    missing = gaps[("Lead", "Intent_Score__c")]
    assert "or point the Field Mapping at a field the org has" in missing["fix"]
    assert gaps[("Contact", "Intent_Text__c")]["fix"] == "point the Field Mapping at a number field"


def test_the_upsert_key_must_be_an_external_id(org, mapped):
    org.change("SW_Activity__c", "SW_Activity_Id__c", externalId=False, unique=False)
    _options(activity_sync=True)
    gaps = _gaps(org_check.run(OrgCheck.Source.COMMAND))
    key = gaps[("SW_Activity__c", "SW_Activity_Id__c")]
    assert "Salesforce refuses an upsert" in key["problem"]
    # With Activity Sync off the same gap is a warning: no cycle upserts activities.
    _options(activity_sync=False)
    row = org_check.run(OrgCheck.Source.COMMAND)
    assert row.status == OrgCheck.Status.PASSED
    warning = _warnings(row)[("SW_Activity__c", "SW_Activity_Id__c")]
    assert warning["problem"].endswith("(needed with Activity Sync (off now))")


def test_a_prospect_id_that_is_not_an_external_id_is_a_warning(org, mapped):
    # The sync updates Leads and Contacts by Id; it only filters by the prospect id.
    org.change("Lead", "SW_Prospect_Id__c", externalId=False)
    row = org_check.run(OrgCheck.Source.COMMAND)
    assert row.status == OrgCheck.Status.PASSED
    assert "indexes External Ids only" in _warnings(row)[("Lead", "SW_Prospect_Id__c")]["problem"]


def test_a_shorter_text_field_is_a_warning(org, mapped):
    org.change("Contact", "SW_Tags__c", type="string", length=255)
    row = org_check.run(OrgCheck.Source.COMMAND)
    assert row.status == OrgCheck.Status.PASSED
    assert _warnings(row)[("Contact", "SW_Tags__c")]["fix"] == "raise its length to 131072"


def test_an_api_version_the_org_does_not_serve(org, mapped):
    org.served = ["60.0", "61.0", "62.0"]
    row = org_check.run(OrgCheck.Source.COMMAND)
    assert row.status == OrgCheck.Status.GAPS
    assert org_check.finding_line(row.blocking[0]) == (
        "the org does not serve API version 59.0 (it serves 60.0 to 62.0). "
        "Fix: set SALESFORCE_API_VERSION to 62.0."
    )
    assert not [call for call in org.log if call[0] == "describe"]


def test_daily_calls_below_the_reserve_are_a_warning(org, mapped):
    _options(api_call_reserve=5000)
    org.daily_used = 97000
    row = org_check.run(OrgCheck.Source.COMMAND)
    assert row.status == OrgCheck.Status.PASSED
    assert (
        "3000 daily API calls left, below Studio Options' reserve of 5000"
        in (row.warnings[0]["problem"])
    )


def test_the_integration_users_profile_and_role(org, mapped):
    org.with_profile("SW Integration", "Operations")
    row = org_check.run(OrgCheck.Source.COMMAND)
    assert row.facts["user"]["profile"] == "SW Integration"
    assert row.facts["user"]["role"] == "Operations"
    query = [arg for call, arg in org.log if call == "query"]
    assert query == ["SELECT Profile.Name, UserRole.Name FROM User WHERE Id = '005000000000001AAA'"]


def test_an_org_that_does_not_answer_is_kept_as_unreachable(org, mapped):
    org.down = unreachable()
    row = org_check.run(OrgCheck.Source.COMMAND)
    assert row.status == OrgCheck.Status.UNREACHABLE
    assert "ConnectTimeout" in row.error
    assert org.log == [("identity", None)]  # one call, no retry


def test_only_the_newest_results_are_kept(org, mapped):
    for _ in range(25):
        org_check.run(OrgCheck.Source.COMMAND)
    assert OrgCheck.objects.count() == 20


# --- the preflight ------------------------------------------------------------------------


def test_a_cycle_does_not_start_while_a_field_is_missing_and_its_record_names_them(
    org, mapped, admin_user, job_queue, settings
):
    settings.SWSTUDIO_PREFLIGHT = ["syncapp.engine.preflight.org_ready"]
    org.drop("Lead", "SW_Tags__c")
    org.change("Contact", "SW_Favorite__c", updateable=False)
    control.turn_on(admin_user)
    cycle = start_cycle(Trigger.RUNNER)
    assert cycle.status == CycleStatus.FAILED
    assert cycle.note.startswith("Not started: the org is not ready for the sync (2 gap(s)): ")
    assert "Lead.SW_Tags__c: missing, or not readable by the integration user" in cycle.note
    assert "Contact.SW_Favorite__c: not editable by the integration user" in cycle.note
    assert job_queue.ids == []
    kept = org_check.last()
    assert kept.source == OrgCheck.Source.PREFLIGHT and kept.status == OrgCheck.Status.GAPS

    # The fields deployed and opened: the next cycle checks again by itself, and runs.
    org.__init__()
    cycle = start_cycle(Trigger.RUNNER)
    assert cycle.status != CycleStatus.FAILED and job_queue.ids
    assert org_check.last().status == OrgCheck.Status.PASSED


def test_a_recent_passing_result_answers_without_a_call(org, mapped, settings):
    org_check.run(OrgCheck.Source.COMMAND)
    org.log.clear()
    org.drop("Lead", "SW_Tags__c")  # not seen: the kept result vouches for the org
    assert preflight.org_ready() is None
    assert org.log == []

    settings.SWSTUDIO_ORG_CHECK_MAX_AGE = 0  # too old now: checked again
    assert "Lead.SW_Tags__c" in preflight.org_ready()
    assert org.log


def test_changed_requirements_are_checked_again(org, mapped):
    org.objects.pop("SW_Activity__c")
    org_check.run(OrgCheck.Source.COMMAND)  # passes: Activity Sync is off
    assert org_check.last().status == OrgCheck.Status.PASSED
    _options(activity_sync=True)
    assert "SW_Activity__c: the object is missing" in preflight.org_ready()


def test_an_unreachable_org_does_not_start_a_cycle(org, mapped):
    org.down = unreachable()
    assert preflight.org_ready().startswith("could not check the org: Salesforce login")


def test_the_default_settings_run_both_preflights():
    from swstudio_site import settings as site_settings

    assert site_settings.SWSTUDIO_PREFLIGHT == [
        "syncapp.engine.preflight.api_reserve",
        "syncapp.engine.preflight.org_ready",
    ]
    assert site_settings.SWSTUDIO_ORG_CHECK_MAX_AGE == 3600


# --- manage.py checkorg --------------------------------------------------------------------


def test_checkorg_on_a_ready_org(org, mapped):
    org.with_profile("SW Integration", "Operations")
    code, out = _checkorg()
    assert code == 0
    assert out.splitlines() == [
        "Org 00D000000000001 at https://acme.my.salesforce.com",
        f"Integration user: {USERNAME} (profile SW Integration, role Operations)",
        "API version: 59.0 (the org serves 57.0 to 62.0)",
        "Daily API calls left: 99000 of 100000",
        "Ready: every object and field the sync uses is there and editable.",
    ]
    assert OrgCheck.objects.get().source == OrgCheck.Source.COMMAND


def test_checkorg_prints_one_line_per_gap_and_exits_1(org, mapped):
    org.drop("Opportunity", "SW_Tags__c")
    org.change("Lead", "SW_Prospect_Id__c", externalId=False)
    code, out = _checkorg()
    assert code == 1
    lines = out.splitlines()
    assert [line for line in lines if line.startswith("GAP ")] == [
        "GAP Opportunity.SW_Tags__c: missing, or not readable by the integration user. Fix: "
        "deploy org/ (`cd org && sf project deploy start --source-dir force-app --target-org "
        "<org>`), then assign the permission set SW_Studio_Integration to "
        "integration@acme.example (`sf org assign permset --name SW_Studio_Integration "
        "--on-behalf-of integration@acme.example --target-org <org>`)."
    ]
    assert [line[:40] for line in lines if line.startswith("WARN")] == [
        "WARN Lead.SW_Prospect_Id__c: not an Exte"
    ]
    assert lines[-1] == "Not ready: 1 gap(s) keep cycles from starting."


def test_checkorg_json(org, mapped):
    import json

    org.drop("Lead", "SW_Tags__c")
    code, out = _checkorg("--json")
    assert code == 1
    data = json.loads(out)
    assert data["status"] == "Gaps"
    assert [(f["object"], f["field"]) for f in data["findings"]] == [("Lead", "SW_Tags__c")]


def test_checkorg_on_an_org_that_does_not_answer_exits_2(org, mapped):
    org.down = unreachable()
    code, out = _checkorg()
    assert code == 2
    assert out.startswith("Could not check the org: Salesforce login: ConnectTimeout")


def test_checkorg_refuses_a_timeout_of_zero(org):
    from django.core.management import CommandError

    with pytest.raises(CommandError, match="--timeout"):
        call_command("checkorg", "--timeout", "0")


def test_no_cycle_record_is_written_by_the_check(org, mapped):
    org_check.run(OrgCheck.Source.COMMAND)
    assert not SWApexJob.objects.exists()
